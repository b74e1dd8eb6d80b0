import { EventEmitter } from 'node:events';
import type { ArrivalSchedule } from './schedule.ts';
import { HttpSender, type HttpOptions } from './send/http.ts';
import type { Outcome, Sender } from './send/sender.ts';
import { emptyCounts, failures, LatencyHistogram, type Counts, type ErrorKind, type LatencyMs, type StatusClass } from './stats.ts';

export type { Target } from './send/http.ts';

interface CommonOptions {
  schedule: ArrivalSchedule;
  /** Requests outstanding at once; a request due while this many are outstanding is dropped. */
  maxInFlight: number;
  intervalMs?: number;
}

/** HTTP targets (the engine makes an HttpSender), or a ready sender for another transport. */
export type LoadOptions = CommonOptions & (HttpOptions | { sender: Sender });

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

/**
 * The open-model load engine. Requests leave at the times the arrival schedule dictates, whether
 * or not earlier ones have answered; latency is measured from each request's *due* time, so a
 * stalled server shows up in the percentiles instead of silently slowing the generator down
 * (no coordinated omission). Emits 'interval' with an IntervalReport every intervalMs.
 */
export class LoadRun extends EventEmitter<{ interval: [IntervalReport] }> {
  readonly #schedule: ArrivalSchedule;
  readonly #maxInFlight: number;
  readonly #intervalMs: number;
  readonly #sender: Sender;
  readonly #outcome: Outcome = {
    complete: (dueAt, statusClass, pod) => this.#complete(dueAt, statusClass, pod),
    fail: (kind) => this.#fail(kind),
  };
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
    this.#schedule = options.schedule;
    this.#maxInFlight = options.maxInFlight;
    this.#intervalMs = options.intervalMs ?? 1000;
    this.#sender = 'sender' in options ? options.sender : new HttpSender(options);
  }

  async run(): Promise<RunSummary> {
    this.#startedAt = performance.now();
    this.#interval.startedAt = this.#startedAt;
    const scheduled = new Promise<void>((resolve) => (this.#schedulingDone = resolve));
    this.#intervalTimer = setInterval(() => this.#emitInterval(), this.#intervalMs);
    this.#tick();
    await scheduled;
    // Every request carries its own timeout, so waiting for the outstanding ones is bounded.
    if (this.#inFlight > 0) await new Promise<void>((resolve) => (this.#drained = resolve));
    clearInterval(this.#intervalTimer);
    this.#emitInterval();
    await this.#sender.close();
    return this.#summary();
  }

  /** Stops scheduling new requests (Ctrl-C); run() resolves once the outstanding ones finish. */
  stop(): void {
    if (this.#timer === undefined) return;
    this.#stoppedBy = 'interrupted';
    this.#stoppedAtS = Math.max(0.001, (performance.now() - this.#startedAt) / 1000);
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#next = this.#schedule.totalRequests + 1;
    this.#schedulingDone();
  }

  #tick = (): void => {
    const schedule = this.#schedule;
    const elapsedS = (performance.now() - this.#startedAt) / 1000;
    while (this.#next <= schedule.totalRequests) {
      const dueS = schedule.dueTime(this.#next);
      if (dueS > elapsedS) break;
      this.#dispatch(this.#next, this.#startedAt + dueS * 1000);
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

  #dispatch(seq: number, dueAt: number): void {
    const interval = this.#interval.counts;
    const total = this.#total.counts;
    interval.offered += 1;
    total.offered += 1;
    if (this.#inFlight >= this.#maxInFlight) {
      interval.dropped += 1;
      total.dropped += 1;
      return;
    }
    interval.sent += 1;
    total.sent += 1;
    this.#inFlight += 1;
    this.#sender.send(seq, dueAt, this.#outcome);
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

  #fail(kind: ErrorKind): void {
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
      targetRate: round(this.#schedule.rateAt((now - this.#startedAt) / 1000), 2),
      counts: this.#interval.counts,
      latency: this.#interval.latency.summary(),
      inFlight: this.#inFlight,
    };
    this.#total.latency.add(this.#interval.latency);
    this.#interval.counts = emptyCounts();
    this.#interval.latency.reset();
    this.#interval.startedAt = now;
    // A sliver of an interval at the very end would show absurd per-second rates; the summary has it.
    if (report.durationS * 1000 >= this.#intervalMs / 4) this.emit('interval', report);
  }

  #summary(): RunSummary {
    const durationS = (performance.now() - this.#startedAt) / 1000;
    const counts = this.#total.counts;
    // Rates are per second of *scheduling*: the wait for the last responses is not load.
    const activeS = this.#stoppedAtS ?? this.#schedule.durationS;
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

function round(value: number, digits: number): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}
