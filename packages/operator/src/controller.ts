/**
 * The AutoScalerPolicy controller: informers on policies, Deployments, Pods and HPAs feed a queue
 * that reconciles each policy at most once at a time (events coalesce while one runs), plus a
 * periodic resync; reconcile.ts does one reconcile and says when to look again, the queue
 * schedules it. Only the leader reconciles.
 */
import { AppsV1Api, CoreV1Api, CustomObjectsApi, type KubeConfig, type KubernetesObject, type V1Pod } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { backoffMs } from './api.ts';
import { messageOf } from './errors.ts';
import { PolicyEvents } from './events.ts';
import { Informers } from './informers.ts';
import type { AutoScalerPolicy } from './policy.ts';
import { WorkQueue } from './queue.ts';
import { MetricReader } from './read-metrics.ts';
import { Reconciler } from './reconcile.ts';
import { Scaler } from './scale.ts';
import { matches } from './selector.ts';
import { StatusWriter } from './status.ts';
import type { ControllerMetrics } from './telemetry.ts';

export interface ControllerOptions {
  kc: KubeConfig;
  /** Watch one namespace; all when undefined. */
  namespace?: string;
  prometheusUrl: string;
  minCooldownSeconds: number;
  resyncMs: number;
  identity: string;
  log: Logger;
  metrics: ControllerMetrics;
  isLeader: () => boolean;
  now?: () => number;
}

const policyKey = (p: KubernetesObject) => `${p.metadata?.namespace}/${p.metadata?.name}`;

export class PolicyController {
  readonly #o: ControllerOptions;
  readonly #informers: Informers;
  readonly #queue: WorkQueue;
  readonly #metricReader: MetricReader;
  readonly #reconciler: Reconciler;
  readonly #generations = new Map<string, number | undefined>();
  #resync: NodeJS.Timeout | undefined;

  constructor(options: ControllerOptions) {
    this.#o = options;
    const { kc, namespace, log, metrics, isLeader } = options;
    const now = options.now ?? Date.now;
    const apps = kc.makeApiClient(AppsV1Api);
    this.#informers = new Informers(kc, namespace, log, metrics);
    this.#queue = new WorkQueue((key) => this.#process(key));
    this.#metricReader = new MetricReader(kc, options.prometheusUrl, log, metrics);
    this.#reconciler = new Reconciler({
      informers: this.#informers,
      apps,
      metricReader: this.#metricReader,
      scaler: new Scaler(apps, log, () => !this.#queue.closed && isLeader()),
      status: new StatusWriter(kc.makeApiClient(CustomObjectsApi), log, metrics),
      events: new PolicyEvents(kc.makeApiClient(CoreV1Api), options.identity, log, metrics, now),
      log,
      metrics,
      isLeader,
      now,
      minCooldownSeconds: options.minCooldownSeconds,
      resyncMs: options.resyncMs,
    });
    this.#watchEvents();
  }

  #watchEvents(): void {
    const { policies, deployments, pods, hpas } = this.#informers;
    const enqueue = (key: string) => this.#queue.enqueue(key);
    policies.on('add', (p) => {
      this.#generations.set(policyKey(p), p.metadata?.generation);
      enqueue(policyKey(p));
    });
    policies.on('update', (p) => {
      // Status writes (ours) do not change the generation: no reconcile for them.
      const key = policyKey(p);
      if (this.#generations.get(key) === p.metadata?.generation) return;
      this.#generations.set(key, p.metadata?.generation);
      enqueue(key);
    });
    policies.on('delete', (p) => {
      const key = policyKey(p);
      this.#generations.delete(key);
      this.#reconciler.forget(key);
      this.#queue.forget(key);
      // A policy that conflicted with this one may be alone now.
      this.#enqueueTargeting(p.metadata?.namespace, (p as AutoScalerPolicy).spec?.deploymentName);
    });
    for (const verb of ['add', 'update', 'delete'] as const) {
      deployments.on(verb, (d) => this.#enqueueTargeting(d.metadata?.namespace, d.metadata?.name));
      hpas.on(verb, (h) => this.#enqueueTargeting(h.metadata?.namespace, h.spec?.scaleTargetRef?.name));
      pods.on(verb, (pod) => this.#enqueueForPod(pod));
    }
  }

  /** Starts the informers; resolves when each has listed once (or keeps retrying in the background). */
  async start(): Promise<void> {
    await this.#informers.start();
    // Informers do not resync: a change no event announces (a metric) is seen at the next resync.
    this.#resync = setInterval(() => this.resyncAll(), this.#o.resyncMs);
    this.#resync.unref();
  }

  get synced(): boolean {
    return this.#informers.synced;
  }

  resyncAll(): void {
    for (const p of this.#informers.policies.list()) this.#queue.enqueue(policyKey(p));
  }

  async stop(): Promise<void> {
    this.#queue.close();
    clearInterval(this.#resync);
    await this.#informers.stop();
    // Let a reconcile in flight finish its writes.
    await this.#queue.drain(5_000);
    await this.#metricReader.close();
  }

  #enqueueTargeting(namespace: string | undefined, deployment: string | undefined): void {
    if (!namespace || !deployment) return;
    for (const p of this.#informers.policies.list(namespace)) if (p.spec?.deploymentName === deployment) this.#queue.enqueue(`${namespace}/${p.metadata.name}`);
  }

  #enqueueForPod(pod: V1Pod): void {
    const namespace = pod.metadata?.namespace;
    if (!namespace) return;
    for (const p of this.#informers.policies.list(namespace)) {
      const deployment = this.#informers.deployments.get(p.spec?.deploymentName, namespace);
      if (deployment && matches(deployment.spec?.selector, pod.metadata?.labels)) this.#queue.enqueue(`${namespace}/${p.metadata.name}`);
    }
  }

  /** One reconcile of key; resolves to when the queue looks at it again. */
  async #process(key: string): Promise<number | undefined> {
    try {
      const { result, requeueAfterMs } = await this.#reconciler.reconcile(key);
      this.#o.metrics.reconciles.inc({ result });
      return requeueAfterMs;
    } catch (error) {
      this.#o.metrics.reconciles.inc({ result: 'error' });
      this.#o.metrics.errors.inc({ kind: 'api' });
      this.#o.log.error({ policy: key, err: messageOf(error) }, 'reconcile failed');
      return backoffMs(3);
    }
  }
}
