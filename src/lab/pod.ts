import { EventEmitter } from 'node:events';
import pidusage from 'pidusage';
import { request } from 'undici';
import { GuardedProcess } from '../process/guarded.ts';
import type { Probe } from './kit.ts';
import { freePort } from '../process/net.ts';

export interface PodSpec {
  name: string;
  revision: number;
  serverEntry: string;
  env: Record<string, string>;
  namespace: string;
  probes: { readiness: Probe; liveness: Probe; startup?: Probe };
  terminationGracePeriodSeconds: number;
  /** Seconds on the lab's clock. */
  clock: () => number;
}

export type PodPhase = 'Pending' | 'Running' | 'Succeeded' | 'Failed';

/** CPU used by the pod's process over the last sampling window, as metrics-server reports it. */
export interface CpuSample {
  milliCores: number;
  timestamp: number;
  window: number;
}

/**
 * One replica: a real `node dist/server.js` process on an ephemeral port, managed the way a
 * kubelet manages a container — started, probed (startup, then readiness and liveness at the
 * manifest's periods), and on deletion sent SIGTERM, then SIGKILL after the grace period.
 */
export class LabPod extends EventEmitter<{ readiness: [boolean]; exited: [{ crashed: boolean; code: number | null; signal: NodeJS.Signals | null }] }> {
  readonly spec: PodSpec;
  readonly name: string;
  readonly revision: number;
  port = 0;
  phase: PodPhase = 'Pending';
  /** The Ready condition: null until the first readiness result. */
  ready: boolean | null = null;
  readySince: number;
  startTime: number;
  deleting = false;
  process: GuardedProcess | undefined;
  readonly #timers: NodeJS.Timeout[] = [];
  #lastCpu: { ctimeMs: number; at: number } | undefined;
  #cpu: CpuSample | undefined;
  #failures = { readiness: 0, liveness: 0 };
  #successes = 0;

  constructor(spec: PodSpec) {
    super();
    this.spec = spec;
    this.name = spec.name;
    this.revision = spec.revision;
    this.startTime = spec.clock();
    this.readySince = this.startTime;
  }

  async start(): Promise<void> {
    this.port = await freePort();
    const env = { ...process.env, ...this.spec.env, PORT: String(this.port), HOST: '127.0.0.1', POD_NAME: this.name, POD_NAMESPACE: this.spec.namespace };
    this.process = new GuardedProcess(process.execPath, [this.spec.serverEntry], { env, graceMs: this.spec.terminationGracePeriodSeconds * 1000, stdout: 'ignore', stderr: 'ignore' });
    void this.process.exited.then(({ code, signal }) => this.#onExit(code, signal));
    await this.process.started;
    if (this.process.running) this.phase = 'Running';
    this.startTime = this.spec.clock();
    this.readySince = this.startTime;
    this.#startProbing();
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get pid(): number | undefined {
    return this.process?.childPid;
  }

  #startProbing(): void {
    const { startup } = this.spec.probes;
    if (!startup) return this.#startSteadyProbes();
    let failures = 0;
    const timer = setInterval(async () => {
      if (this.deleting) return clearInterval(timer);
      if (await this.#probe(startup)) {
        clearInterval(timer);
        this.#startSteadyProbes();
      } else if (++failures >= startup.failureThreshold) {
        clearInterval(timer);
        this.kill('SIGKILL'); // kubelet restarts a container that never starts; here it is replaced
      }
    }, startup.periodSeconds * 1000);
    this.#timers.push(timer);
  }

  #startSteadyProbes(): void {
    const { readiness, liveness } = this.spec.probes;
    const checkReadiness = async () => {
      const ok = await this.#probe(readiness);
      if (ok) {
        this.#failures.readiness = 0;
        if (++this.#successes >= readiness.successThreshold) this.#setReady(true);
      } else {
        this.#successes = 0;
        if (++this.#failures.readiness >= readiness.failureThreshold) this.#setReady(false);
      }
    };
    void checkReadiness();
    this.#timers.push(setInterval(() => void checkReadiness(), readiness.periodSeconds * 1000));
    this.#timers.push(
      setInterval(async () => {
        if (this.deleting) return;
        if (await this.#probe(liveness)) this.#failures.liveness = 0;
        else if (++this.#failures.liveness >= liveness.failureThreshold) this.kill('SIGKILL');
      }, liveness.periodSeconds * 1000),
    );
  }

  async #probe(probe: Probe): Promise<boolean> {
    if (!this.process?.running) return false;
    try {
      const response = await request(`${this.url}${probe.path}`, { headersTimeout: probe.timeoutSeconds * 1000, bodyTimeout: probe.timeoutSeconds * 1000, reset: true });
      await response.body.dump();
      return response.statusCode >= 200 && response.statusCode < 400;
    } catch {
      return false;
    }
  }

  #setReady(ready: boolean): void {
    if (this.ready === ready) return;
    this.ready = ready;
    this.readySince = this.spec.clock();
    this.emit('readiness', ready);
  }

  /** Deletion: what the API server and kubelet do when a ReplicaSet removes this pod. */
  terminate(): void {
    if (this.deleting) return;
    this.deleting = true;
    this.process?.signal('SIGTERM');
    const killer = setTimeout(() => this.process?.signal('SIGKILL'), this.spec.terminationGracePeriodSeconds * 1000);
    killer.unref();
    this.#timers.push(killer);
  }

  /** An abrupt end (a crash, an OOM kill): the process is gone without draining. */
  kill(signal: NodeJS.Signals = 'SIGKILL'): void {
    this.process?.signal(signal);
  }

  /** Samples CPU time from the OS (pidusage) and returns usage over the time since the last sample. */
  async sampleCpu(): Promise<CpuSample | undefined> {
    const pid = this.pid;
    if (pid === undefined || !this.process?.running) return this.#cpu;
    try {
      const stats = await pidusage(pid);
      const at = this.spec.clock();
      if (this.#lastCpu && at > this.#lastCpu.at) {
        const window = at - this.#lastCpu.at;
        this.#cpu = { milliCores: Math.round((stats.ctime - this.#lastCpu.ctimeMs) / window), timestamp: at, window };
      }
      this.#lastCpu = { ctimeMs: stats.ctime, at };
    } catch {
      // the process ended between the check and the sample
    }
    return this.#cpu;
  }

  #onExit(code: number | null, signal: NodeJS.Signals | null): void {
    for (const timer of this.#timers) clearInterval(timer);
    pidusage.clear();
    this.phase = this.deleting ? 'Succeeded' : 'Failed';
    if (this.ready) this.#setReady(false);
    this.emit('exited', { crashed: !this.deleting, code, signal });
  }
}
