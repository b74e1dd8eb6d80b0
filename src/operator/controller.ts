/**
 * The AutoScalerPolicy controller: informers on policies, Deployments, Pods and HPAs feed a queue
 * that reconciles each policy at most once at a time (events coalesce while one runs), plus a
 * periodic resync. A reconcile reads the Deployment's scale subresource, its pods and the metrics,
 * decides (decide.ts), writes spec.replicas through deployments/scale with the resourceVersion it
 * read, then the policy's status; every scale and failure is an Event on the policy and a log line.
 * Only the leader reconciles; the cooldown comes from status.lastScaleTime, so it holds across
 * restarts and failover.
 */
import {
  AppsV1Api,
  AutoscalingV2Api,
  CoreV1Api,
  CustomObjectsApi,
  makeInformer,
  PatchStrategy,
  setHeaderOptions,
  type Informer,
  type KubeConfig,
  type KubernetesObject,
  type ObjectCache,
  type V1Deployment,
  type V1Pod,
  type V1Scale,
  type V2HorizontalPodAutoscaler,
} from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { formatMilli, toMilli } from '../autoscaler/quantity.ts';
import type { PodInfo } from '../autoscaler/types.ts';
import { messageOf } from './errors.ts';
import { decidePolicy, type MetricValues, type PolicyDecision } from './decide.ts';
import { GROUP, KIND, metricLabel, PLURAL, specProblems, VERSION, type AutoScalerPolicy, type Condition, type PolicySpec, type PolicyStatus } from './policy.ts';
import { nextStart } from './schedule.ts';
import { matches, selectorString } from './selector.ts';
import { KafkaLagReader, queryPrometheus, readCpu, readPodsMetric } from './sources.ts';
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

const MERGE = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
const METRIC_RETRY_MS = 5_000;
const codeOf = (error: unknown): number | undefined => {
  const code = (error as { code?: unknown }).code;
  return typeof code === 'number' ? code : undefined;
};
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
/** Exponential backoff with ±50 % jitter: 200 ms, 400 ms, 800 ms … capped at 5 s. */
export const backoffMs = (attempt: number) => Math.min(5_000, 200 * 2 ** attempt) * (0.5 + Math.random());
const retriable = (error: unknown) => {
  const code = codeOf(error);
  return code === undefined || code === 409 || code === 429 || code >= 500;
};

interface Watched<T extends KubernetesObject> {
  name: string;
  informer: Informer<T> & ObjectCache<T>;
  synced: boolean;
}

export class PolicyController {
  readonly #o: ControllerOptions;
  readonly #apps: AppsV1Api;
  readonly #core: CoreV1Api;
  readonly #custom: CustomObjectsApi;
  readonly #policies: Watched<AutoScalerPolicy & KubernetesObject>;
  readonly #deployments: Watched<V1Deployment>;
  readonly #pods: Watched<V1Pod>;
  readonly #hpas: Watched<V2HorizontalPodAutoscaler>;
  readonly #running = new Set<string>();
  readonly #dirty = new Set<string>();
  readonly #timers = new Map<string, NodeJS.Timeout>();
  readonly #generations = new Map<string, number | undefined>();
  /** Writes this process made, in case the status write after one failed. */
  readonly #lastScale = new Map<string, number>();
  /** The last warning per policy, so a failure repeated at every resync is one Event. */
  readonly #lastWarning = new Map<string, string>();
  readonly #kafka: KafkaLagReader;
  #resync: NodeJS.Timeout | undefined;
  #stopped = false;

  constructor(options: ControllerOptions) {
    this.#o = options;
    this.#kafka = new KafkaLagReader(options.log.child({ source: 'kafka' }));
    const { kc, namespace } = options;
    this.#apps = kc.makeApiClient(AppsV1Api);
    this.#core = kc.makeApiClient(CoreV1Api);
    this.#custom = kc.makeApiClient(CustomObjectsApi);
    const autoscaling = kc.makeApiClient(AutoscalingV2Api);
    const ns = namespace ? `/namespaces/${namespace}` : '';
    this.#policies = this.#watch('policies', `/apis/${GROUP}/${VERSION}${ns}/${PLURAL}`, () =>
      namespace ? this.#custom.listNamespacedCustomObject({ group: GROUP, version: VERSION, namespace, plural: PLURAL }) : this.#custom.listClusterCustomObject({ group: GROUP, version: VERSION, plural: PLURAL }),
    );
    this.#deployments = this.#watch('deployments', `/apis/apps/v1${ns}/deployments`, () => (namespace ? this.#apps.listNamespacedDeployment({ namespace }) : this.#apps.listDeploymentForAllNamespaces()));
    this.#pods = this.#watch('pods', `/api/v1${ns}/pods`, () => (namespace ? this.#core.listNamespacedPod({ namespace }) : this.#core.listPodForAllNamespaces()));
    this.#hpas = this.#watch('horizontalpodautoscalers', `/apis/autoscaling/v2${ns}/horizontalpodautoscalers`, () =>
      namespace ? autoscaling.listNamespacedHorizontalPodAutoscaler({ namespace }) : autoscaling.listHorizontalPodAutoscalerForAllNamespaces(),
    );

    const policyKey = (p: KubernetesObject) => `${p.metadata?.namespace}/${p.metadata?.name}`;
    this.#policies.informer.on('add', (p) => {
      this.#generations.set(policyKey(p), p.metadata?.generation);
      this.enqueue(policyKey(p));
    });
    this.#policies.informer.on('update', (p) => {
      // Status writes (ours) do not change the generation: no reconcile for them.
      const key = policyKey(p);
      if (this.#generations.get(key) === p.metadata?.generation) return;
      this.#generations.set(key, p.metadata?.generation);
      this.enqueue(key);
    });
    this.#policies.informer.on('delete', (p) => {
      const key = policyKey(p);
      this.#generations.delete(key);
      this.#lastScale.delete(key);
      this.#lastWarning.delete(key);
      clearTimeout(this.#timers.get(key));
      this.#timers.delete(key);
      // A policy that conflicted with this one may be alone now.
      this.#enqueueTargeting(p.metadata?.namespace, (p as AutoScalerPolicy).spec?.deploymentName);
    });
    for (const verb of ['add', 'update', 'delete'] as const) {
      this.#deployments.informer.on(verb, (d) => this.#enqueueTargeting(d.metadata?.namespace, d.metadata?.name));
      this.#hpas.informer.on(verb, (h) => this.#enqueueTargeting(h.metadata?.namespace, h.spec?.scaleTargetRef?.name));
      this.#pods.informer.on(verb, (pod) => this.#enqueueForPod(pod));
    }
  }

  #watch<T extends KubernetesObject>(name: string, path: string, list: () => Promise<unknown>): Watched<T> {
    const informer = makeInformer<T>(this.#o.kc, path, list as never);
    const watched: Watched<T> = { name, informer, synced: false };
    let failures = 0;
    informer.on('error', (error: unknown) => {
      watched.synced = false;
      if (this.#stopped) return; // stop() aborts the watch: not a failure
      this.#o.metrics.errors.inc({ kind: 'informer' });
      const delay = backoffMs(Math.min(failures++, 5));
      this.#o.log.warn({ informer: name, err: messageOf(error), retryInMs: Math.round(delay) }, 'informer stopped on an error; restarting');
      // client-node relists by itself on 410 Gone; on any other error it stops and must be started again.
      setTimeout(() => void this.#startInformer(watched, () => (failures = 0)), delay);
    });
    return watched;
  }

  async #startInformer<T extends KubernetesObject>(watched: Watched<T>, onSynced?: () => void): Promise<void> {
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

  /** Starts the informers; resolves when each has listed once (or keeps retrying in the background). */
  async start(): Promise<void> {
    await Promise.all([this.#policies, this.#deployments, this.#pods, this.#hpas].map((w) => this.#startInformer(w as Watched<KubernetesObject>)));
    this.#resync = setInterval(() => this.resyncAll(), this.#o.resyncMs);
    this.#resync.unref();
  }

  get synced(): boolean {
    return [this.#policies, this.#deployments, this.#pods, this.#hpas].every((w) => w.synced);
  }

  resyncAll(): void {
    for (const p of this.#policies.informer.list()) this.enqueue(`${p.metadata?.namespace}/${p.metadata?.name}`);
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearInterval(this.#resync);
    for (const timer of this.#timers.values()) clearTimeout(timer);
    await Promise.all([this.#policies, this.#deployments, this.#pods, this.#hpas].map((w) => w.informer.stop()));
    // Let a reconcile in flight finish its writes.
    const deadline = Date.now() + 5_000;
    while (this.#running.size > 0 && Date.now() < deadline) await sleep(20);
    await this.#kafka.close();
  }

  #enqueueTargeting(namespace: string | undefined, deployment: string | undefined): void {
    if (!namespace || !deployment) return;
    for (const p of this.#policies.informer.list(namespace)) if (p.spec?.deploymentName === deployment) this.enqueue(`${namespace}/${p.metadata.name}`);
  }

  #enqueueForPod(pod: V1Pod): void {
    const namespace = pod.metadata?.namespace;
    if (!namespace) return;
    for (const p of this.#policies.informer.list(namespace)) {
      const deployment = this.#deployments.informer.get(p.spec?.deploymentName, namespace);
      if (deployment && matches(deployment.spec?.selector, pod.metadata?.labels)) this.enqueue(`${namespace}/${p.metadata.name}`);
    }
  }

  /** Reconciles key now, or right after the reconcile of it in flight. */
  enqueue(key: string): void {
    if (this.#stopped) return;
    if (this.#running.has(key)) {
      this.#dirty.add(key);
      return;
    }
    void this.#run(key);
  }

  #requeueAfter(key: string, ms: number): void {
    clearTimeout(this.#timers.get(key));
    const timer = setTimeout(() => {
      this.#timers.delete(key);
      this.enqueue(key);
    }, Math.max(ms, 0));
    timer.unref();
    this.#timers.set(key, timer);
  }

  async #run(key: string): Promise<void> {
    this.#running.add(key);
    try {
      do {
        this.#dirty.delete(key);
        try {
          const result = await this.reconcile(key);
          this.#o.metrics.reconciles.inc({ result });
        } catch (error) {
          this.#o.metrics.reconciles.inc({ result: 'error' });
          this.#o.metrics.errors.inc({ kind: 'api' });
          this.#o.log.error({ policy: key, err: messageOf(error) }, 'reconcile failed');
          this.#requeueAfter(key, backoffMs(3));
        }
      } while (this.#dirty.has(key) && !this.#stopped);
    } finally {
      this.#running.delete(key);
    }
  }

  async reconcile(key: string): Promise<'ok' | 'skipped'> {
    const [namespace, name] = key.split('/') as [string, string];
    const policy = this.#policies.informer.get(name, namespace);
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
      await this.#writeStatus(policy, { ...status, conditions: conditions.list });
      await this.#warn(policy, 'InvalidSpec', problems.join('; '));
      return 'ok';
    }

    const hpas = this.#hpas.informer.list(namespace).filter((h) => h.spec?.scaleTargetRef?.kind === 'Deployment' && h.spec.scaleTargetRef.name === spec.deploymentName);
    const others = this.#policies.informer.list(namespace).filter((p) => p.metadata.name !== name && p.spec?.deploymentName === spec.deploymentName);
    if (hpas.length > 0 || others.length > 0) {
      const by = [...hpas.map((h) => `HorizontalPodAutoscaler ${h.metadata?.name}`), ...others.map((p) => `AutoScalerPolicy ${p.metadata.name}`)];
      const message = `Deployment ${spec.deploymentName} is also scaled by ${by.join(', ')}: not scaling until only this policy targets it`;
      conditions.set('Conflict', 'True', hpas.length > 0 ? 'HorizontalPodAutoscaler' : 'AutoScalerPolicy', message);
      conditions.set('Ready', 'False', 'Conflict', message);
      conditions.set('ScalingActive', 'False', 'Conflict', 'not scaling while another scaler targets the Deployment');
      await this.#writeStatus(policy, { ...status, conditions: conditions.list });
      await this.#warn(policy, 'Conflict', message);
      return 'ok';
    }
    conditions.set('Conflict', 'False', 'NoConflict', `only this policy scales Deployment ${spec.deploymentName}`);

    const deployment = this.#deployments.informer.get(spec.deploymentName, namespace);
    if (!deployment) {
      const message = `Deployment ${namespace}/${spec.deploymentName} not found`;
      conditions.set('Ready', 'False', 'DeploymentNotFound', message);
      await this.#writeStatus(policy, { ...status, conditions: conditions.list });
      await this.#warn(policy, 'DeploymentNotFound', message);
      return 'ok';
    }

    const scale = await this.#apps.readNamespacedDeploymentScale({ name: spec.deploymentName, namespace });
    const current = scale.spec?.replicas ?? 0;
    const pods = this.#pods.informer.list(namespace).filter((p) => matches(deployment.spec?.selector, p.metadata?.labels)).map(podInfo);
    const values = await this.#readMetrics(spec, namespace, scale.status?.selector ?? selectorString(deployment.spec?.selector), now);
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
        const written = await this.#scale(namespace, spec.deploymentName, decision.desiredReplicas, scale);
        if (written) {
          replicas = written.to;
          scaledAt = (this.#o.now ?? Date.now)();
          this.#lastScale.set(key, scaledAt);
          this.#o.metrics.scales.inc({ direction: written.to > written.from ? 'up' : 'down' });
          this.#o.log.info({ policy: key, deployment: spec.deploymentName, from: written.from, to: written.to, reason: decision.reason }, 'scaled');
          await this.#event(policy, 'Normal', 'Scaled', `Scaled Deployment ${spec.deploymentName} from ${written.from} to ${written.to}: ${decision.reason}`);
        } else replicas = decision.desiredReplicas;
      } catch (error) {
        scaleError = messageOf(error);
        this.#o.metrics.errors.inc({ kind: 'scale' });
        this.#o.log.error({ policy: key, deployment: spec.deploymentName, err: scaleError }, 'scale failed');
        await this.#warn(policy, 'FailedScale', `Could not scale Deployment ${spec.deploymentName} to ${decision.desiredReplicas}: ${scaleError}`);
        this.#requeueAfter(key, backoffMs(4));
      }
    }

    this.#conditionsFor(conditions, decision, scaleError, now, scaledAt);
    await this.#writeStatus(policy, {
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
      await this.#warn(policy, 'FailedGetMetrics', failed.map((m) => `${m.type} ${m.name}: ${m.error}`).join('; '));
      this.#requeueAfter(key, Math.min(METRIC_RETRY_MS, this.#o.resyncMs));
    } else if (!scaleError) this.#lastWarning.delete(key);
    // Wake up when something will change without an event: the cooldown ends, a window starts.
    const wakeups: number[] = [];
    if (!decision.write && decision.desiredReplicas !== current && decision.cooldown.until !== undefined) wakeups.push(decision.cooldown.until + 50);
    const next = nextStart(spec.schedule, now, spec.timeZone ?? 'UTC');
    if (next !== undefined && next - now < this.#o.resyncMs) wakeups.push(next + 50);
    if (wakeups.length > 0 && decision.metricErrors === 0) this.#requeueAfter(key, Math.min(...wakeups) - now);
    return 'ok';
  }

  #conditionsFor(conditions: Conditions, decision: PolicyDecision, scaleError: string | undefined, now: number, scaledAt: number | undefined): void {
    if (scaleError) conditions.set('Ready', 'False', 'FailedScale', scaleError);
    else conditions.set('Ready', 'True', 'Reconciled', decision.reason);
    if (decision.metricErrors === 0) conditions.set('ScalingActive', 'True', 'ValidMetrics', 'every metric was read');
    else {
      const failed = decision.metrics.filter((m) => m.error !== undefined);
      conditions.set('ScalingActive', 'False', 'FailedGetMetrics', `${failed.length} of ${decision.metrics.length} metric(s) could not be read; replicas are not lowered for them: ${failed.map((m) => `${m.name}: ${m.error}`).join('; ')}`);
    }
    const limits = {
      TooManyReplicas: 'capped at maxReplicas',
      TooFewReplicas: 'raised to minReplicas',
      ScheduleFloor: 'raised to the floor of the schedule entry in force',
      PartitionCount: "capped at the Kafka topic's partition count (a replica beyond it would sit idle; allowIdleConsumers: true allows more)",
    } as const;
    if (decision.limit) conditions.set('ScalingLimited', 'True', decision.limit, `desired replicas ${limits[decision.limit]}: ${decision.desiredReplicas}`);
    else conditions.set('ScalingLimited', 'False', 'DesiredWithinRange', 'the desired replicas are within range');
    const until = scaledAt === undefined ? undefined : scaledAt + decision.cooldown.seconds * 1000;
    if (until !== undefined && now < until) conditions.set('CooldownActive', 'True', 'ScaledRecently', `no write to the Deployment until ${new Date(until).toISOString()} (cooldown ${decision.cooldown.seconds}s)`);
    else conditions.set('CooldownActive', 'False', 'CooldownExpired', `cooldown ${decision.cooldown.seconds}s`);
  }

  async #readMetrics(spec: PolicySpec, namespace: string, selector: string, now: number): Promise<MetricValues> {
    const values: MetricValues = { errors: {}, pods: {}, prometheus: {}, kafka: {} };
    await Promise.all(
      (spec.metrics ?? []).map(async (metric) => {
        try {
          if (metric.type === 'CPU') values.cpu = await readCpu(this.#o.kc, namespace, selector);
          else if (metric.type === 'Pods') values.pods![metric.name] = await readPodsMetric(this.#o.kc, namespace, selector, metric.name);
          else if (metric.type === 'KafkaLag') values.kafka![metricLabel(metric)] = await this.#kafka.read(metric);
          else values.prometheus![metric.query] = await queryPrometheus(this.#o.prometheusUrl, metric.query, now);
        } catch (error) {
          this.#o.metrics.errors.inc({ kind: 'metric' });
          values.errors![metricLabel(metric)] = messageOf(error);
        }
      }),
    );
    return values;
  }

  /** Writes spec.replicas through deployments/scale with the resourceVersion read; retries conflicts and 5xx. */
  async #scale(namespace: string, name: string, replicas: number, read: V1Scale): Promise<{ from: number; to: number } | undefined> {
    let scale = read;
    for (let attempt = 0; ; attempt += 1) {
      const from = scale.spec?.replicas ?? 0;
      if (from === replicas) return undefined;
      try {
        await this.#apps.patchNamespacedDeploymentScale({ name, namespace, body: { metadata: { resourceVersion: scale.metadata?.resourceVersion }, spec: { replicas } } }, MERGE);
        return { from, to: replicas };
      } catch (error) {
        if (!retriable(error) || attempt >= 4 || this.#stopped || !this.#o.isLeader()) throw error;
        const delay = backoffMs(attempt);
        this.#o.log.warn({ deployment: `${namespace}/${name}`, code: codeOf(error), attempt, retryInMs: Math.round(delay) }, 'scale write failed; retrying');
        await sleep(delay);
        scale = await this.#apps.readNamespacedDeploymentScale({ name, namespace });
      }
    }
  }

  async #writeStatus(policy: AutoScalerPolicy, status: PolicyStatus): Promise<void> {
    const clean = JSON.parse(JSON.stringify(status)) as PolicyStatus;
    if (JSON.stringify(clean) === JSON.stringify(policy.status ?? {})) return;
    // Merge patch: a field this status lacks but the old one has is removed with null.
    const body: Record<string, unknown> = { ...clean };
    for (const field of Object.keys(policy.status ?? {})) if (!(field in body)) body[field] = null;
    for (let attempt = 0; ; attempt += 1) {
      try {
        await this.#custom.patchNamespacedCustomObjectStatus({ group: GROUP, version: VERSION, namespace: policy.metadata.namespace!, plural: PLURAL, name: policy.metadata.name, body: { status: body } }, MERGE);
        return;
      } catch (error) {
        this.#o.metrics.errors.inc({ kind: 'status' });
        if (!retriable(error) || attempt >= 3) {
          this.#o.log.error({ policy: `${policy.metadata.namespace}/${policy.metadata.name}`, err: messageOf(error) }, 'status write failed');
          return;
        }
        await sleep(backoffMs(attempt));
      }
    }
  }

  async #warn(policy: AutoScalerPolicy, reason: string, message: string): Promise<void> {
    const key = `${policy.metadata.namespace}/${policy.metadata.name}`;
    if (this.#lastWarning.get(key) === `${reason}:${message}`) return;
    this.#lastWarning.set(key, `${reason}:${message}`);
    this.#o.log.warn({ policy: key, reason }, message);
    await this.#event(policy, 'Warning', reason, message);
  }

  async #event(policy: AutoScalerPolicy, type: 'Normal' | 'Warning', reason: string, message: string): Promise<void> {
    const namespace = policy.metadata.namespace!;
    const now = new Date((this.#o.now ?? Date.now)());
    try {
      await this.#core.createNamespacedEvent({
        namespace,
        body: {
          metadata: { generateName: `${policy.metadata.name}.`, namespace },
          involvedObject: { apiVersion: `${GROUP}/${VERSION}`, kind: KIND, name: policy.metadata.name, namespace, uid: policy.metadata.uid, resourceVersion: policy.metadata.resourceVersion },
          type,
          reason,
          message: message.slice(0, 1024),
          source: { component: 'podscale-controller' },
          reportingComponent: 'podscale-controller',
          reportingInstance: this.#o.identity,
          firstTimestamp: now,
          lastTimestamp: now,
          count: 1,
        },
      });
    } catch (error) {
      this.#o.metrics.errors.inc({ kind: 'event' });
      this.#o.log.warn({ err: messageOf(error), reason }, 'event not recorded');
    }
  }
}

/** Status conditions; lastTransitionTime moves only when a condition's status changes. */
class Conditions {
  readonly #previous: Map<string, Condition>;
  readonly #now: string;
  readonly #current = new Map<string, Condition>();

  constructor(previous: Condition[] | undefined, now: number) {
    this.#previous = new Map((previous ?? []).map((c) => [c.type, c]));
    this.#now = new Date(now).toISOString().replace(/\.\d+Z$/, 'Z');
    for (const c of previous ?? []) this.#current.set(c.type, c);
  }

  set(type: Condition['type'], status: Condition['status'], reason: string, message: string): void {
    const before = this.#previous.get(type);
    this.#current.set(type, { type, status, reason, message: message.slice(0, 1024), lastTransitionTime: before?.status === status ? (before.lastTransitionTime ?? this.#now) : this.#now });
  }

  get list(): Condition[] {
    const order = ['Ready', 'ScalingActive', 'ScalingLimited', 'CooldownActive', 'Conflict'];
    return [...this.#current.values()].sort((a, b) => order.indexOf(a.type) - order.indexOf(b.type));
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

