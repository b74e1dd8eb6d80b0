/**
 * Request counters and latency histograms kept as plain numbers on the hot path.
 *
 * prom-client re-hashes the label set on every `inc()`/`observe()`, even through a cached child
 * (design notes §5: 0.70–0.90× bare Fastify). Here each route owns its series objects, the request
 * path does one array lookup and a few additions, and prom-client only reads the numbers when
 * Prometheus scrapes (see `exposition.ts`).
 */

/** Seconds. From sub-millisecond hello responses up to the 10 s ceiling of /api/delay. */
export const DURATION_BUCKETS: readonly number[] = [
  0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
];

/** The `path` label of requests that matched no route: one value, so random URLs add no series. */
export const UNMATCHED_PATH = 'unmatched';

/** Methods outside this set are counted as OTHER, so odd methods cannot add series either. */
const KNOWN_METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);
const OTHER_METHOD = 'OTHER';

export interface SeriesLabels {
  method: string;
  path: string;
  code: string;
}

/** Label values escape backslash, double quote and newline in both exposition formats. */
export function escapeLabel(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

export class Series {
  count = 0;
  sum = 0;
  /** Non-cumulative: bucketCounts[i] counts observations in (bound[i-1], bound[i]]; last is +Inf. */
  readonly bucketCounts = new Float64Array(DURATION_BUCKETS.length + 1);
  readonly labels: SeriesLabels;
  /** `method="GET",path="/x",code="200"`, escaped once for every scrape to reuse. */
  readonly labelText: string;

  constructor(labels: SeriesLabels) {
    this.labels = labels;
    this.labelText = `method="${escapeLabel(labels.method)}",path="${escapeLabel(labels.path)}",code="${escapeLabel(labels.code)}"`;
  }

  observe(seconds: number): void {
    this.count += 1;
    this.sum += seconds;
    let i = 0;
    while (i < DURATION_BUCKETS.length && seconds > DURATION_BUCKETS[i]!) i += 1;
    this.bucketCounts[i]! += 1;
  }
}

interface MethodTable {
  label: string;
  /** Indexed by status code: a sparse array lookup is cheaper than hashing a key. */
  byCode: (Series | undefined)[];
}

/** All series of one route template, found by method then status code without building strings. */
export class RouteSeries {
  readonly path: string;
  readonly #byMethod = new Map<string, MethodTable>();
  readonly #registry: Series[];

  constructor(path: string, registry: Series[]) {
    this.path = path;
    this.#registry = registry;
  }

  record(method: string, statusCode: number, seconds: number): void {
    const table = this.#byMethod.get(method) ?? this.#addMethod(method);
    let series = table.byCode[statusCode];
    if (series === undefined) {
      series = new Series({ method: table.label, path: this.path, code: String(statusCode) });
      table.byCode[statusCode] = series;
      this.#registry.push(series);
    }
    series.observe(seconds);
  }

  // Node's HTTP parser accepts a fixed list of methods, so this map is bounded; the label set is
  // bounded further by folding the rare ones into OTHER.
  #addMethod(method: string): MethodTable {
    const label = KNOWN_METHODS.has(method) ? method : OTHER_METHOD;
    const table = (label === method ? undefined : this.#byMethod.get(label)) ?? { label, byCode: [] };
    this.#byMethod.set(method, table);
    this.#byMethod.set(label, table);
    return table;
  }
}

export class RequestMetrics {
  readonly #all: Series[] = [];
  readonly #routes = new Map<string, RouteSeries>();
  readonly unmatched: RouteSeries = this.route(UNMATCHED_PATH);

  /** One RouteSeries per route template; called at route registration, not per request. */
  route(path: string): RouteSeries {
    let route = this.#routes.get(path);
    if (route === undefined) {
      route = new RouteSeries(path, this.#all);
      this.#routes.set(path, route);
    }
    return route;
  }

  series(): readonly Series[] {
    return this.#all;
  }
}
