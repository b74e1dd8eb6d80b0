import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { LabKit } from './kit.ts';
import { LabPod } from './pod.ts';
import type { LabServiceProxy } from './proxy.ts';

export interface DeploymentOptions {
  kit: LabKit;
  serverEntry: string;
  proxy: LabServiceProxy;
  clock: () => number;
  /** Extra environment for the pods, on top of the Deployment's own (e.g. a shorter drain in tests). */
  env?: Record<string, string>;
}

export interface PodEvent {
  t: number;
  pod: string;
  event: 'created' | 'ready' | 'unready' | 'restarted' | 'terminating' | 'exited' | 'crashed';
}

/**
 * The Deployment and its ReplicaSets: keeps `desired` pods of the current revision, replaces pods
 * that crash, removes surplus pods in the order the ReplicaSet controller does, and rolls out a new
 * revision following the Deployment's strategy (maxSurge / maxUnavailable).
 */
export class LabDeployment extends EventEmitter<{ pod: [PodEvent] }> {
  readonly options: DeploymentOptions;
  desired: number;
  revision = 1;
  readonly pods: LabPod[] = [];
  readonly events: PodEvent[] = [];
  crashes = 0;
  #stopped = false;

  constructor(options: DeploymentOptions) {
    super();
    this.options = options;
    this.desired = options.kit.replicas;
  }

  /** Pods that count towards the desired number: not being deleted. */
  get active(): LabPod[] {
    return this.pods.filter((pod) => !pod.deleting);
  }

  get readyCount(): number {
    return this.active.filter((pod) => pod.ready === true).length;
  }

  scale(replicas: number): void {
    this.desired = replicas;
    this.reconcile();
  }

  reconcile(): void {
    if (this.#stopped) return;
    const active = this.active;
    for (let i = active.length; i < this.desired; i += 1) void this.#create();
    if (active.length > this.desired) {
      for (const pod of deletionOrder(active).slice(0, active.length - this.desired)) this.#delete(pod);
    }
  }

  /**
   * A rolling update to a new revision: surge new pods (up to maxSurge above desired), and delete
   * an old pod only when that keeps at least desired − maxUnavailable pods ready.
   */
  async rollout(onProgress?: (message: string) => void): Promise<void> {
    this.revision += 1;
    const { maxSurge, maxUnavailable } = this.options.kit;
    const isOld = (pod: LabPod) => pod.revision < this.revision;
    while (this.active.some(isOld) && !this.#stopped) {
      const active = this.active;
      const surge = this.desired + maxSurge - active.length;
      for (let i = 0; i < surge; i += 1) void this.#create();
      const readyNew = this.active.filter((pod) => !isOld(pod) && pod.ready === true).length;
      const readyTotal = this.readyCount;
      const removable = Math.min(readyTotal - (this.desired - maxUnavailable), this.active.filter(isOld).length);
      if (removable > 0 && (readyNew > 0 || maxUnavailable > 0)) {
        for (const pod of deletionOrder(this.active.filter(isOld)).slice(0, removable)) {
          onProgress?.(`revision ${this.revision}: ${readyNew} new ready, deleting ${pod.name}`);
          this.#delete(pod);
        }
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }

  async #create(): Promise<void> {
    const hash = `r${this.revision}${randomBytes(3).toString('hex')}`.slice(0, 7);
    const pod = new LabPod({
      name: `${this.options.kit.deploymentName}-${hash}-${randomBytes(3).toString('hex').slice(0, 5)}`,
      revision: this.revision,
      serverEntry: this.options.serverEntry,
      env: { ...this.options.kit.env, ...this.options.env },
      namespace: this.options.kit.namespace,
      probes: this.options.kit.probes,
      terminationGracePeriodSeconds: this.options.kit.terminationGracePeriodSeconds,
      clock: this.options.clock,
    });
    this.pods.push(pod);
    this.#record(pod, 'created');
    pod.on('readiness', (ready) => {
      this.#record(pod, ready ? 'ready' : 'unready');
      if (!pod.deleting) this.options.proxy.update(pod.name, pod.port, ready);
    });
    pod.on('restarted', () => this.#record(pod, 'restarted'));
    pod.on('exited', ({ crashed }) => {
      this.pods.splice(this.pods.indexOf(pod), 1);
      this.options.proxy.update(pod.name, pod.port, false);
      this.#record(pod, crashed ? 'crashed' : 'exited');
      if (crashed) {
        this.crashes += 1;
        this.reconcile(); // the ReplicaSet replaces it
      }
    });
    try {
      await pod.start();
    } catch {
      // exited before starting: the exit handler has recorded it
    }
  }

  #delete(pod: LabPod): void {
    // The endpoint controller and the kubelet both see the deletion; proxies learn it late.
    this.options.proxy.update(pod.name, pod.port, false);
    this.#record(pod, 'terminating');
    pod.terminate();
  }

  #record(pod: LabPod, event: PodEvent['event']): void {
    const entry = { t: this.options.clock(), pod: pod.name, event };
    this.events.push(entry);
    this.emit('pod', entry);
  }

  /** Deletes every pod and waits until all have exited. */
  async stop(): Promise<void> {
    this.#stopped = true;
    const all = [...this.pods];
    for (const pod of all) this.#delete(pod);
    await Promise.all(all.map((pod) => pod.process?.exited));
  }
}

/**
 * The ReplicaSet controller's order for removing pods (controller_utils ActivePods): pods not yet
 * running first, then not-ready pods, then the most recently ready/started.
 */
export function deletionOrder(pods: LabPod[]): LabPod[] {
  const rank = (pod: LabPod) => (pod.phase === 'Pending' ? 0 : pod.ready !== true ? 1 : 2);
  return [...pods].sort((a, b) => rank(a) - rank(b) || b.readySince - a.readySince || b.startTime - a.startTime);
}
