import { EventEmitter } from 'node:events';
import { decide } from '@podscale/hpa/decide.ts';
import { atLeast, DEFAULT_KUBERNETES_VERSION, type KubernetesVersion } from '@podscale/hpa/gates.ts';
import type { Decision, History, HpaSpec, Observed, PodInfo } from '@podscale/hpa/types.ts';
import type { LabDeployment } from './deployment.ts';
import type { CpuSample } from './pod.ts';
import type { PodRateSource } from './rates.ts';

export interface ControllerOptions {
  deployment: LabDeployment;
  spec: HpaSpec;
  rates: PodRateSource;
  /** The Pods metric the adapter publishes (http_requests_per_second). */
  podsMetricName: string;
  cpuRequestMilli: number;
  syncPeriodS: number;
  clock: () => number;
  /** The kube-controller-manager minor whose algorithm the lab runs (default: the pinned control plane). */
  kubernetesVersion?: KubernetesVersion;
}

export interface SyncRecord {
  t: number;
  from: number;
  decision: Decision;
  /** Per-pod inputs as the HPA saw them. */
  pods: { name: string; ready: boolean | null; qps: number | null; cpuPercent: number | null }[];
}

/**
 * The HPA controller loop around the pure algorithm: every sync period it gathers what
 * kube-controller-manager would see (pods, per-pod custom metric, CPU usage), asks decide(), and
 * scales the Deployment. It keeps the history the real controller keeps in memory: unstabilized
 * recommendations and scale events.
 */
export class LabController extends EventEmitter<{ sync: [SyncRecord] }> {
  readonly options: ControllerOptions;
  readonly history: Required<History> = { recommendations: [], scaleUpEvents: [], scaleDownEvents: [] };
  readonly syncs: SyncRecord[] = [];
  #timer: NodeJS.Timeout | undefined;
  #running = false;
  #seen = false;
  /** The HPA status's ScaledToZero=True, as this controller's own syncs left it. */
  #scaledToZero = false;

  constructor(options: ControllerOptions) {
    super();
    this.options = options;
  }

  start(): void {
    // 1.37 reconciles a new HPA at once (enqueueHPA: queue.Add, horizontal.go v1.37.2 lines 286–306,
    // not gated); earlier minors first reconcile it one sync period after it appears.
    if (atLeast(this.options.kubernetesVersion ?? DEFAULT_KUBERNETES_VERSION, '1.37')) void this.sync();
    this.#timer = setInterval(() => void this.sync(), this.options.syncPeriodS * 1000);
  }

  stop(): void {
    clearInterval(this.#timer);
  }

  async sync(): Promise<SyncRecord | undefined> {
    if (this.#running) return undefined; // a slow sync is skipped, not stacked
    this.#running = true;
    try {
      return await this.#sync();
    } finally {
      this.#running = false;
    }
  }

  async #sync(): Promise<SyncRecord> {
    const { deployment, clock } = this.options;
    const pods = [...deployment.pods];
    const now = clock();
    const info: PodInfo[] = pods.map((pod) => ({
      name: pod.name,
      phase: pod.phase,
      ready: pod.ready,
      startTimeS: pod.startTime,
      readySinceS: pod.readySince,
      deleting: pod.deleting,
      requests: { cpu: `${this.options.cpuRequestMilli}m` },
    }));
    const observed: Observed = {};
    const cpuSamples = new Map<string, CpuSample>();
    for (const pod of pods) {
      const sample = await pod.sampleCpu();
      if (sample) cpuSamples.set(pod.name, sample);
    }
    const cpu = Object.fromEntries([...cpuSamples].map(([pod, s]) => [pod, { value: `${s.milliCores}m`, timestamp: s.timestamp, window: s.window }]));
    observed.resource = { cpu };
    let qps = new Map<string, number>();
    try {
      qps = await this.options.rates.perPodRate(pods.map((pod) => pod.name));
      observed.pods = { [this.options.podsMetricName]: Object.fromEntries([...qps].map(([pod, value]) => [pod, `${Math.round(value * 1000)}m`])) };
    } catch {
      // the metric could not be fetched: the HPA sees it as unavailable
    }
    const from = deployment.desired;
    this.#prune(now);
    if (!this.#seen) {
      // recordInitialRecommendation: on first sight of an HPA the controller remembers the current
      // replica count as a recommendation, so no scale-down happens within the first window.
      this.#seen = true;
      this.history.recommendations.push({ time: now, replicas: from });
    }
    const decision = decide({
      spec: this.options.spec,
      currentReplicas: from,
      statusReplicas: pods.length,
      now,
      pods: info,
      metrics: observed,
      history: this.history,
      kubernetesVersion: this.options.kubernetesVersion ?? DEFAULT_KUBERNETES_VERSION,
      scaledToZero: this.#scaledToZero,
    });
    const condition = decision.conditions?.find((c) => c.type === 'ScaledToZero');
    if (condition) this.#scaledToZero = condition.status === 'True';
    if (decision.removedConditions?.includes('ScaledToZero')) this.#scaledToZero = false;
    if (decision.recommendation !== undefined) this.history.recommendations.push({ time: now, replicas: decision.recommendation });
    if (decision.desiredReplicas > from) this.history.scaleUpEvents.push({ time: now, change: decision.desiredReplicas - from });
    if (decision.desiredReplicas < from) this.history.scaleDownEvents.push({ time: now, change: from - decision.desiredReplicas });
    if (decision.desiredReplicas !== from) deployment.scale(decision.desiredReplicas);
    const record: SyncRecord = {
      t: now,
      from,
      decision,
      pods: pods.map((pod) => ({
        name: pod.name,
        ready: pod.ready,
        qps: qps.get(pod.name) ?? null,
        cpuPercent: cpuSamples.has(pod.name) ? Math.round((cpuSamples.get(pod.name)!.milliCores / this.options.cpuRequestMilli) * 100) : null,
      })),
    };
    this.syncs.push(record);
    this.emit('sync', record);
    return record;
  }

  /** The real controller forgets recommendations and events older than any window that reads them. */
  #prune(now: number): void {
    const keep = 3600;
    for (const list of [this.history.recommendations, this.history.scaleUpEvents, this.history.scaleDownEvents] as { time: number }[][]) {
      while (list.length > 0 && list[0]!.time < now - keep) list.shift();
    }
  }
}
