/** What the status of one container is made of (the node agent's ContainerState). */
export interface ContainerView {
  spec: { name: string; image: string };
  process?: { childPid: number | undefined; running: boolean };
  startedAt?: string;
  restartCount: number;
  started: boolean;
  ready: boolean;
  lastTerminated?: { exitCode: number; signal?: number; reason: string; startedAt?: string; finishedAt: string };
  waiting?: { reason: string; message?: string };
}

export interface PodView {
  nodeIp: string;
  ip: string;
  /** The pod's network namespace exists (PodReadyToStartContainers). */
  sandboxReady: boolean;
  startTime: string;
  containers: ContainerView[];
}

export const statusTime = () => new Date().toISOString().replace(/\.\d+Z$/, 'Z');

/**
 * The status kubelet reports for a pod: phase, addresses, conditions (each keeping its
 * lastTransitionTime until its status changes) and one status per container.
 */
export class PodStatusReporter {
  readonly #conditionSince = new Map<string, { status: boolean; since: string }>();

  status(pod: PodView): Record<string, unknown> {
    const containers = pod.containers;
    const allReady = containers.length > 0 && containers.every((container) => container.ready);
    const transition = statusTime();
    const condition = (type: string, status: boolean) => ({ type, status: status ? 'True' : 'False', lastProbeTime: null, lastTransitionTime: this.#transitions(type, status, transition) });
    const running = containers.some((container) => container.process?.running);
    return {
      phase: running || containers.some((container) => container.waiting) ? 'Running' : 'Pending',
      hostIP: pod.nodeIp,
      hostIPs: [{ ip: pod.nodeIp }],
      podIP: pod.ip,
      podIPs: [{ ip: pod.ip }],
      startTime: pod.startTime,
      conditions: [condition('PodReadyToStartContainers', pod.sandboxReady), condition('Initialized', true), condition('Ready', allReady), condition('ContainersReady', allReady), condition('PodScheduled', true)],
      containerStatuses: containers.map((container) => ({
        name: container.spec.name,
        image: container.spec.image,
        imageID: '',
        containerID: container.process?.childPid ? `process://${container.process.childPid}` : undefined,
        ready: container.ready,
        started: container.started,
        restartCount: container.restartCount,
        state: container.process?.running ? { running: { startedAt: container.startedAt } } : container.waiting ? { waiting: container.waiting } : container.lastTerminated ? { terminated: container.lastTerminated } : { waiting: { reason: 'ContainerCreating' } },
        lastState: container.lastTerminated && container.process?.running ? { terminated: container.lastTerminated } : {},
      })),
    };
  }

  #transitions(type: string, status: boolean, at: string): string {
    const previous = this.#conditionSince.get(type);
    if (previous && previous.status === status) return previous.since;
    this.#conditionSince.set(type, { status, since: at });
    return at;
  }
}
