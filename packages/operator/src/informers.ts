/**
 * Informers on policies, Deployments, Pods and HPAs: a cache of each, and their events.
 * client-node relists by itself on 410 Gone; on any other error an informer stops and must be
 * started again, which this does with backoff.
 */
import {
  AppsV1Api,
  AutoscalingV2Api,
  CoreV1Api,
  CustomObjectsApi,
  makeInformer,
  type Informer,
  type KubeConfig,
  type KubernetesObject,
  type ObjectCache,
  type V1Deployment,
  type V1Pod,
  type V2HorizontalPodAutoscaler,
} from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { backoffMs } from './api.ts';
import { messageOf } from './errors.ts';
import { GROUP, PLURAL, VERSION, type AutoScalerPolicy } from './policy.ts';
import type { ControllerMetrics } from './telemetry.ts';

export type Cached<T extends KubernetesObject> = Informer<T> & ObjectCache<T>;

interface Watched<T extends KubernetesObject> {
  name: string;
  informer: Cached<T>;
  synced: boolean;
}

export class Informers {
  readonly policies: Cached<AutoScalerPolicy & KubernetesObject>;
  readonly deployments: Cached<V1Deployment>;
  readonly pods: Cached<V1Pod>;
  readonly hpas: Cached<V2HorizontalPodAutoscaler>;
  readonly #kc: KubeConfig;
  readonly #log: Logger;
  readonly #metrics: ControllerMetrics;
  readonly #watched: Watched<KubernetesObject>[] = [];
  #stopped = false;

  /** namespace: watch one; all when undefined. */
  constructor(kc: KubeConfig, namespace: string | undefined, log: Logger, metrics: ControllerMetrics) {
    this.#kc = kc;
    this.#log = log;
    this.#metrics = metrics;
    const apps = kc.makeApiClient(AppsV1Api);
    const core = kc.makeApiClient(CoreV1Api);
    const custom = kc.makeApiClient(CustomObjectsApi);
    const autoscaling = kc.makeApiClient(AutoscalingV2Api);
    const ns = namespace ? `/namespaces/${namespace}` : '';
    this.policies = this.#watch('policies', `/apis/${GROUP}/${VERSION}${ns}/${PLURAL}`, () =>
      namespace ? custom.listNamespacedCustomObject({ group: GROUP, version: VERSION, namespace, plural: PLURAL }) : custom.listClusterCustomObject({ group: GROUP, version: VERSION, plural: PLURAL }),
    );
    this.deployments = this.#watch('deployments', `/apis/apps/v1${ns}/deployments`, () => (namespace ? apps.listNamespacedDeployment({ namespace }) : apps.listDeploymentForAllNamespaces()));
    this.pods = this.#watch('pods', `/api/v1${ns}/pods`, () => (namespace ? core.listNamespacedPod({ namespace }) : core.listPodForAllNamespaces()));
    this.hpas = this.#watch('horizontalpodautoscalers', `/apis/autoscaling/v2${ns}/horizontalpodautoscalers`, () =>
      namespace ? autoscaling.listNamespacedHorizontalPodAutoscaler({ namespace }) : autoscaling.listHorizontalPodAutoscalerForAllNamespaces(),
    );
  }

  #watch<T extends KubernetesObject>(name: string, path: string, list: () => Promise<unknown>): Cached<T> {
    const informer = makeInformer<T>(this.#kc, path, list as never);
    const watched: Watched<T> = { name, informer, synced: false };
    let failures = 0;
    informer.on('error', (error: unknown) => {
      watched.synced = false;
      if (this.#stopped) return; // stop() aborts the watch: not a failure
      this.#metrics.errors.inc({ kind: 'informer' });
      const delay = backoffMs(Math.min(failures++, 5));
      this.#log.warn({ informer: name, err: messageOf(error), retryInMs: Math.round(delay) }, 'informer stopped on an error; restarting');
      setTimeout(() => void this.#start(watched, () => (failures = 0)), delay);
    });
    this.#watched.push(watched as unknown as Watched<KubernetesObject>);
    return informer;
  }

  async #start<T extends KubernetesObject>(watched: Watched<T>, onSynced?: () => void): Promise<void> {
    if (this.#stopped) return;
    let failed = false;
    const mark = () => (failed = true);
    watched.informer.on('error', mark);
    try {
      await watched.informer.start();
    } finally {
      watched.informer.off('error', mark);
    }
    if (!failed && !this.#stopped) {
      watched.synced = true;
      onSynced?.();
    }
  }

  /** Resolves when each has listed once (or keeps retrying in the background). */
  async start(): Promise<void> {
    await Promise.all(this.#watched.map((w) => this.#start(w)));
  }

  get synced(): boolean {
    return this.#watched.every((w) => w.synced);
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    await Promise.all(this.#watched.map((w) => w.informer.stop()));
  }
}
