import { probeTiming, type ProbeSpec } from './probe.ts';

/*
 * kubelet's prober, the one both the lab's pods and the node agent's containers use. It follows
 * pkg/kubelet/prober/worker.go of the pinned release (v1.34.4): what a result starts as, when a
 * run of results counts, what gates what, and what a deletion stops.
 */

export type ProbeKind = 'startup' | 'readiness' | 'liveness';

/**
 * One probe's result as kubelet keeps it: readiness starts as failure, liveness as success, startup
 * as unknown (worker.go newWorker); an outcome counts only after `successThreshold` (or
 * `failureThreshold`) of the same outcome in a row.
 */
export class ProbeResult {
  readonly kind: ProbeKind;
  value: boolean | undefined;
  readonly #successThreshold: number;
  readonly #failureThreshold: number;
  #last: boolean | undefined;
  #run = 0;

  constructor(kind: ProbeKind, spec: ProbeSpec) {
    this.kind = kind;
    const timing = probeTiming(spec);
    this.#successThreshold = timing.successThreshold;
    this.#failureThreshold = timing.failureThreshold;
    this.value = kind === 'readiness' ? false : kind === 'liveness' ? true : undefined;
  }

  /** Records one attempt; returns the outcome once it counts (the run reached its threshold), else undefined. */
  record(ok: boolean): boolean | undefined {
    if (this.#last === ok) this.#run++;
    else {
      this.#last = ok;
      this.#run = 1;
    }
    if (this.#run < (ok ? this.#successThreshold : this.#failureThreshold)) return undefined;
    this.value = ok;
    return ok;
  }
}

export interface ProberEvents {
  /** The startup probe succeeded, or there is none: readiness and liveness begin. */
  started(): void;
  /** The container's readiness changed (without a readiness probe: ready once started). */
  ready(ready: boolean): void;
  /** The startup or liveness probe failed `failureThreshold` times in a row: kubelet restarts the container. */
  unhealthy(kind: 'startup' | 'liveness', failures: number): void;
}

export interface ContainerProbes {
  startup?: ProbeSpec;
  readiness?: ProbeSpec;
  liveness?: ProbeSpec;
}

interface Worker {
  kind: ProbeKind;
  spec: ProbeSpec;
  result: ProbeResult;
  timer?: NodeJS.Timeout;
  /** The worker's current loop: a manual trigger starts a new one, and the old one ends. */
  loop: number;
  /** After a startup verdict or a liveness failure, until the container is replaced (worker.go onHold). */
  onHold: boolean;
}

/**
 * The probes of one running container (a restarted container gets a new prober, as kubelet's
 * workers start over on a new container ID). Each probe runs every `periodSeconds`, is skipped
 * until `initialDelaySeconds` have passed since the start, times out after `timeoutSeconds`
 * (the `check` function's job), and counts per ProbeResult. Until startup succeeds, only the
 * startup probe runs; once the pod is being deleted, liveness and startup stop and readiness
 * goes on, so a draining pod's readiness keeps being reported (worker.go doProbe).
 */
export class ContainerProber {
  readonly #check: (spec: ProbeSpec) => Promise<boolean>;
  readonly #events: ProberEvents;
  readonly #workers: Worker[];
  readonly #startedAt = performance.now();
  #started = false;
  #deleting = false;
  #stopped = false;

  constructor(probes: ContainerProbes, check: (spec: ProbeSpec) => Promise<boolean>, events: ProberEvents) {
    this.#check = check;
    this.#events = events;
    this.#workers = (['startup', 'readiness', 'liveness'] as const).flatMap((kind) => {
      const spec = probes[kind];
      return spec ? [{ kind, spec, result: new ProbeResult(kind, spec), onHold: false, loop: 0 }] : [];
    });
    if (!probes.startup) queueMicrotask(() => this.#markStarted());
    for (const worker of this.#workers) void this.#tick(worker, 0);
  }

  get started(): boolean {
    return this.#started;
  }

  /** The pod's deletion began: liveness and startup stop; readiness goes on until stop(). */
  podDeleting(): void {
    this.#deleting = true;
    for (const worker of this.#workers) if (worker.kind !== 'readiness') clearTimeout(worker.timer);
  }

  /** The container is gone: no more probes. */
  stop(): void {
    this.#stopped = true;
    for (const worker of this.#workers) clearTimeout(worker.timer);
  }

  #markStarted(): void {
    if (this.#started || this.#stopped) return;
    this.#started = true;
    this.#events.started();
    const readiness = this.#workers.find((worker) => worker.kind === 'readiness');
    if (!readiness) this.#events.ready(true);
    // kubelet triggers the readiness probe at once when a started container is not yet ready.
    else {
      clearTimeout(readiness.timer);
      void this.#tick(readiness, ++readiness.loop);
    }
  }

  async #tick(worker: Worker, loop: number): Promise<void> {
    if (this.#stopped || loop !== worker.loop) return;
    if ((await this.#probe(worker)) && !this.#stopped && loop === worker.loop) worker.timer = setTimeout(() => void this.#tick(worker, loop), probeTiming(worker.spec).periodMs);
  }

  /** One round of one worker; false when the worker is done (worker.go doProbe's keepGoing). */
  async #probe(worker: Worker): Promise<boolean> {
    if (this.#deleting && worker.kind !== 'readiness') return false;
    if (worker.onHold) return true;
    if (performance.now() - this.#startedAt < probeTiming(worker.spec).initialDelayMs) return true;
    if (this.#started ? worker.kind === 'startup' : worker.kind !== 'startup') return true;
    const ok = await this.#check(worker.spec);
    if (this.#stopped || (this.#deleting && worker.kind !== 'readiness')) return false;
    const before = worker.result.value;
    const verdict = worker.result.record(ok);
    if (verdict === undefined) return true;
    if (worker.kind === 'readiness' && verdict !== before) this.#events.ready(verdict);
    if (worker.kind === 'startup' || (worker.kind === 'liveness' && !verdict)) {
      worker.onHold = true;
      if (!verdict) this.#events.unhealthy(worker.kind as 'startup' | 'liveness', probeTiming(worker.spec).failureThreshold);
      else this.#markStarted();
    }
    return true;
  }
}
