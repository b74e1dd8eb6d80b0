/** What a watcher knows about the scaled workload at one moment. */
export interface ReplicaState {
  /** Where the numbers come from: a cluster, or the local lab. */
  source: 'kubernetes' | 'lab';
  name: string;
  /** spec.replicas: what the HPA (or a person) asked for. */
  desired: number;
  /** Pods that pass their readiness probe. */
  ready: number;
  /** Per HPA metric: its current value and its target, as the HPA reports them. */
  metrics: { name: string; current: string | null; target: string }[];
  /** The HPA's last decision in words, when the source has one. */
  reason?: string;
  /** Per pod, what the HPA last read (the lab knows this; a cluster watcher does not). */
  pods?: { name: string; ready: boolean | null; deleting?: boolean; qps: number | null; cpuPercent: number | null }[];
  /** Where the per-pod request rate comes from, when the source says. */
  metricsSource?: string;
}

export interface ReplicaWatcher {
  /** The latest state, or undefined before the first event. */
  current(): ReplicaState | undefined;
  stop(): Promise<void>;
}
