import { EventEmitter } from 'node:events';
import pidusage from 'pidusage';
import { probeOnce, type ProbeSpec } from '@podscale/kube-local/probe.ts';
import { ContainerProber } from '@podscale/kube-local/prober.ts';
import { restartBackoffMs } from '@podscale/process/restart-backoff.ts';
import { GuardedProcess } from '@podscale/process/guarded.ts';
import { freePort } from '@podscale/process/net.ts';

export interface PodSpec {
  name: string;
  revision: number;
  serverEntry: string;
  env: Record<string, string>;
  namespace: string;
  probes: { readiness: ProbeSpec; liveness: ProbeSpec; startup?: ProbeSpec };
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
 * One replica: a real process of the service (its bundle, dist/service/server.mjs) on an ephemeral port, run the way kubelet runs
 * a container: probed by kubelet's prober (cluster/prober.ts, the node agent's too), restarted in
 * place through its grace period when its startup or liveness probe fails, and on deletion sent
 * SIGTERM, then SIGKILL after the grace period (GuardedProcess.stop). A crash (the process dies by
 * itself) ends the pod, and the lab's ReplicaSet replaces it.
 */
export class LabPod extends EventEmitter<{ readiness: [boolean]; restarted: [{ reason: 'startup' | 'liveness'; restartCount: number; code: number | null; signal: NodeJS.Signals | null }]; exited: [{ crashed: boolean; code: number | null; signal: NodeJS.Signals | null }] }> {
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
  restartCount = 0;
  process: GuardedProcess | undefined;
  #prober: ContainerProber | undefined;
  /** Why the running container is being stopped, when a probe asked for it. */
  #restarting: 'startup' | 'liveness' | undefined;
  #restartTimer: NodeJS.Timeout | undefined;
  #lastCpu: { ctimeMs: number; at: number } | undefined;
  #cpu: CpuSample | undefined;

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
    await this.#startContainer();
    this.startTime = this.spec.clock();
    this.readySince = this.startTime;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get pid(): number | undefined {
    return this.process?.childPid;
  }

  async #startContainer(): Promise<void> {
    const env = { ...process.env, ...this.spec.env, PORT: String(this.port), HOST: '127.0.0.1', POD_NAME: this.name, POD_NAMESPACE: this.spec.namespace };
    const child = new GuardedProcess(process.execPath, [this.spec.serverEntry], { env, graceMs: this.#graceMs(), stdout: 'ignore', stderr: 'ignore' });
    this.process = child;
    void child.exited.then(({ code, signal }) => this.#onExit(child, code, signal));
    await child.started;
    if (!child.running) return;
    this.phase = 'Running';
    // The manifest's probes name the container's port; each lab pod listens on its own.
    const onOurPort = (probe: ProbeSpec): ProbeSpec => (probe.httpGet ? { ...probe, httpGet: { ...probe.httpGet, port: this.port } } : probe);
    this.#prober = new ContainerProber(this.spec.probes, (probe) => probeOnce(onOurPort(probe), { ip: '127.0.0.1', ports: [] }), {
      started: () => undefined,
      ready: (ready) => this.#setReady(ready),
      unhealthy: (kind) => {
        this.#restarting = kind;
        void child.stop(this.#graceMs(kind));
      },
    });
  }

  #graceMs(kind?: 'startup' | 'liveness'): number {
    const probe = kind ? this.spec.probes[kind] : undefined;
    return (probe?.terminationGracePeriodSeconds ?? this.spec.terminationGracePeriodSeconds) * 1000;
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
    clearTimeout(this.#restartTimer);
    this.#prober?.podDeleting();
    void this.process?.stop(this.#graceMs());
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

  #onExit(child: GuardedProcess, code: number | null, signal: NodeJS.Signals | null): void {
    this.#prober?.stop();
    pidusage.clear();
    if (this.ready) this.#setReady(false);
    const reason = this.#restarting;
    this.#restarting = undefined;
    if (reason && !this.deleting) {
      // restartPolicy Always: the same pod, port and name, a new container after kubelet's back-off.
      this.restartCount++;
      this.emit('restarted', { reason, restartCount: this.restartCount, code, signal });
      this.#restartTimer = setTimeout(() => {
        if (!this.deleting && this.process === child) void this.#startContainer().catch(() => undefined);
      }, restartBackoffMs(this.restartCount));
      return;
    }
    this.phase = this.deleting ? 'Succeeded' : 'Failed';
    this.emit('exited', { crashed: !this.deleting, code, signal });
  }
}
