import { parseDuration } from '@podscale/hpa/duration.ts';

/** A stretch of the run whose arrival rate moves linearly from `from` to `to` requests per second. */
export interface Stage {
  durationS: number;
  from: number;
  to: number;
}

/** `--rate R --duration D`: one flat stage. */
export function constantRate(rate: number, durationS: number): Stage[] {
  return [{ durationS, from: rate, to: rate }];
}

/**
 * `--stages 30s:50,2m:400,1m:400,30s:0`: each stage ramps linearly from the previous target (0 at
 * the start) to its own target over its duration.
 */
export function parseStages(text: string): Stage[] {
  let previous = 0;
  return text.split(',').map((part) => {
    const match = /^([^:]+):(\d+(?:\.\d+)?)$/.exec(part.trim());
    if (!match) throw new Error(`stage "${part}" must be DURATION:RATE, e.g. 30s:50`);
    const durationS = parseDuration(match[1]!);
    if (durationS <= 0) throw new Error(`stage "${part}" must last longer than 0`);
    const stage = { durationS, from: previous, to: Number(match[2]) };
    previous = stage.to;
    return stage;
  });
}

/**
 * When each request is due in an open model: request k (1-based) is due when the integral of the
 * rate reaches k. Sending times depend only on this schedule, never on responses.
 */
export class ArrivalSchedule {
  readonly stages: readonly Stage[];
  readonly totalRequests: number;
  readonly durationS: number;
  readonly #startCounts: number[] = [];
  readonly #startTimes: number[] = [];

  constructor(stages: Stage[]) {
    this.stages = stages;
    let count = 0;
    let time = 0;
    for (const stage of stages) {
      this.#startCounts.push(count);
      this.#startTimes.push(time);
      count += ((stage.from + stage.to) / 2) * stage.durationS;
      time += stage.durationS;
    }
    this.durationS = time;
    this.totalRequests = Math.floor(count + 1e-9);
  }

  /** Target arrival rate at second t. */
  rateAt(t: number): number {
    const i = this.#stageIndexAtTime(t);
    if (i < 0) return 0;
    const stage = this.stages[i]!;
    const into = t - this.#startTimes[i]!;
    return stage.from + ((stage.to - stage.from) * into) / stage.durationS;
  }

  /** Requests due by second t. */
  countAt(t: number): number {
    const i = this.#stageIndexAtTime(t);
    if (i < 0) return t <= 0 ? 0 : this.totalRequests;
    const stage = this.stages[i]!;
    const into = t - this.#startTimes[i]!;
    return this.#startCounts[i]! + stage.from * into + ((stage.to - stage.from) * into * into) / (2 * stage.durationS);
  }

  /** Second at which request k (1-based) is due: the inverse of countAt. */
  dueTime(k: number): number {
    let i = this.stages.length - 1;
    while (i > 0 && this.#startCounts[i]! >= k) i -= 1;
    const stage = this.stages[i]!;
    const m = k - this.#startCounts[i]!;
    const slope = (stage.to - stage.from) / stage.durationS;
    const into = Math.abs(slope) < 1e-12 ? m / stage.from : (-stage.from + Math.sqrt(Math.max(0, stage.from * stage.from + 2 * slope * m))) / slope;
    return this.#startTimes[i]! + Math.min(Math.max(into, 0), stage.durationS);
  }

  #stageIndexAtTime(t: number): number {
    if (t < 0 || t >= this.durationS) return -1;
    let i = 0;
    while (i < this.stages.length - 1 && t >= this.#startTimes[i + 1]!) i += 1;
    return i;
  }
}
