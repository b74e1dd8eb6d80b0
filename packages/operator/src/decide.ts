/**
 * One policy decision, pure: every metric proposes replicas with the HPA's arithmetic
 * (packages/hpa/src's proposals(), one metric spec per policy metric), the highest proposal wins, the
 * schedule entry in force raises it to its floor, then minReplicas/maxReplicas bound it; the
 * cooldown decides whether it is written now. A metric that cannot be read never lowers replicas.
 */
import { proposals } from '@podscale/hpa/proposals.ts';
import type { MetricSpec, Observed, PodInfo, ResourceSample } from '@podscale/hpa/types.ts';
import type { Quantity } from '@podscale/hpa/quantity.ts';
import { effectiveCooldown, metricLabel, type MetricStatus, type PolicyMetric, type PolicySpec } from './policy.ts';
import { entryInForce, type EntryInForce } from './schedule.ts';

/** What the controller read for a policy's metrics. A metric with no entry could not be read. */
export interface MetricValues {
  /** metrics.k8s.io: pod → CPU usage. */
  cpu?: Record<string, Quantity | ResourceSample>;
  /** custom.metrics.k8s.io: metric name → pod → value. */
  pods?: Record<string, Record<string, Quantity>>;
  /** query → the query's value (one number: the sum of its series). */
  prometheus?: Record<string, number>;
  /** KafkaLag, by its label (`group@topic`): the summed lag and the topic's partition count. */
  kafka?: Record<string, { lag: number; partitions: number }>;
  /** Why a metric could not be read, by its label (cpu, the metric name, or the query). */
  errors?: Record<string, string>;
}

export interface PolicyInput {
  spec: PolicySpec;
  /** ms since the epoch. */
  now: number;
  /** The Deployment's spec.replicas (from its scale subresource). */
  currentReplicas: number;
  /** Every pod the Deployment's selector matches. */
  pods?: PodInfo[];
  values?: MetricValues;
  /** status.lastScaleTime (ms since the epoch): the cooldown survives restarts and failover. */
  lastScaleTime?: number;
  minCooldownSeconds?: number;
  tolerance?: number;
}

export type Limit = 'TooManyReplicas' | 'TooFewReplicas' | 'ScheduleFloor' | 'PartitionCount' | undefined;

export interface PolicyDecision {
  desiredReplicas: number;
  /** Whether the controller writes desiredReplicas now. */
  write: boolean;
  reason: string;
  metrics: MetricStatus[];
  schedule?: EntryInForce;
  limit: Limit;
  cooldown: { seconds: number; active: boolean; until?: number; bypassed: boolean };
  metricErrors: number;
}

function thresholdText(value: number): string {
  return String(value);
}

/** The HPA metric spec one policy metric is computed as. */
function hpaMetric(metric: PolicyMetric, index: number): MetricSpec {
  switch (metric.type) {
    case 'CPU':
      return { type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: metric.threshold } } };
    case 'Pods':
      return { type: 'Pods', pods: { metric: { name: metric.name }, target: { type: 'AverageValue', averageValue: metric.threshold } } };
    case 'Prometheus':
      return { type: 'External', external: { metric: { name: `prometheus-${index}` }, target: { type: 'AverageValue', averageValue: metric.threshold } } };
    // The lag is one number for the whole group, like a query's value: the same External
    // AverageValue arithmetic, desired = ceil(lag / threshold) (outside the tolerance).
    case 'KafkaLag':
      return { type: 'External', external: { metric: { name: `kafka-${index}` }, target: { type: 'AverageValue', averageValue: metric.threshold } } };
  }
}

/**
 * A KafkaLag proposal beyond the topic's partitions: capped at them (a consumer with no partition
 * sits idle), or, with allowIdleConsumers, kept and said so.
 */
function capAtPartitions(metric: PolicyMetric & { type: 'KafkaLag' }, proposal: number, partitions: number): { proposal: number; limited?: string } {
  if (proposal <= partitions) return { proposal };
  if (metric.allowIdleConsumers) return { proposal, limited: `${proposal} replicas for ${partitions} partitions: ${proposal - partitions} get no partition and sit idle (allowIdleConsumers)` };
  return { proposal: partitions, limited: `capped at the topic's ${partitions} partitions (${proposal} proposed): a replica beyond them would get no partition and sit idle; allowIdleConsumers: true allows more` };
}

/** Each metric's proposal, or why it has none. */
export function proposeAll(input: PolicyInput): MetricStatus[] {
  const values = input.values ?? {};
  const nowSeconds = input.now / 1000;
  return (input.spec.metrics ?? []).map((metric, index) => {
    const label = metricLabel(metric);
    const status: MetricStatus = { type: metric.type, name: label, threshold: thresholdText(metric.threshold) };
    const readError = values.errors?.[label];
    if (readError !== undefined) return { ...status, error: readError };
    const observed: Observed = {};
    if (metric.type === 'CPU') {
      if (!values.cpu) return { ...status, error: 'no CPU metrics (metrics.k8s.io) read' };
      observed.resource = { cpu: Object.fromEntries(Object.entries(values.cpu).map(([pod, v]) => [pod, typeof v === 'object' ? { ...v, timestamp: v.timestamp === undefined ? undefined : v.timestamp / 1000 } : v])) };
    } else if (metric.type === 'Pods') {
      const perPod = values.pods?.[metric.name];
      if (!perPod) return { ...status, error: `no values of ${metric.name} (custom.metrics.k8s.io) read` };
      observed.pods = { [metric.name]: perPod };
    } else if (metric.type === 'Prometheus') {
      const value = values.prometheus?.[metric.query];
      if (value === undefined || !Number.isFinite(value)) return { ...status, error: 'the query returned no value' };
      // Quantities are integer milli-units; a value finer than that cannot change a proposal.
      observed.external = { [`prometheus-${index}`]: `${Math.round(value * 1000)}m` };
    } else {
      const read = values.kafka?.[label];
      if (!read) return { ...status, error: 'no lag read from the brokers' };
      observed.external = { [`kafka-${index}`]: String(read.lag) };
    }
    // The arithmetic only: the HPA controller's reconcile rules (its zero-replica gate, min/max,
    // behavior) are not the operator's, which applies its own below. The minors differ in none of
    // what these metric types compute (Value targets and container metrics are not used).
    const [proposal] = proposals({
      spec: { maxReplicas: Number.MAX_SAFE_INTEGER, metrics: [hpaMetric(metric, index)], behavior: {} },
      currentReplicas: input.currentReplicas,
      statusReplicas: Math.max(input.currentReplicas, 1),
      now: nowSeconds,
      pods: input.pods ?? [],
      metrics: observed,
      tolerance: input.tolerance ?? 0.1,
    });
    if (!proposal || proposal.proposal === null) return { ...status, error: proposal?.error ?? 'no proposal' };
    if (metric.type === 'KafkaLag') {
      const { lag, partitions } = values.kafka![label]!;
      return { ...status, current: String(lag), partitions, ...capAtPartitions(metric, proposal.proposal, partitions) };
    }
    // For a query, the value itself (the HPA shows the per-replica average).
    const current = metric.type === 'Prometheus' ? String(values.prometheus![metric.query]) : (proposal.current ?? undefined);
    return { ...status, current, proposal: proposal.proposal };
  });
}

export function decidePolicy(input: PolicyInput): PolicyDecision {
  const { spec, currentReplicas: current, now } = input;
  const metrics = proposeAll(input);
  const schedule = entryInForce(spec.schedule, now, spec.timeZone ?? 'UTC');
  const ok = metrics.filter((m) => m.proposal !== undefined);
  const errors = metrics.length - ok.length;
  const parts: string[] = [];

  let proposal: number;
  let limit: Limit;
  if (metrics.length === 0) {
    proposal = schedule ? schedule.entry.replicas : current;
    parts.push(schedule ? `no metrics: the schedule entry ${schedule.entry.time} sets ${proposal}` : `no metrics and no schedule: holds ${current}`);
  } else {
    const best = ok.reduce<MetricStatus | undefined>((a, m) => (a === undefined || m.proposal! > a.proposal! ? m : a), undefined);
    proposal = best?.proposal ?? current;
    if (best) parts.push(`${best.type} ${best.name} ${best.current} vs threshold ${best.threshold} proposes ${best.proposal}${ok.length > 1 ? ' (highest proposal)' : ''}${best.limited ? ` (${best.limited})` : ''}`);
    // Capped (not allowIdleConsumers, which keeps the proposal above the partitions).
    if (best?.limited !== undefined && best.proposal === best.partitions) limit = 'PartitionCount';
    if (errors > 0) {
      const first = metrics.find((m) => m.error !== undefined)!;
      if (proposal < current) parts.push(`held at ${current}: ${errors} metric(s) could not be read, so replicas are not lowered (${first.name}: ${first.error})`);
      else parts.push(`${errors} metric(s) could not be read (${first.name}: ${first.error})`);
      proposal = Math.max(proposal, current);
    }
  }

  let desired = proposal;
  if (schedule && desired < schedule.entry.replicas) {
    desired = schedule.entry.replicas;
    limit = 'ScheduleFloor';
    parts.push(`raised to ${desired} by the schedule entry ${schedule.entry.time}${schedule.entry.days ? ` ${schedule.entry.days}` : ''}`);
  }
  if (spec.minReplicas !== undefined && desired < spec.minReplicas) {
    desired = spec.minReplicas;
    limit = 'TooFewReplicas';
    parts.push(`raised to minReplicas ${desired}`);
  }
  if (spec.maxReplicas !== undefined && desired > spec.maxReplicas) {
    desired = spec.maxReplicas;
    limit = 'TooManyReplicas';
    parts.push(`capped at maxReplicas ${desired}`);
  }

  const seconds = effectiveCooldown(spec, input.minCooldownSeconds ?? 120);
  const until = input.lastScaleTime === undefined ? undefined : input.lastScaleTime + seconds * 1000;
  const active = until !== undefined && now < until;
  // A schedule window that began after the last write is applied at once, cooldown or not.
  const bypassed = active && schedule !== undefined && (input.lastScaleTime === undefined || schedule.since > input.lastScaleTime);
  let write = desired !== current;
  if (write && active && !bypassed) {
    write = false;
    parts.push(`not written: cooldown of ${seconds}s until ${new Date(until).toISOString()}`);
  } else if (write) {
    parts.push(bypassed ? `scale ${current} → ${desired} now: the schedule window ${schedule!.entry.time} started after the last scale` : `scale ${current} → ${desired}`);
  } else {
    parts.push(`stays at ${current}`);
  }
  return { desiredReplicas: desired, write, reason: parts.join('; '), metrics, schedule, limit, cooldown: { seconds, active, until, bypassed }, metricErrors: errors };
}
