import { collectDefaultMetrics, Registry, type Metric, type OpenMetricsContentType, type RegistryContentType } from 'prom-client';
import { DURATION_BUCKETS, type RequestMetrics } from './request-metrics.ts';

export const REQUESTS_TOTAL = 'http_requests_total';
export const REQUEST_DURATION = 'http_request_duration_seconds';

/**
 * prom-client formats what a metric's `get()` returns; these views hand it our plain numbers at
 * scrape time, so the hot path never touches prom-client.
 */
interface MetricSnapshot {
  name: string;
  help: string;
  type: 'counter' | 'histogram';
  aggregator: 'sum';
  values: { value: number; labels: Record<string, string | number>; metricName?: string }[];
}

abstract class SnapshotView {
  abstract readonly type: MetricSnapshot['type'];
  readonly aggregator = 'sum' as const;
  name: string;
  readonly help: string;
  protected readonly source: RequestMetrics;

  constructor(name: string, help: string, source: RequestMetrics) {
    this.name = name;
    this.help = help;
    this.source = source;
  }

  protected abstract values(): MetricSnapshot['values'];

  get(): MetricSnapshot {
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values: this.values() };
  }

  /** Counters are monotonic for the life of the process; Registry.resetMetrics() must not zero them. */
  reset(): void {}
}

class RequestCounterView extends SnapshotView {
  readonly type = 'counter' as const;

  protected values(): MetricSnapshot['values'] {
    return this.source.series().map((series) => ({ value: series.count, labels: { ...series.labels } }));
  }
}

class DurationHistogramView extends SnapshotView {
  readonly type = 'histogram' as const;

  protected values(): MetricSnapshot['values'] {
    const out: MetricSnapshot['values'] = [];
    for (const series of this.source.series()) {
      let cumulative = 0;
      for (let i = 0; i <= DURATION_BUCKETS.length; i += 1) {
        cumulative += series.bucketCounts[i]!;
        const le = i < DURATION_BUCKETS.length ? DURATION_BUCKETS[i]! : '+Inf';
        out.push({ metricName: `${this.name}_bucket`, labels: { ...series.labels, le }, value: cumulative });
      }
      out.push({ metricName: `${this.name}_sum`, labels: { ...series.labels }, value: series.sum });
      out.push({ metricName: `${this.name}_count`, labels: { ...series.labels }, value: series.count });
    }
    return out;
  }
}

const MISNAMED_DEFAULT_GAUGES = ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total'];

export interface MetricsRegistries {
  text: Registry;
  openMetrics: Registry<OpenMetricsContentType>;
}

/**
 * One registry per exposition format. prom-client renames counters in place while rendering
 * OpenMetrics (`x_total` becomes `x`), which would make every later text scrape lose `_total`
 * (design notes §6). Separate registries with separate metric objects keep both formats exact.
 */
export function createRegistries(source: RequestMetrics): MetricsRegistries {
  const text = new Registry();
  const openMetrics = new Registry<OpenMetricsContentType>();
  openMetrics.setContentType(Registry.OPENMETRICS_CONTENT_TYPE);
  const counterHelp = 'HTTP requests served, by method, route template and status code.';
  const durationHelp = 'HTTP request duration in seconds, by method, route template and status code.';
  register(text, new RequestCounterView(REQUESTS_TOTAL, counterHelp, source));
  // OpenMetrics names the counter family without `_total`; prom-client appends it to each sample.
  register(openMetrics, new RequestCounterView(REQUESTS_TOTAL.replace(/_total$/, ''), counterHelp, source));
  for (const registry of [text, openMetrics]) {
    register(registry, new DurationHistogramView(REQUEST_DURATION, durationHelp, source));
    collectDefaultMetrics({ register: registry });
    // Gauges named *_total break the naming rules promtool enforces; the per-type gauges
    // (nodejs_active_handles{type=…} and friends) carry the same information.
    for (const name of MISNAMED_DEFAULT_GAUGES) registry.removeSingleMetric(name);
  }
  return { text, openMetrics };
}

function register(registry: Registry<RegistryContentType>, view: SnapshotView): void {
  // The views implement the shape Registry reads (name, help, type, get, reset); prom-client's
  // TypeScript types only name its own classes.
  registry.registerMetric(view as unknown as Metric);
}

/** Picks the format the scraper asked for: OpenMetrics only when the Accept header names it. */
export function negotiate(registries: MetricsRegistries, accept: string | undefined): Registry<RegistryContentType> {
  return accept?.includes('application/openmetrics-text') ? registries.openMetrics : registries.text;
}
