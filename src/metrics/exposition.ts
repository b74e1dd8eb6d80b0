import { collectDefaultMetrics, Registry, type Counter, type Metric, type MetricObject, type OpenMetricsContentType } from 'prom-client';
import { DURATION_BUCKETS, type RequestMetrics, type Series } from './request-metrics.ts';

export const REQUESTS_TOTAL = 'http_requests_total';
export const REQUEST_DURATION = 'http_request_duration_seconds';
const REQUESTS_HELP = 'HTTP requests served, by method, route template and status code.';
const DURATION_HELP = 'HTTP request duration in seconds, by method, route template and status code.';

const MISNAMED_DEFAULT_GAUGES = ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total'];

export type Format = 'text' | 'openmetrics';

export interface Scrape {
  contentType: string;
  render(): Promise<string>;
}

export interface MetricsRegistries {
  text: Registry;
  openMetrics: Registry<OpenMetricsContentType>;
}

/**
 * Default process/runtime metrics come from prom-client, collected once and exposed through one
 * registry per format. The OpenMetrics registry must not hold the counters themselves: prom-client
 * renames counters in place while rendering OpenMetrics (`x_total` becomes `x`), which would make
 * every later text scrape lose `_total` (design notes §6). It gets a view of each counter with its
 * own name instead, and shares everything else.
 *
 * Collecting once matters on the request path: each collectDefaultMetrics() starts its own GC
 * observer and event-loop-delay monitor, and the second set cost ~2.5 % of a hello request's CPU
 * (measured with the metrics of one registry vs two, same run).
 */
export function createRegistries(): MetricsRegistries {
  const text = new Registry();
  collectDefaultMetrics({ register: text });
  // Gauges named *_total break the naming rules promtool enforces; the per-type gauges
  // (nodejs_active_handles{type=…} and friends) carry the same information.
  for (const name of MISNAMED_DEFAULT_GAUGES) text.removeSingleMetric(name);
  const openMetrics = new Registry<OpenMetricsContentType>();
  openMetrics.setContentType(Registry.OPENMETRICS_CONTENT_TYPE);
  for (const metric of text.getMetricsAsArray()) {
    openMetrics.registerMetric((String(metric.type) === 'counter' ? counterView(metric) : metric) as unknown as Metric);
  }
  return { text, openMetrics };
}

/** What a registry needs of a counter, under the OpenMetrics family name (without `_total`). */
function counterView(counter: MetricObject): MetricObject & Pick<Counter, 'get'> {
  const name = counter.name.replace(/_total$/, '');
  return {
    name,
    help: counter.help,
    type: counter.type,
    aggregator: counter.aggregator,
    collect: counter.collect,
    get: async () => ({ ...(await (counter as unknown as Counter).get()), name }),
  };
}

const BUCKET_LABELS = [...DURATION_BUCKETS.map(String), '+Inf'];

/**
 * The request counter and histogram, written straight from the per-route numbers with each
 * series' label text built once. Going through prom-client's generic formatter cost 5.5 ms for
 * 200 label sets (an object and a label escape per bucket line); this is a string join.
 */
function renderRequestFamilies(series: readonly Series[], format: Format): string {
  const counterFamily = format === 'openmetrics' ? REQUESTS_TOTAL.replace(/_total$/, '') : REQUESTS_TOTAL;
  const lines = [`# HELP ${counterFamily} ${REQUESTS_HELP}`, `# TYPE ${counterFamily} counter`];
  for (const s of series) lines.push(`${REQUESTS_TOTAL}{${s.labelText}} ${s.count}`);
  lines.push(`# HELP ${REQUEST_DURATION} ${DURATION_HELP}`, `# TYPE ${REQUEST_DURATION} histogram`);
  for (const s of series) {
    let cumulative = 0;
    for (let i = 0; i < BUCKET_LABELS.length; i += 1) {
      cumulative += s.bucketCounts[i]!;
      lines.push(`${REQUEST_DURATION}_bucket{${s.labelText},le="${BUCKET_LABELS[i]}"} ${cumulative}`);
    }
    lines.push(`${REQUEST_DURATION}_sum{${s.labelText}} ${s.sum}`, `${REQUEST_DURATION}_count{${s.labelText}} ${s.count}`);
  }
  return `${lines.join('\n')}\n`;
}

/** Picks the format the scraper asked for: OpenMetrics only when the Accept header names it. */
export function negotiate(requests: RequestMetrics, registries: MetricsRegistries, accept: string | undefined): Scrape {
  if (accept?.includes('application/openmetrics-text')) {
    return {
      contentType: registries.openMetrics.contentType,
      // prom-client ends OpenMetrics with "# EOF", which must stay the very last line.
      render: async () => `${renderRequestFamilies(requests.series(), 'openmetrics')}${await registries.openMetrics.metrics()}`,
    };
  }
  return {
    contentType: registries.text.contentType,
    render: async () => `${renderRequestFamilies(requests.series(), 'text')}\n${await registries.text.metrics()}`,
  };
}
