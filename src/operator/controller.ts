/**
 * The AutoScalerPolicy controller: informers on policies, Deployments, Pods and HPAs feed a queue
 * that reconciles each policy at most once at a time (events coalesce while one runs), plus a
 * periodic resync. A reconcile reads the Deployment's scale subresource, its pods and the metrics,
 * decides (decide.ts), writes spec.replicas through deployments/scale with the resourceVersion it
 * read, then the policy's status; every scale and failure is an Event on the policy and a log line.
 * Only the leader reconciles; the cooldown comes from status.lastScaleTime, so it holds across
 * restarts and failover.
 */
import { AppsV1Api, CoreV1Api, CustomObjectsApi, type KubeConfig, type KubernetesObject, type V1Pod } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { formatMilli, toMilli } from '../autoscaler/quantity.ts';
import type { PodInfo } from '../autoscaler/types.ts';
import { backoffMs } from './api.ts';
import { Conditions, setDecisionConditions } from './conditions.ts';
import { decidePolicy } from './decide.ts';
import { messageOf } from './errors.ts';
import { PolicyEvents } from './events.ts';
import { Informers } from './informers.ts';
import { specProblems, type AutoScalerPolicy, type PolicySpec, type PolicyStatus } from './policy.ts';
import { WorkQueue } from './queue.ts';
import { MetricReader } from './read-metrics.ts';
import { Scaler } from './scale.ts';
import { nextStart } from './schedule.ts';
import { matches, selectorString } from './selector.ts';
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

const METRIC_RETRY_MS = 5_000;

export class PolicyController {
  readonly #o: ControllerOptions;
  readonly #apps: AppsV1Api;
  readonly #informers: Informers;
  readonly #queue: WorkQueue;
  readonly #events: PolicyEvents;
  readonly #status: StatusWriter;
  readonly #scaler: Scaler;
  readonly #metricReader: MetricReader;
  readonly #generations = new Map<string, number | undefined>();
  /** Writes this process made, in case the status write after one failed. */
  readonly #lastScale = new Map<string, number>();
  #resync: NodeJS.Timeout | undefined;

  constructor(options: ControllerOptions) {
    this.#o = options;
    const { kc, namespace, log, metrics } = options;
    this.#apps = kc.makeApiClient(AppsV1Api);
    this.#informers = new Informers(kc, namespace, log, metrics);
    this.#queue = new WorkQueue((key) => this.#run(key));
    this.#events = new PolicyEvents(kc.makeApiClient(CoreV1Api), options.identity, log, metrics, options.now ?? Date.now);
    this.#status = new StatusWriter(kc.makeApiClient(CustomObjectsApi), log, metrics);
    this.#scaler = new Scaler(this.#apps, log, () => !this.#queue.closed && options.isLeader());
    this.#metricReader = new MetricReader(kc, options.prometheusUrl, log, metrics);

    const { policies, deployments, pods, hpas } = this.#informers;
    const policyKey = (p: KubernetesObject) => `${p.metadata?.namespace}/${p.metadata?.name}`;
    policies.on('add', (p) => {
      this.#generations.set(policyKey(p), p.metadata?.generation);
      this.enqueue(policyKey(p));
    });
    policies.on('update', (p) => {
      // Status writes (ours) do not change the generation: no reconcile for them.
      const key = policyKey(p);
      if (this.#generations.get(key) === p.metadata?.generation) return;
      this.#generations.set(key, p.metadata?.generation);
      this.enqueue(key);
    });
    policies.on('delete', (p) => {
      const key = policyKey(p);
      this.#generations.delete(key);
      this.#lastScale.delete(key);
      this.#events.forget(key);
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
    this.#resync = setInterval(() => this.resyncAll(), this.#o.resyncMs);
    this.#resync.unref();
  }

  get synced(): boolean {
    return this.#informers.synced;
  }

  resyncAll(): void {
    for (const p of this.#informers.policies.list()) this.enqueue(`${p.metadata?.namespace}/${p.metadata?.name}`);
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
    for (const p of this.#informers.policies.list(namespace)) if (p.spec?.deploymentName === deployment) this.enqueue(`${namespace}/${p.metadata.name}`);
  }

  #enqueueForPod(pod: V1Pod): void {
    const namespace = pod.metadata?.namespace;
    if (!namespace) return;
    for (const p of this.#informers.policies.list(namespace)) {
      const deployment = this.#informers.deployments.get(p.spec?.deploymentName, namespace);
      if (deployment && matches(deployment.spec?.selector, pod.metadata?.labels)) this.enqueue(`${namespace}/${p.metadata.name}`);
    }
  }

  /** Reconciles key now, or right after the reconcile of it in flight. */
  enqueue(key: string): void {
    this.#queue.enqueue(key);
  }

  async #run(key: string): Promise<void> {
    try {
      const result = await this.reconcile(key);
      this.#o.metrics.reconciles.inc({ result });
    } catch (error) {
      this.#o.metrics.reconciles.inc({ result: 'error' });
      this.#o.metrics.errors.inc({ kind: 'api' });
      this.#o.log.error({ policy: key, err: messageOf(error) }, 'reconcile failed');
      this.#queue.requeueAfter(key, backoffMs(3));
    }
  }

  async reconcile(key: string): Promise<'ok' | 'skipped'> {
    const [namespace, name] = key.split('/') as [string, string];
    const policy = this.#informers.policies.get(name, namespace);
    if (!policy || !this.#o.isLeader()) return 'skipped';
    const now = (this.#o.now ?? Date.now)();
    const started = performance.now();
    const spec = policy.spec as PolicySpec;
    const previous = policy.status ?? {};
    const status: PolicyStatus = { ...previous, observedGeneration: policy.metadata.generation };
    const conditions = new Conditions(previous.conditions, now);

    const problems = specProblems(spec);
    if (problems.length > 0) {
      conditions.set('Ready', 'False', /time zone/.test(problems.join()) ? 'InvalidTimeZone' : 'InvalidSpec', problems.join('; '));
      await this.#status.write(policy, { ...status, conditions: conditions.list });
      await this.#events.warn(policy, 'InvalidSpec', problems.join('; '));
      return 'ok';
    }

    const hpas = this.#informers.hpas.list(namespace).filter((h) => h.spec?.scaleTargetRef?.kind === 'Deployment' && h.spec.scaleTargetRef.name === spec.deploymentName);
    const others = this.#informers.policies.list(namespace).filter((p) => p.metadata.name !== name && p.spec?.deploymentName === spec.deploymentName);
    if (hpas.length > 0 || others.length > 0) {
      const by = [...hpas.map((h) => `HorizontalPodAutoscaler ${h.metadata?.name}`), ...others.map((p) => `AutoScalerPolicy ${p.metadata.name}`)];
      const message = `Deployment ${spec.deploymentName} is also scaled by ${by.join(', ')}: not scaling until only this policy targets it`;
      conditions.set('Conflict', 'True', hpas.length > 0 ? 'HorizontalPodAutoscaler' : 'AutoScalerPolicy', message);
      conditions.set('Ready', 'False', 'Conflict', message);
      conditions.set('ScalingActive', 'False', 'Conflict', 'not scaling while another scaler targets the Deployment');
      await this.#status.write(policy, { ...status, conditions: conditions.list });
      await this.#events.warn(policy, 'Conflict', message);
      return 'ok';
    }
    conditions.set('Conflict', 'False', 'NoConflict', `only this policy scales Deployment ${spec.deploymentName}`);

    const deployment = this.#informers.deployments.get(spec.deploymentName, namespace);
    if (!deployment) {
      const message = `Deployment ${namespace}/${spec.deploymentName} not found`;
      conditions.set('Ready', 'False', 'DeploymentNotFound', message);
      await this.#status.write(policy, { ...status, conditions: conditions.list });
      await this.#events.warn(policy, 'DeploymentNotFound', message);
      return 'ok';
    }

    const scale = await this.#apps.readNamespacedDeploymentScale({ name: spec.deploymentName, namespace });
    const current = scale.spec?.replicas ?? 0;
    const pods = this.#informers.pods.list(namespace).filter((p) => matches(deployment.spec?.selector, p.metadata?.labels)).map(podInfo);
    const values = await this.#metricReader.read(spec, namespace, scale.status?.selector ?? selectorString(deployment.spec?.selector), now);
    const statusScale = previous.lastScaleTime ? Date.parse(previous.lastScaleTime) : undefined;
    const memoryScale = this.#lastScale.get(key);
    const lastScaleTime = statusScale === undefined ? memoryScale : memoryScale === undefined ? statusScale : Math.max(statusScale, memoryScale);
    const decision = decidePolicy({ spec, now, currentReplicas: current, pods, values, lastScaleTime, minCooldownSeconds: this.#o.minCooldownSeconds });
    const decisionSeconds = (performance.now() - started) / 1000;
    this.#o.metrics.decision.observe(decisionSeconds);
    this.#o.log.debug({ policy: key, current, desired: decision.desiredReplicas, write: decision.write, reason: decision.reason, decisionMs: Math.round(decisionSeconds * 1000) }, 'decided');

    let replicas = current;
    let scaledAt = lastScaleTime;
    let scaleError: string | undefined;
    if (decision.write && this.#o.isLeader()) {
      try {
        const written = await this.#scaler.scale(namespace, spec.deploymentName, decision.desiredReplicas, scale);
        if (written) {
          replicas = written.to;
          scaledAt = (this.#o.now ?? Date.now)();
          this.#lastScale.set(key, scaledAt);
          this.#o.metrics.scales.inc({ direction: written.to > written.from ? 'up' : 'down' });
          this.#o.log.info({ policy: key, deployment: spec.deploymentName, from: written.from, to: written.to, reason: decision.reason }, 'scaled');
          await this.#events.event(policy, 'Normal', 'Scaled', `Scaled Deployment ${spec.deploymentName} from ${written.from} to ${written.to}: ${decision.reason}`);
        } else replicas = decision.desiredReplicas;
      } catch (error) {
        scaleError = messageOf(error);
        this.#o.metrics.errors.inc({ kind: 'scale' });
        this.#o.log.error({ policy: key, deployment: spec.deploymentName, err: scaleError }, 'scale failed');
        await this.#events.warn(policy, 'FailedScale', `Could not scale Deployment ${spec.deploymentName} to ${decision.desiredReplicas}: ${scaleError}`);
        this.#queue.requeueAfter(key, backoffMs(4));
      }
    }

    setDecisionConditions(conditions, decision, scaleError, now, scaledAt);
    await this.#status.write(policy, {
      ...status,
      desiredReplicas: decision.desiredReplicas,
      currentReplicas: replicas,
      lastScaleTime: scaledAt === undefined ? undefined : new Date(scaledAt).toISOString(),
      metrics: decision.metrics,
      scheduleEntry: decision.schedule ? { ...decision.schedule.entry, since: new Date(decision.schedule.since).toISOString() } : undefined,
      conditions: conditions.list,
    });

    if (decision.metricErrors > 0) {
      const failed = decision.metrics.filter((m) => m.error !== undefined);
      await this.#events.warn(policy, 'FailedGetMetrics', failed.map((m) => `${m.type} ${m.name}: ${m.error}`).join('; '));
      this.#queue.requeueAfter(key, Math.min(METRIC_RETRY_MS, this.#o.resyncMs));
    } else if (!scaleError) this.#events.forget(key);
    // Wake up when something will change without an event: the cooldown ends, a window starts.
    const wakeups: number[] = [];
    if (!decision.write && decision.desiredReplicas !== current && decision.cooldown.until !== undefined) wakeups.push(decision.cooldown.until + 50);
    const next = nextStart(spec.schedule, now, spec.timeZone ?? 'UTC');
    if (next !== undefined && next - now < this.#o.resyncMs) wakeups.push(next + 50);
    if (wakeups.length > 0 && decision.metricErrors === 0) this.#queue.requeueAfter(key, Math.min(...wakeups) - now);
    return 'ok';
  }
}

function podInfo(pod: V1Pod): PodInfo {
  const ready = pod.status?.conditions?.find((c) => c.type === 'Ready');
  const requests: Record<string, string> = {};
  const cpu = (pod.spec?.containers ?? []).reduce<number | undefined>((sum, c) => {
    const request = c.resources?.requests?.cpu;
    return request === undefined ? sum : (sum ?? 0) + toMilli(request);
  }, undefined);
  if (cpu !== undefined) requests.cpu = formatMilli(cpu);
  const time = (value: Date | string | undefined) => (value === undefined ? undefined : new Date(value).getTime());
  return {
    name: pod.metadata?.name ?? '',
    phase: pod.status?.phase as PodInfo['phase'],
    ready: ready === undefined ? null : ready.status === 'True',
    startTime: time(pod.status?.startTime),
    readySince: time(ready?.lastTransitionTime),
    deleting: pod.metadata?.deletionTimestamp !== undefined,
    requests,
  };
}

