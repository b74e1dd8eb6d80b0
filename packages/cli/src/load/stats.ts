import * as hdr from 'hdr-histogram-js';

export const STATUS_CLASSES = ['2xx', '3xx', '4xx', '5xx'] as const;
export const ERROR_KINDS = ['refused', 'reset', 'timeout', 'other'] as const;
export type StatusClass = (typeof STATUS_CLASSES)[number];
export type ErrorKind = (typeof ERROR_KINDS)[number];

export interface Percentiles {
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
}

/** What happened in one reporting interval (or, for the summary, the whole run). */
export interface Counts {
  /** Requests the schedule called for (sent + dropped). */
  offered: number;
  sent: number;
  /** Could not be sent at their due time because --max-in-flight requests were outstanding. */
  dropped: number;
  /** Responses received, whatever their status. */
  completed: number;
  status: Record<StatusClass, number>;
  errors: Record<ErrorKind, number>;
  /** Responses per serving pod (x-served-by). */
  pods: Record<string, number>;
}

export interface LatencyMs extends Percentiles {
  count: number;
  mean: number;
}

export function emptyCounts(): Counts {
  return {
    offered: 0,
    sent: 0,
    dropped: 0,
    completed: 0,
    status: { '2xx': 0, '3xx': 0, '4xx': 0, '5xx': 0 },
    errors: { refused: 0, reset: 0, timeout: 0, other: 0 },
    pods: {},
  };
}

/** Requests that did not succeed: 4xx/5xx, transport errors, timeouts and drops. */
export function failures(counts: Counts): number {
  return counts.status['4xx'] + counts.status['5xx'] + ERROR_KINDS.reduce((sum, kind) => sum + counts.errors[kind], 0) + counts.dropped;
}

/**
 * Latencies in an HDR histogram (microseconds, 3 significant digits, up to one hour): exact
 * percentiles at any rate with constant memory.
 */
export class LatencyHistogram {
  readonly #histogram = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 3_600_000_000, numberOfSignificantValueDigits: 3 });

  recordMs(ms: number): void {
    this.#histogram.recordValue(Math.max(1, Math.round(ms * 1000)));
  }

  get count(): number {
    return this.#histogram.totalCount;
  }

  summary(): LatencyMs {
    const h = this.#histogram;
    const at = (p: number) => (h.totalCount === 0 ? 0 : h.getValueAtPercentile(p) / 1000);
    return { count: h.totalCount, mean: h.totalCount === 0 ? 0 : h.mean / 1000, p50: at(50), p90: at(90), p99: at(99), p999: at(99.9), max: h.totalCount === 0 ? 0 : h.maxValue / 1000 };
  }

  reset(): void {
    this.#histogram.reset();
  }

  add(other: LatencyHistogram): void {
    this.#histogram.add(other.#histogram);
  }

  destroy(): void {
    this.#histogram.destroy();
  }
}
