import { EventEmitter } from 'node:events';
import { Pool } from 'undici';
import { classifyError } from './errors.ts';
import type { ArrivalSchedule } from './schedule.ts';
import { emptyCounts, failures, LatencyHistogram, type Counts, type LatencyMs, type StatusClass } from './stats.ts';

export interface Target {
  url: URL;
  /** url.pathname + url.search, computed once. */
  path?: string;
  method: string;
  headers: Record<string, string>;
  body?: string;
  weight: number;
}

export interface LoadOptions {
  targets: Target[];
  schedule: ArrivalSchedule;
  /** Requests outstanding at once; a request due while this many are outstanding is dropped. */
  maxInFlight: number;
  /** Connections per origin. */
  connections: number;
  /**
   * Close a connection after this many requests (0: never). Kubernetes Services balance
   * connections, not requests: without recycling, keep-alive connections stay on the pods that
   * existed when they opened, and pods added by a scale-up receive nothing.
   */
  maxRequestsPerConnection?: number;
  timeoutMs: number;
  intervalMs?: number;
  servedByHeader?: string;
}

export interface IntervalReport {
  /** Seconds since the start, at the end of this interval. */
  t: number;
  durationS: number;
  /** The schedule's arrival rate at the end of the interval. */
  targetRate: number;
  counts: Counts;
  latency: LatencyMs;
  inFlight: number;
}

export interface RunSummary {
  durationS: number;
  counts: Counts;
  latency: LatencyMs;
  offeredRate: number;
  achievedRate: number;
  errorRate: number;
  stoppedBy: 'completed' | 'interrupted';
}

const STATUS_CLASS: Record<number, StatusClass> = { 2: '2xx', 3: '3xx', 4: '4xx', 5: '5xx' };

/**
 * The open-model load engine. Requests leave at the times the arrival schedule dictates, whether
 * or not earlier ones have answered; latency is measured from each request's *due* time, so a
 * stalled server shows up in the percentiles instead of silently slowing the generator down
 * (no coordinated omission). Emits 'interval' with an IntervalReport every intervalMs.
 */
export class LoadRun extends EventEmitter<{ interval: [IntervalReport] }> {
  readonly #options: Required<LoadOptions>;
  readonly #servedByHeader: Buffer;
  readonly #pools = new Map<string, Pool>();
  readonly #cumulativeWeights: number[];
  readonly #totalWeight: number;
  readonly #interval = { counts: emptyCounts(), latency: new LatencyHistogram(), startedAt: 0 };
  readonly #total = { counts: emptyCounts(), latency: new LatencyHistogram() };
  #startedAt = 0;
  #next = 1;
  #inFlight = 0;
  #timer: NodeJS.Timeout | undefined;
  #intervalTimer: NodeJS.Timeout | undefined;
  #stoppedBy: RunSummary['stoppedBy'] = 'completed';
  #stoppedAtS: number | undefined;
  #schedulingDone!: () => void;
  #drained: (() => void) | undefined;

  constructor(options: LoadOptions) {
    super();
    if (options.targets.length === 0) throw new Error('no target URL');
    this.#options = { intervalMs: 1000, servedByHeader: 'x-served-by', maxRequestsPerConnection: 0, ...options };
    this.#servedByHeader = Buffer.from(this.#options.servedByHeader.toLowerCase());
    let sum = 0;
    this.#cumulativeWeights = options.targets.map((target) => (sum += target.weight));
    for (const target of options.targets) target.path = target.url.pathname + target.url.search;
    this.#totalWeight = sum;
    for (const target of options.targets) {
      if (!this.#pools.has(target.url.origin)) {
        const recycle = options.maxRequestsPerConnection ? { maxRequestsPerClient: options.maxRequestsPerConnection } : {};
        this.#pools.set(target.url.origin, new Pool(target.url.origin, { connections: options.connections, pipelining: 1, ...recycle }));
      }
    }
  }

  async run(): Promise<RunSummary> {
    this.#startedAt = performance.now();
    this.#interval.startedAt = this.#startedAt;
    const scheduled = new Promise<void>((resolve) => (this.#schedulingDone = resolve));
    this.#intervalTimer = setInterval(() => this.#emitInterval(), this.#options.intervalMs);
    this.#tick();
    await scheduled;
    // Every request carries its own timeout, so waiting for the outstanding ones is bounded.
    if (this.#inFlight > 0) await new Promise<void>((resolve) => (this.#drained = resolve));
    clearInterval(this.#intervalTimer);
    this.#emitInterval();
    await Promise.all([...this.#pools.values()].map((pool) => pool.close()));
    return this.#summary();
  }

  /** Stops scheduling new requests (Ctrl-C); run() resolves once the outstanding ones finish. */
  stop(): void {
    if (this.#timer === undefined) return;
    this.#stoppedBy = 'interrupted';
    this.#stoppedAtS = Math.max(0.001, (performance.now() - this.#startedAt) / 1000);
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#next = this.#options.schedule.totalRequests + 1;
    this.#schedulingDone();
  }

  #tick = (): void => {
    const schedule = this.#options.schedule;
    const elapsedS = (performance.now() - this.#startedAt) / 1000;
    while (this.#next <= schedule.totalRequests) {
      const dueS = schedule.dueTime(this.#next);
      if (dueS > elapsedS) break;
      this.#dispatch(this.#startedAt + dueS * 1000);
      this.#next += 1;
    }
    if (this.#next > schedule.totalRequests) {
      // A schedule may end with a quiet stage (rate 0): the run lasts until the schedule ends.
      const remainingMs = Math.max(0, (schedule.durationS - elapsedS) * 1000);
      this.#timer = setTimeout(() => {
        this.#timer = undefined;
        this.#schedulingDone();
      }, remainingMs);
      return;
    }
    const waitMs = (schedule.dueTime(this.#next) - elapsedS) * 1000;
    this.#timer = setTimeout(this.#tick, Math.max(0, Math.floor(waitMs)));
  };

  #dispatch(dueAt: number): void {
    const interval = this.#interval.counts;
    const total = this.#total.counts;
    interval.offered += 1;
    total.offered += 1;
    if (this.#inFlight >= this.#options.maxInFlight) {
      interval.dropped += 1;
      total.dropped += 1;
      return;
    }
    interval.sent += 1;
    total.sent += 1;
    this.#inFlight += 1;
    const target = this.#pick();
    // dispatch() with undici's raw handler instead of request(): no body stream, promise or header
    // object per request, and undici's own coarse timers for the timeout — the generator must
    // outrun the server it measures.
    let statusClass: StatusClass | undefined;
    let servedBy: string | undefined;
    this.#pools.get(target.url.origin)!.dispatch(
      {
        path: target.path!,
        method: target.method as 'GET',
        headers: target.headers,
        body: target.body ?? null,
        headersTimeout: this.#options.timeoutMs,
        bodyTimeout: this.#options.timeoutMs,
      },
      {
        onConnect: () => undefined,
        onHeaders: (statusCode: number, rawHeaders: Buffer[]) => {
          statusClass = STATUS_CLASS[Math.floor(statusCode / 100)];
          servedBy = findHeader(rawHeaders, this.#servedByHeader);
          return true;
        },
        onData: () => true,
        onComplete: () => this.#complete(dueAt, statusClass, servedBy),
        onError: (error: Error) => this.#fail(classifyError(error)),
      },
    );
  }

  #pick(): Target {
    const targets = this.#options.targets;
    if (targets.length === 1) return targets[0]!;
    const r = Math.random() * this.#totalWeight;
    let i = 0;
    while (this.#cumulativeWeights[i]! <= r) i += 1;
    return targets[i]!;
  }

  #complete(dueAt: number, statusClass: StatusClass | undefined, pod: string | undefined): void {
    // Latency goes into the interval's histogram only; it is folded into the total each interval.
    this.#interval.latency.recordMs(performance.now() - dueAt);
    for (const counts of [this.#interval.counts, this.#total.counts]) {
      counts.completed += 1;
      if (statusClass) counts.status[statusClass] += 1;
      if (pod !== undefined) counts.pods[pod] = (counts.pods[pod] ?? 0) + 1;
    }
    this.#settle();
  }

  #fail(kind: keyof Counts['errors']): void {
    this.#interval.counts.errors[kind] += 1;
    this.#total.counts.errors[kind] += 1;
    this.#settle();
  }

  #settle(): void {
    this.#inFlight -= 1;
    if (this.#inFlight === 0 && this.#drained) this.#drained();
  }

  #emitInterval(): void {
    const now = performance.now();
    const report: IntervalReport = {
      t: round((now - this.#startedAt) / 1000, 3),
      durationS: round((now - this.#interval.startedAt) / 1000, 3),
      targetRate: round(this.#options.schedule.rateAt((now - this.#startedAt) / 1000), 2),
      counts: this.#interval.counts,
      latency: this.#interval.latency.summary(),
      inFlight: this.#inFlight,
    };
    this.#total.latency.add(this.#interval.latency);
    this.#interval.counts = emptyCounts();
    this.#interval.latency.reset();
    this.#interval.startedAt = now;
    // A sliver of an interval at the very end would show absurd per-second rates; the summary has it.
    if (report.durationS * 1000 >= this.#options.intervalMs / 4) this.emit('interval', report);
  }

  #summary(): RunSummary {
    const durationS = (performance.now() - this.#startedAt) / 1000;
    const counts = this.#total.counts;
    // Rates are per second of *scheduling*: the wait for the last responses is not load.
    const activeS = this.#stoppedAtS ?? this.#options.schedule.durationS;
    const summary: RunSummary = {
      durationS: round(durationS, 3),
      counts,
      latency: this.#total.latency.summary(),
      offeredRate: round(counts.offered / activeS, 2),
      achievedRate: round(counts.completed / activeS, 2),
      errorRate: counts.offered === 0 ? 0 : round(failures(counts) / counts.offered, 6),
      stoppedBy: this.#stoppedBy,
    };
    this.#interval.latency.destroy();
    this.#total.latency.destroy();
    return summary;
  }
}

/** One header's value from undici's raw [name, value, …] list, without parsing the others. */
function findHeader(rawHeaders: Buffer[], lowerName: Buffer): string | undefined {
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!;
    if (name.length === lowerName.length && name.toString('latin1').toLowerCase() === lowerName.toString('latin1')) return rawHeaders[i + 1]!.toString();
  }
  return undefined;
}

function round(value: number, digits: number): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}
