import { podInfo, type PodLike } from '@podscale/hpa/pod-info.ts';
import { toMilli } from '@podscale/hpa/quantity.ts';
import type { HpaSpec, Observed, PodInfo, ResourceSample } from '@podscale/hpa/types.ts';
import type { Cluster } from './cluster.ts';
import { KubeClient, type KubeObject } from './kube-client.ts';

/** The parts of an autoscaling/v2 HPA status the observer reads. */
export interface HpaStatus {
  currentReplicas?: number;
  desiredReplicas?: number;
  lastScaleTime?: string;
  currentMetrics?: { type: string; resource?: { name: string; current: { averageUtilization?: number; averageValue?: string } }; pods?: { metric: { name: string }; current: { averageValue?: string } } }[] | null;
  conditions?: { type: string; status: string; reason?: string; message?: string; lastTransitionTime?: string }[];
}

/**
 * One HPA sync as seen from outside the controller: the status it wrote, and what the pod list and
 * both metrics APIs returned right after (the controller read them a moment earlier).
 */
export interface ObservedSync {
  /** Epoch seconds when the status change arrived. */
  at: number;
  /** Epoch seconds when the pods and metrics had been read. */
  readAt: number;
  spec: HpaSpec;
  status: HpaStatus;
  pods: PodInfo[];
  /** Per pod: when it was created and, if it is being deleted, when the deletion was asked for (epoch s, whole seconds as the API keeps them). */
  podTimes: Record<string, { created: number; deletionRequested?: number }>;
  metrics: Observed;
}

export interface HpaEvent {
  /** Epoch seconds when the event (or its repetition) arrived. */
  at: number;
  reason: string;
  message: string;
}

export interface HpaObserverOptions {
  namespace: string;
  name: string;
  /** The scale target's pod selector, as a label selector string. */
  selector: string;
  /** The Pods metrics (custom.metrics.k8s.io) to read at each sync. */
  podsMetrics: string[];
}

/** Go's time.Duration text ("15s", "10.5s", "1m0s", "250ms") in seconds. */
export function goDurationSeconds(text: string): number {
  const units: Record<string, number> = { h: 3600, m: 60, s: 1, ms: 0.001, us: 1e-6, µs: 1e-6, ns: 1e-9 };
  let total = 0;
  for (const [, amount, unit] of text.matchAll(/([\d.]+)(h|ms|us|µs|ns|m|s)/g)) total += Number(amount) * units[unit!]!;
  return total;
}

const epoch = (time: string | undefined) => (time ? Date.parse(time) / 1000 : 0);

type PodObject = KubeObject & PodLike;

/**
 * Follows one HPA on a cluster: at every status change (a sync that changed something) it reads
 * the pods and the metrics APIs the way the controller does (same selector, same API groups) and
 * records them with the status, so the port can be given the same observations.
 */
export class HpaObserver {
  readonly syncs: ObservedSync[] = [];
  /** The HPA's events (SuccessfulRescale, FailedGetPodsMetric, ...), each time one is emitted or repeated. */
  readonly events: HpaEvent[] = [];
  readonly #client: KubeClient;
  readonly #abort = new AbortController();
  readonly #options: HpaObserverOptions;
  readonly #onSync: ((sync: ObservedSync) => void) | undefined;
  #watching: Promise<void>[] = [];
  #last = '';
  #pending: Promise<void> = Promise.resolve();

  private constructor(client: KubeClient, options: HpaObserverOptions, onSync?: (sync: ObservedSync) => void) {
    this.#client = client;
    this.#options = options;
    this.#onSync = onSync;
  }

  static async start(cluster: Cluster, options: HpaObserverOptions, onSync?: (sync: ObservedSync) => void): Promise<HpaObserver> {
    const client = await KubeClient.create(cluster.plane.apiserverUrl, cluster.plane.pki.ca.cert, cluster.plane.pki.admin);
    const observer = new HpaObserver(client, options, onSync);
    const seen = new Map<string, number>();
    const events = client.watch(
      `/api/v1/namespaces/${options.namespace}/events`,
      { fieldSelector: `involvedObject.kind=HorizontalPodAutoscaler,involvedObject.name=${options.name}` },
      (_type, objects) => {
        const at = Date.now() / 1000;
        for (const object of objects as (KubeObject & { reason?: string; message?: string; count?: number })[]) {
          // An event repeated is the same object with a higher count; each count is one occurrence.
          const count = object.count ?? 1;
          if ((seen.get(object.metadata.name) ?? 0) >= count) continue;
          seen.set(object.metadata.name, count);
          observer.events.push({ at, reason: object.reason ?? '', message: object.message ?? '' });
        }
      },
      observer.#abort.signal,
    );
    const hpa = client.watch(
      `/apis/autoscaling/v2/namespaces/${options.namespace}/horizontalpodautoscalers`,
      { fieldSelector: `metadata.name=${options.name}` },
      (_type, objects) => {
        const at = Date.now() / 1000;
        for (const object of objects) {
          const status = (object as { status?: HpaStatus }).status;
          const key = JSON.stringify(status ?? {});
          if (!status || status.desiredReplicas === undefined || key === observer.#last) continue;
          observer.#last = key;
          const spec = (object as unknown as { spec: HpaSpec & { scaleTargetRef?: unknown } }).spec;
          // One at a time, in order: each read follows its own status change.
          observer.#pending = observer.#pending.then(() => observer.#record(at, spec, status)).catch(() => undefined);
        }
      },
      observer.#abort.signal,
    );
    observer.#watching = [events, hpa];
    return observer;
  }

  /** The client the observer reads with (admin), for further reads of the same cluster. */
  get client(): KubeClient {
    return this.#client;
  }

  async #record(at: number, spec: HpaSpec & { scaleTargetRef?: unknown }, status: HpaStatus): Promise<void> {
    const { namespace, selector } = this.#options;
    const query = `labelSelector=${encodeURIComponent(selector)}`;
    const [pods, cpu, ...custom] = await Promise.all([
      this.#client.get<{ items: PodObject[] }>(`/api/v1/namespaces/${namespace}/pods?${query}`),
      this.#client.get<{ items: { metadata: { name: string }; timestamp: string; window: string; containers: { usage: { cpu?: string } }[] }[] }>(`/apis/metrics.k8s.io/v1beta1/namespaces/${namespace}/pods?${query}`).catch(() => undefined),
      ...this.#options.podsMetrics.map((metric) =>
        this.#client
          .get<{ items: { describedObject: { name: string }; value: string }[] }>(`/apis/custom.metrics.k8s.io/v1beta2/namespaces/${namespace}/pods/*/${metric}?${query}`)
          .catch(() => undefined),
      ),
    ]);
    const metrics: Observed = {};
    if (cpu) {
      // metricsclient.getResourceMetric: a pod's usage is the sum of its containers' usage.
      const samples: Record<string, ResourceSample> = {};
      for (const item of cpu.items) {
        // Quantity.MilliValue() rounds up, per container.
        let milli = 0;
        for (const container of item.containers) milli += toMilli(container.usage.cpu ?? '0');
        samples[item.metadata.name] = { value: `${milli}m`, timestamp: epoch(item.timestamp), window: goDurationSeconds(item.window) };
      }
      metrics.resource = { cpu: samples };
    }
    this.#options.podsMetrics.forEach((metric, i) => {
      const list = custom[i];
      if (list) (metrics.pods ??= {})[metric] = Object.fromEntries(list.items.map((item) => [item.describedObject.name, item.value]));
    });
    const { scaleTargetRef: _ref, ...hpaSpec } = spec;
    const podTimes: ObservedSync['podTimes'] = {};
    for (const pod of pods.items) {
      const { creationTimestamp, deletionTimestamp, deletionGracePeriodSeconds } = pod.metadata;
      // deletionTimestamp is the deadline: the request's time plus the grace period.
      podTimes[pod.metadata.name] = { created: epoch(creationTimestamp), ...(deletionTimestamp ? { deletionRequested: epoch(deletionTimestamp) - (deletionGracePeriodSeconds ?? 0) } : {}) };
    }
    const sync: ObservedSync = { at, readAt: Date.now() / 1000, spec: hpaSpec, status, pods: pods.items.map(podInfo), podTimes, metrics };
    this.syncs.push(sync);
    this.#onSync?.(sync);
  }

  async stop(): Promise<void> {
    this.#abort.abort();
    await Promise.all(this.#watching.map((watching) => watching.catch(() => undefined)));
    await this.#pending;
    await this.#client.close();
  }
}
