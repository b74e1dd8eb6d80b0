/**
 * The AutoScalerPolicy resource (autoscale.podscale.dev/v1): its spec as the CRD in
 * k8s/controller/crd.yaml defines it, and the checks the controller and `policy explain` repeat
 * (the API server enforces the same with CEL; the time zone only the controller can check).
 */
export const GROUP = 'autoscale.podscale.dev';
export const VERSION = 'v1';
export const PLURAL = 'autoscalerpolicies';
export const KIND = 'AutoScalerPolicy';

export type PolicyMetric =
  | { type: 'CPU'; threshold: number }
  | { type: 'Pods'; name: string; threshold: number }
  | { type: 'Prometheus'; query: string; threshold: number }
  | KafkaLagMetric;

/**
 * Σ over the topic's partitions (log end offset − the group's committed offset), read from the
 * brokers with the Kafka admin API; threshold is the lag one replica is meant to carry. Replicas are
 * capped at the topic's partition count (a consumer beyond it gets no partition and sits idle)
 * unless allowIdleConsumers.
 */
export interface KafkaLagMetric {
  type: 'KafkaLag';
  bootstrapServers: string[];
  consumerGroup: string;
  topic: string;
  threshold: number;
  allowIdleConsumers?: boolean;
}

export interface ScheduleEntry {
  time: string;
  replicas: number;
  days?: string;
}

export interface PolicySpec {
  deploymentName: string;
  minReplicas?: number;
  maxReplicas?: number;
  cooldownSeconds?: number;
  timeZone?: string;
  /** Optional: a schedule-only policy follows its entries. */
  metrics?: PolicyMetric[];
  schedule?: ScheduleEntry[];
}

export interface Condition {
  type: 'Ready' | 'ScalingActive' | 'ScalingLimited' | 'CooldownActive' | 'Conflict';
  status: 'True' | 'False' | 'Unknown';
  reason: string;
  message: string;
  lastTransitionTime?: string;
}

export interface MetricStatus {
  type: string;
  name: string;
  current?: string;
  threshold: string;
  proposal?: number;
  error?: string;
  /** KafkaLag: the topic's partition count, and what the cap at it did to the proposal. */
  partitions?: number;
  limited?: string;
}

export interface PolicyStatus {
  observedGeneration?: number;
  desiredReplicas?: number;
  currentReplicas?: number;
  lastScaleTime?: string;
  scheduleEntry?: { time: string; replicas: number; days?: string; since: string };
  metrics?: MetricStatus[];
  conditions?: Condition[];
}

export interface AutoScalerPolicy {
  apiVersion?: string;
  kind?: string;
  metadata: { name: string; namespace?: string; generation?: number; resourceVersion?: string; uid?: string; creationTimestamp?: string | Date };
  spec: PolicySpec;
  status?: PolicyStatus;
}

export const DEFAULT_COOLDOWN_SECONDS = 120;

const TIME = /^([01][0-9]|2[0-3]):[0-5][0-9]$/;
/** host:port, as the CRD's CEL rule has it: a name, an IPv4 address or a bracketed IPv6 address. */
export const BOOTSTRAP_SERVER = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9][A-Za-z0-9.-]*):[0-9]{1,5}$/;
const TOPIC = /^[A-Za-z0-9._-]{1,249}$/;
const DAY = '(Mon|Tue|Wed|Thu|Fri|Sat|Sun)';
const DAYS = new RegExp(`^${DAY}(-${DAY})?(,${DAY}(-${DAY})?)*$`);

export function isValidTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/** Every problem with a spec, in the words the CRD's CEL rules use; empty when it is valid. */
export function specProblems(spec: unknown): string[] {
  const problems: string[] = [];
  if (typeof spec !== 'object' || spec === null || Array.isArray(spec)) return ['spec must be an object'];
  const s = spec as Record<string, unknown>;
  if (typeof s.deploymentName !== 'string' || s.deploymentName === '') problems.push('deploymentName is required');
  for (const key of ['minReplicas', 'maxReplicas', 'cooldownSeconds'] as const) {
    if (s[key] !== undefined && (!Number.isInteger(s[key]) || (s[key] as number) < (key === 'cooldownSeconds' ? 0 : 1))) problems.push(`${key} must be a whole number${key === 'cooldownSeconds' ? '' : ' of at least 1'}`);
  }
  if (typeof s.minReplicas === 'number' && typeof s.maxReplicas === 'number' && s.minReplicas > s.maxReplicas) problems.push('minReplicas must not be greater than maxReplicas');
  if (s.timeZone !== undefined && (typeof s.timeZone !== 'string' || !isValidTimeZone(s.timeZone))) problems.push(`unknown time zone ${JSON.stringify(s.timeZone)}: use an IANA name such as Europe/Berlin`);
  if (s.metrics !== undefined && !Array.isArray(s.metrics)) problems.push('metrics must be a list');
  else if (Array.isArray(s.metrics)) {
    s.metrics.forEach((metric: unknown, i) => {
      const m = (metric ?? {}) as Record<string, unknown>;
      const at = `metrics[${i}]`;
      if (m.type !== 'CPU' && m.type !== 'Pods' && m.type !== 'Prometheus' && m.type !== 'KafkaLag') problems.push(`${at}: unknown metric type: must be one of CPU, Pods, Prometheus, KafkaLag`);
      if (typeof m.threshold !== 'number' || !(m.threshold > 0)) problems.push(`${at}: threshold must be greater than 0`);
      if (m.type === 'Prometheus' && (typeof m.query !== 'string' || m.query === '')) problems.push(`${at}: a Prometheus metric needs a query`);
      if (m.type === 'Pods' && (typeof m.name !== 'string' || m.name === '')) problems.push(`${at}: a Pods metric needs a name (the custom.metrics.k8s.io metric)`);
      if (m.type === 'KafkaLag') {
        const servers = m.bootstrapServers;
        if (!Array.isArray(servers) || servers.length === 0) problems.push(`${at}: a KafkaLag metric needs bootstrapServers: a non-empty list of host:port`);
        else if (!servers.every((server) => typeof server === 'string' && BOOTSTRAP_SERVER.test(server))) problems.push(`${at}: bootstrapServers must each be host:port`);
        if (typeof m.consumerGroup !== 'string' || m.consumerGroup === '') problems.push(`${at}: a KafkaLag metric needs a consumerGroup`);
        if (typeof m.topic !== 'string' || !TOPIC.test(m.topic)) problems.push(`${at}: a KafkaLag metric needs a topic (at most 249 letters, digits, ".", "_" or "-")`);
        if (m.allowIdleConsumers !== undefined && typeof m.allowIdleConsumers !== 'boolean') problems.push(`${at}: allowIdleConsumers must be true or false`);
      }
    });
  }
  if (s.schedule !== undefined) {
    if (!Array.isArray(s.schedule)) problems.push('schedule must be a list');
    else
      s.schedule.forEach((entry: unknown, i) => {
        const e = (entry ?? {}) as Record<string, unknown>;
        const at = `schedule[${i}]`;
        if (typeof e.time !== 'string' || !TIME.test(e.time)) problems.push(`${at}: time must be 24-hour HH:MM from 00:00 to 23:59`);
        if (!Number.isInteger(e.replicas) || (e.replicas as number) < 0) problems.push(`${at}: replicas must be a whole number`);
        if (e.days !== undefined && (typeof e.days !== 'string' || !DAYS.test(e.days))) problems.push(`${at}: days must be day names or ranges such as Mon-Fri or Sat,Sun`);
      });
  }
  const none = (list: unknown) => !Array.isArray(list) || list.length === 0;
  if (none(s.metrics) && none(s.schedule)) problems.push('a policy needs at least one metric or one schedule entry');
  return problems;
}

/** The cooldown the controller applies: the spec's (default 120 s), raised to --min-cooldown. */
export function effectiveCooldown(spec: PolicySpec, minCooldownSeconds: number): number {
  return Math.max(spec.cooldownSeconds ?? DEFAULT_COOLDOWN_SECONDS, minCooldownSeconds);
}

export function metricLabel(metric: PolicyMetric): string {
  switch (metric.type) {
    case 'CPU':
      return 'cpu';
    case 'Pods':
      return metric.name;
    case 'Prometheus':
      return metric.query;
    case 'KafkaLag':
      return `${metric.consumerGroup}@${metric.topic}`;
  }
}
