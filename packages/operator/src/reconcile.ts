/**
 * One reconcile of one policy, in the order it happens: load it, observe (the Deployment's scale,
 * its pods, the metrics), decide (decide.ts), act (write spec.replicas), status (conditions, the
 * status, events). It returns when to look at the policy again; the caller schedules that.
 * The cooldown starts at status.lastScaleTime, so it holds across restarts and failover.
 */
import type { AppsV1Api, V1Deployment, V1Scale } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { podInfo } from '@podscale/hpa/pod-info.ts';
import { backoffMs } from './api.ts';
import { Conditions, setDecisionConditions } from './conditions.ts';
import { decidePolicy, type PolicyDecision } from './decide.ts';
import { messageOf } from './errors.ts';
import type { PolicyEvents } from './events.ts';
import type { Informers } from './informers.ts';
import { specProblems, type AutoScalerPolicy, type PolicySpec, type PolicyStatus } from './policy.ts';
import type { MetricReader } from './read-metrics.ts';
import type { Scaler } from './scale.ts';
import { nextStart } from './schedule.ts';
import { matches, selectorString } from './selector.ts';
import { decidedStatus, type StatusWriter } from './status.ts';
import type { ControllerMetrics } from './telemetry.ts';

export interface ReconcileResult {
  /** skipped: the policy is gone, or this replica is not the leader. */
  result: 'ok' | 'skipped';
  /** Look at the policy again this long from now, event or not. */
  requeueAfterMs?: number;
}

export interface ReconcilerOptions {
  informers: Informers;
  apps: AppsV1Api;
  metricReader: MetricReader;
  scaler: Scaler;
  status: StatusWriter;
  events: PolicyEvents;
  log: Logger;
  metrics: ControllerMetrics;
  isLeader: () => boolean;
  now: () => number;
  minCooldownSeconds: number;
  resyncMs: number;
}

/** A failed metric read is tried again this soon (or at the resync, if that is sooner). */
const METRIC_RETRY_MS = 5_000;

/** What the write did: the replicas the Deployment now has, when it was last scaled, or why the write failed. */
interface Written {
  replicas: number;
  scaledAt: number | undefined;
  error?: string;
}

export class Reconciler {
  readonly #o: ReconcilerOptions;
  /** Writes this process made, in case the status write after one failed. */
  readonly #lastScale = new Map<string, number>();

  constructor(options: ReconcilerOptions) {
    this.#o = options;
  }

  /** A deleted policy: nothing of it is remembered. */
  forget(key: string): void {
    this.#lastScale.delete(key);
    this.#o.events.forget(key);
  }

  async reconcile(key: string): Promise<ReconcileResult> {
    const { informers, log, metrics } = this.#o;
    // 1. Load the policy; only the leader acts.
    const [namespace, name] = key.split('/') as [string, string];
    const policy = informers.policies.get(name, namespace);
    if (!policy || !this.#o.isLeader()) return { result: 'skipped' };
    const now = this.#o.now();
    const started = performance.now();
    const spec = policy.spec as PolicySpec;
    const previous = policy.status ?? {};
    const status: PolicyStatus = { ...previous, observedGeneration: policy.metadata.generation };
    const conditions = new Conditions(previous.conditions, now);

    // 2. Refuse what cannot be acted on: an invalid spec, another scaler on the Deployment, no Deployment.
    const target = this.#target(policy, namespace, conditions);
    if ('refused' in target) {
      await this.#o.status.write(policy, { ...status, conditions: conditions.list });
      await this.#o.events.warn(policy, target.refused, target.message);
      return { result: 'ok' };
    }

    // 3. Observe: the Deployment's scale, its pods, the metrics, the last write.
    const { deployment } = target;
    const scale = await this.#o.apps.readNamespacedDeploymentScale({ name: spec.deploymentName, namespace });
    const current = scale.spec?.replicas ?? 0;
    const pods = informers.pods.list(namespace).filter((p) => matches(deployment.spec?.selector, p.metadata?.labels)).map(podInfo);
    const values = await this.#o.metricReader.read(spec, namespace, scale.status?.selector ?? selectorString(deployment.spec?.selector), now);
    const lastScaleTime = this.#lastScaleTime(key, previous.lastScaleTime);

    // 4. Decide.
    const decision = decidePolicy({ spec, now, currentReplicas: current, pods, values, lastScaleTime, minCooldownSeconds: this.#o.minCooldownSeconds });
    const decisionSeconds = (performance.now() - started) / 1000;
    metrics.decision.observe(decisionSeconds);
    log.debug({ policy: key, current, desired: decision.desiredReplicas, write: decision.write, reason: decision.reason, decisionMs: Math.round(decisionSeconds * 1000) }, 'decided');

    // 5. Act: write the replicas (the lease may have been lost while reading).
    const written: Written = decision.write && this.#o.isLeader() ? await this.#scale(policy, key, decision, scale, lastScaleTime) : { replicas: current, scaledAt: lastScaleTime };

    // 6. Status: conditions, the status, warnings.
    setDecisionConditions(conditions, decision, written.error, now, written.scaledAt);
    await this.#o.status.write(policy, decidedStatus(status, decision, written.replicas, written.scaledAt, conditions.list));
    if (decision.metricErrors > 0) {
      const failed = decision.metrics.filter((m) => m.error !== undefined);
      await this.#o.events.warn(policy, 'FailedGetMetrics', failed.map((m) => `${m.type} ${m.name}: ${m.error}`).join('; '));
    } else if (!written.error) this.#o.events.forget(key);

    // 7. When to look again.
    return { result: 'ok', requeueAfterMs: this.#requeueAfter(spec, decision, current, now, written.error !== undefined) };
  }

  /** The Deployment the policy scales, or why it cannot be scaled (its conditions set). */
  #target(policy: AutoScalerPolicy, namespace: string, conditions: Conditions): { deployment: V1Deployment } | { refused: string; message: string } {
    const { informers } = this.#o;
    const spec = policy.spec as PolicySpec;
    const problems = specProblems(spec);
    if (problems.length > 0) {
      conditions.set('Ready', 'False', /time zone/.test(problems.join()) ? 'InvalidTimeZone' : 'InvalidSpec', problems.join('; '));
      return { refused: 'InvalidSpec', message: problems.join('; ') };
    }

    const hpas = informers.hpas.list(namespace).filter((h) => h.spec?.scaleTargetRef?.kind === 'Deployment' && h.spec.scaleTargetRef.name === spec.deploymentName);
    const others = informers.policies.list(namespace).filter((p) => p.metadata.name !== policy.metadata.name && p.spec?.deploymentName === spec.deploymentName);
    if (hpas.length > 0 || others.length > 0) {
      const by = [...hpas.map((h) => `HorizontalPodAutoscaler ${h.metadata?.name}`), ...others.map((p) => `AutoScalerPolicy ${p.metadata.name}`)];
      const message = `Deployment ${spec.deploymentName} is also scaled by ${by.join(', ')}: not scaling until only this policy targets it`;
      conditions.set('Conflict', 'True', hpas.length > 0 ? 'HorizontalPodAutoscaler' : 'AutoScalerPolicy', message);
      conditions.set('Ready', 'False', 'Conflict', message);
      conditions.set('ScalingActive', 'False', 'Conflict', 'not scaling while another scaler targets the Deployment');
      return { refused: 'Conflict', message };
    }
    conditions.set('Conflict', 'False', 'NoConflict', `only this policy scales Deployment ${spec.deploymentName}`);

    const deployment = informers.deployments.get(spec.deploymentName, namespace);
    if (!deployment) {
      const message = `Deployment ${namespace}/${spec.deploymentName} not found`;
      conditions.set('Ready', 'False', 'DeploymentNotFound', message);
      return { refused: 'DeploymentNotFound', message };
    }
    return { deployment };
  }

  /** The later of status.lastScaleTime and this process's last write: the cooldown starts there. */
  #lastScaleTime(key: string, fromStatus: string | undefined): number | undefined {
    const statusScale = fromStatus ? Date.parse(fromStatus) : undefined;
    const memoryScale = this.#lastScale.get(key);
    return statusScale === undefined ? memoryScale : memoryScale === undefined ? statusScale : Math.max(statusScale, memoryScale);
  }

  async #scale(policy: AutoScalerPolicy, key: string, decision: PolicyDecision, scale: V1Scale, lastScaleTime: number | undefined): Promise<Written> {
    const { log, metrics, events } = this.#o;
    const deployment = (policy.spec as PolicySpec).deploymentName;
    const current = scale.spec?.replicas ?? 0;
    try {
      const written = await this.#o.scaler.scale(policy.metadata.namespace!, deployment, decision.desiredReplicas, scale);
      if (!written) return { replicas: decision.desiredReplicas, scaledAt: lastScaleTime };
      const scaledAt = this.#o.now();
      this.#lastScale.set(key, scaledAt);
      metrics.scales.inc({ direction: written.to > written.from ? 'up' : 'down' });
      log.info({ policy: key, deployment, from: written.from, to: written.to, reason: decision.reason }, 'scaled');
      await events.event(policy, 'Normal', 'Scaled', `Scaled Deployment ${deployment} from ${written.from} to ${written.to}: ${decision.reason}`);
      return { replicas: written.to, scaledAt };
    } catch (error) {
      const message = messageOf(error);
      metrics.errors.inc({ kind: 'scale' });
      log.error({ policy: key, deployment, err: message }, 'scale failed');
      await events.warn(policy, 'FailedScale', `Could not scale Deployment ${deployment} to ${decision.desiredReplicas}: ${message}`);
      return { replicas: current, scaledAt: lastScaleTime, error: message };
    }
  }

  /**
   * A failed metric is read again soon; otherwise wake up when something changes without an event
   * (the cooldown ends, a schedule window starts), else retry a failed write; else the next event or resync.
   */
  #requeueAfter(spec: PolicySpec, decision: PolicyDecision, current: number, now: number, scaleFailed: boolean): number | undefined {
    if (decision.metricErrors > 0) return Math.min(METRIC_RETRY_MS, this.#o.resyncMs);
    // 50 ms past the instant, so the reconcile then sees the cooldown over or the window begun.
    const wakeups: number[] = [];
    if (!decision.write && decision.desiredReplicas !== current && decision.cooldown.until !== undefined) wakeups.push(decision.cooldown.until + 50);
    const next = nextStart(spec.schedule, now, spec.timeZone ?? 'UTC');
    if (next !== undefined && next - now < this.#o.resyncMs) wakeups.push(next + 50);
    if (wakeups.length > 0) return Math.min(...wakeups) - now;
    return scaleFailed ? backoffMs(4) : undefined;
  }
}
