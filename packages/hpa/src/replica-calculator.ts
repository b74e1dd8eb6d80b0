/**
 * Per-metric replica proposals: a port of kube-controller-manager's
 * pkg/controller/podautoscaler/replica_calculator.go as of Kubernetes v1.34.4, v1.35.4, v1.36.3 and
 * v1.37.2 (plus the parts of metrics/client.go and metrics/utilization.go it depends on), function
 * by function, with the same int64 milli-unit arithmetic (BigInt where a product or a sum could
 * leave float64's exact integer range) and the same float64 ratios and math.Ceil. The minors differ
 * only where 1.35 changed the code (ctx.kubernetesVersion decides): getUsageRatioReplicaCount,
 * GetExternalMetricReplicas' sum and calculatePodRequestsFromContainers. 1.36 and 1.37 change
 * error texts only. Pure: the clock is `now`, the cluster is the input.
 */
import { atLeast, type KubernetesVersion } from './gates.ts';
import { toMilli, type Quantity } from './quantity.ts';
import type { PodInfo, ResourceSample } from './types.ts';

/** Tolerances: metric usage ratio scale-up and scale-down tolerances. */
export interface Tolerances {
  scaleUp: number;
  scaleDown: number;
}

/** Tolerances.isWithin */
export function isWithinTolerance(tolerances: Tolerances, usageRatio: number): boolean {
  return 1.0 - tolerances.scaleDown <= usageRatio && usageRatio <= 1.0 + tolerances.scaleUp;
}

/** metricsclient.PodMetric: a milli-value, the sample's time and window (seconds). */
export interface PodMetric {
  value: number;
  timestamp: number;
  window: number;
}

/** metricsclient.PodMetricsInfo: pod name → sample. May hold samples for pods the selector no longer lists. */
export type PodMetrics = Map<string, PodMetric>;

export interface CalculatorContext {
  /** What the pod lister returns for the target's selector. */
  pods: PodInfo[];
  now: number;
  tolerances: Tolerances;
  cpuInitializationPeriod: number;
  delayOfInitialReadinessStatus: number;
  kubernetesVersion: KubernetesVersion;
}

export class MetricError extends Error {}

/** The default window of a custom-metrics sample without windowSeconds (metricServerDefaultMetricWindow). */
export const DEFAULT_METRIC_WINDOW = 60;

export function podMetrics(samples: Record<string, Quantity | ResourceSample>): PodMetrics {
  const metrics: PodMetrics = new Map();
  for (const [pod, sample] of Object.entries(samples)) {
    const full = typeof sample === 'object' ? sample : { value: sample };
    metrics.set(pod, { value: toMilli(full.value), timestamp: full.timestamp ?? 0, window: full.window ?? DEFAULT_METRIC_WINDOW });
  }
  return metrics;
}

const phaseOf = (pod: PodInfo) => pod.phase ?? 'Running';
const readyOf = (pod: PodInfo) => (pod.ready === undefined ? true : pod.ready);

export interface PodGroups {
  readyPodCount: number;
  unreadyPods: Set<string>;
  missingPods: Set<string>;
  ignoredPods: Set<string>;
}

/**
 * groupPods: deleted and Failed pods are ignored; Pending pods are unready; pods without a sample
 * are missing; for CPU only, pods that are not (or not yet measurably) ready are unready.
 */
export function groupPods(
  pods: PodInfo[],
  metrics: PodMetrics,
  resource: string,
  cpuInitializationPeriod: number,
  delayOfInitialReadinessStatus: number,
  now: number,
): PodGroups {
  const groups: PodGroups = { readyPodCount: 0, unreadyPods: new Set(), missingPods: new Set(), ignoredPods: new Set() };
  for (const pod of pods) {
    if (pod.deleting || phaseOf(pod) === 'Failed') {
      groups.ignoredPods.add(pod.name);
      continue;
    }
    if (phaseOf(pod) === 'Pending') {
      groups.unreadyPods.add(pod.name);
      continue;
    }
    const metric = metrics.get(pod.name);
    if (metric === undefined) {
      groups.missingPods.add(pod.name);
      continue;
    }
    if (resource === 'cpu') {
      const ready = readyOf(pod);
      const startTime = pod.startTimeS ?? 0;
      const transition = pod.readySinceS ?? 0;
      let unready: boolean;
      if (ready === null) {
        // no Ready condition
        unready = true;
      } else if (startTime + cpuInitializationPeriod > now) {
        // Within the initialization period: ignore an unready pod, or a sample that does not yet
        // cover one full window since the last readiness transition.
        unready = ready === false || metric.timestamp < transition + metric.window;
      } else {
        // Afterwards: ignore a pod that is unready and has never been ready.
        unready = ready === false && startTime + delayOfInitialReadinessStatus > transition;
      }
      if (unready) {
        groups.unreadyPods.add(pod.name);
        continue;
      }
    }
    groups.readyPodCount += 1;
  }
  return groups;
}

/** removeMetricsForPods */
export function removeMetricsForPods(metrics: PodMetrics, pods: Set<string>): void {
  for (const pod of pods) metrics.delete(pod);
}

/**
 * calculateRequests: every pod's request for the resource in milli-units. `requests` is the pod's
 * effective request (the sum over its containers and restartable init containers, or its pod-level
 * request); with a container, that container's request. A pod without that container requests 0
 * in 1.34 (upstream summed over the containers matching the name: none matched, nothing was added)
 * and fails the whole metric from 1.35 on (calculatePodRequestsFromContainers returns an error).
 */
export function calculateRequests(pods: PodInfo[], container: string | undefined, resource: string, version: KubernetesVersion): Map<string, number> {
  const requests = new Map<string, number>();
  for (const pod of pods) {
    let request: Quantity | undefined;
    if (container === undefined || container === '') {
      request = pod.requests?.[resource];
      if (request === undefined) throw new MetricError(`missing request for ${resource} of Pod ${pod.name}`);
    } else {
      const containerRequests = pod.containerRequests?.[container];
      if (containerRequests === undefined) {
        if (atLeast(version, '1.35')) throw new MetricError(`container ${container} not found in Pod ${pod.name}`);
        requests.set(pod.name, 0);
        continue;
      }
      request = containerRequests[resource];
      if (request === undefined) throw new MetricError(`missing request for ${resource} in container ${container} of Pod ${pod.name}`);
    }
    requests.set(pod.name, toMilli(request));
  }
  return requests;
}

/** Go's integer division on int64: truncates toward zero (BigInt division does too). */
const big = (value: number) => BigInt(value);

/**
 * metricsclient.GetResourceUtilizationRatio: utilization is the integer percent of the summed
 * requests (int64 arithmetic, truncated), the ratio is that integer over the target, and the raw
 * average divides by the samples that matched a request. Samples of pods without a request are
 * extraneous and skipped.
 */
export function getResourceUtilizationRatio(metrics: PodMetrics, requests: Map<string, number>, targetUtilization: number) {
  let metricsTotal = 0n;
  let requestsTotal = 0n;
  let numEntries = 0n;
  for (const [pod, metric] of metrics) {
    const request = requests.get(pod);
    if (request === undefined) continue;
    metricsTotal += big(metric.value);
    requestsTotal += big(request);
    numEntries += 1n;
  }
  if (requestsTotal === 0n) throw new MetricError('no metrics returned matched known pods');
  const utilization = Number((metricsTotal * 100n) / requestsTotal);
  return { usageRatio: utilization / targetUtilization, utilization, rawAverage: Number(metricsTotal / numEntries) };
}

/** metricsclient.GetMetricUsageRatio: the int64 average over every sample (extraneous ones too). */
export function getMetricUsageRatio(metrics: PodMetrics, targetUsage: number) {
  let metricsTotal = 0n;
  for (const metric of metrics.values()) metricsTotal += big(metric.value);
  const usage = Number(metricsTotal / BigInt(metrics.size));
  return { usageRatio: usage / targetUsage, usage };
}

function requireMetrics(metrics: PodMetrics | undefined, error: string): PodMetrics {
  // The metrics clients turn an empty list from the API into an error.
  if (metrics === undefined || metrics.size === 0) throw new MetricError(error);
  return metrics;
}

function requirePods(ctx: CalculatorContext): void {
  if (ctx.pods.length === 0) throw new MetricError('no pods returned by selector while calculating replica count');
}

export interface ResourceReplicas {
  replicas: number;
  /** Percent of the requests, as reported in status. */
  utilization: number;
  /** The average raw value (milli-units) over the pods that counted. */
  rawUtilization: number;
}

/**
 * GetResourceReplicas: a Utilization target on a resource (or one container's resource).
 * `metrics` is what the resource metrics API returned; it is modified, like upstream's map.
 */
export function getResourceReplicas(
  ctx: CalculatorContext,
  currentReplicas: number,
  targetUtilization: number,
  resource: string,
  metrics: PodMetrics | undefined,
  container?: string,
): ResourceReplicas {
  const samples = requireMetrics(metrics, `unable to get metrics for resource ${resource}: no metrics returned from resource metrics API`);
  requirePods(ctx);
  const { readyPodCount, unreadyPods, missingPods, ignoredPods } = groupPods(ctx.pods, samples, resource, ctx.cpuInitializationPeriod, ctx.delayOfInitialReadinessStatus, ctx.now);
  removeMetricsForPods(samples, ignoredPods);
  removeMetricsForPods(samples, unreadyPods);
  if (samples.size === 0) throw new MetricError('did not receive metrics for targeted pods (pods might be unready)');
  const requests = calculateRequests(ctx.pods, container, resource, ctx.kubernetesVersion);

  const { usageRatio, utilization, rawAverage: rawUtilization } = getResourceUtilizationRatio(samples, requests, targetUtilization);
  const unchanged = { replicas: currentReplicas, utilization, rawUtilization };
  const scaleUpWithUnready = unreadyPods.size > 0 && usageRatio > 1.0;
  if (!scaleUpWithUnready && missingPods.size === 0) {
    if (isWithinTolerance(ctx.tolerances, usageRatio)) return unchanged;
    return { replicas: Math.ceil(usageRatio * readyPodCount), utilization, rawUtilization };
  }

  if (missingPods.size > 0) {
    if (usageRatio < 1.0) {
      // Scale-down: a pod without a sample counts as using 100 % of its request, or the target
      // utilization when that is above 100 %.
      const fallbackUtilization = big(Math.max(100, targetUtilization));
      for (const pod of missingPods) samples.set(pod, { value: Number((big(requests.get(pod)!) * fallbackUtilization) / 100n), timestamp: 0, window: 0 });
    } else if (usageRatio > 1.0) {
      // Scale-up: as using nothing.
      for (const pod of missingPods) samples.set(pod, { value: 0, timestamp: 0, window: 0 });
    }
    // Exactly 1.0: missing pods stay out; the recomputed ratio is the same 1.0, within tolerance.
  }
  if (scaleUpWithUnready) {
    for (const pod of unreadyPods) samples.set(pod, { value: 0, timestamp: 0, window: 0 });
  }

  const newUsageRatio = getResourceUtilizationRatio(samples, requests, targetUtilization).usageRatio;
  if (isWithinTolerance(ctx.tolerances, newUsageRatio) || (usageRatio < 1.0 && newUsageRatio > 1.0) || (usageRatio > 1.0 && newUsageRatio < 1.0)) {
    // too small a change, or the filled-in pods flip the direction
    return unchanged;
  }
  const newReplicas = Math.ceil(newUsageRatio * samples.size);
  if ((newUsageRatio < 1.0 && newReplicas > currentReplicas) || (newUsageRatio > 1.0 && newReplicas < currentReplicas)) {
    // more samples than replicas (surge pods of a rolling update) would flip the direction
    return unchanged;
  }
  return { replicas: newReplicas, utilization, rawUtilization };
}

export interface PlainReplicas {
  replicas: number;
  /** The average usage (milli-units) over the samples that counted. */
  usage: number;
}

/** calcPlainMetricReplicas: an AverageValue target on per-pod samples (Pods metrics, or a raw resource). */
export function calcPlainMetricReplicas(ctx: CalculatorContext, metrics: PodMetrics, currentReplicas: number, targetUsage: number, resource: string): PlainReplicas {
  requirePods(ctx);
  const { readyPodCount, unreadyPods, missingPods, ignoredPods } = groupPods(ctx.pods, metrics, resource, ctx.cpuInitializationPeriod, ctx.delayOfInitialReadinessStatus, ctx.now);
  removeMetricsForPods(metrics, ignoredPods);
  removeMetricsForPods(metrics, unreadyPods);
  if (metrics.size === 0) throw new MetricError('did not receive metrics for targeted pods (pods might be unready)');

  const { usageRatio, usage } = getMetricUsageRatio(metrics, targetUsage);
  const unchanged = { replicas: currentReplicas, usage };
  const scaleUpWithUnready = unreadyPods.size > 0 && usageRatio > 1.0;
  if (!scaleUpWithUnready && missingPods.size === 0) {
    if (isWithinTolerance(ctx.tolerances, usageRatio)) return unchanged;
    return { replicas: Math.ceil(usageRatio * readyPodCount), usage };
  }

  if (missingPods.size > 0) {
    if (usageRatio < 1.0) {
      // Scale-down: a pod without a sample counts as exactly on target.
      for (const pod of missingPods) metrics.set(pod, { value: targetUsage, timestamp: 0, window: 0 });
    } else if (usageRatio > 1.0) {
      // Scale-up: as idle.
      for (const pod of missingPods) metrics.set(pod, { value: 0, timestamp: 0, window: 0 });
    }
    // Exactly 1.0: missing pods stay out.
  }
  if (scaleUpWithUnready) {
    for (const pod of unreadyPods) metrics.set(pod, { value: 0, timestamp: 0, window: 0 });
  }

  const newUsageRatio = getMetricUsageRatio(metrics, targetUsage).usageRatio;
  if (isWithinTolerance(ctx.tolerances, newUsageRatio) || (usageRatio < 1.0 && newUsageRatio > 1.0) || (usageRatio > 1.0 && newUsageRatio < 1.0)) {
    return unchanged;
  }
  const newReplicas = Math.ceil(newUsageRatio * metrics.size);
  if ((newUsageRatio < 1.0 && newReplicas > currentReplicas) || (newUsageRatio > 1.0 && newReplicas < currentReplicas)) {
    return unchanged;
  }
  return { replicas: newReplicas, usage };
}

/** GetRawResourceReplicas: an AverageValue target on a resource (or one container's resource). */
export function getRawResourceReplicas(ctx: CalculatorContext, currentReplicas: number, targetUsage: number, resource: string, metrics: PodMetrics | undefined): PlainReplicas {
  const samples = requireMetrics(metrics, `unable to get metrics for resource ${resource}: no metrics returned from resource metrics API`);
  return calcPlainMetricReplicas(ctx, samples, currentReplicas, targetUsage, resource);
}

/** GetMetricReplicas: an AverageValue target on a Pods metric (custom metrics API). */
export function getMetricReplicas(ctx: CalculatorContext, currentReplicas: number, targetUsage: number, metricName: string, metrics: PodMetrics | undefined): PlainReplicas {
  const samples = requireMetrics(metrics, `unable to get metric ${metricName}: no metrics returned from custom metrics API`);
  return calcPlainMetricReplicas(ctx, samples, currentReplicas, targetUsage, '');
}

/** getReadyPodsCount: pods that are Running with Ready=True. */
export function getReadyPodsCount(pods: PodInfo[]): number {
  if (pods.length === 0) throw new MetricError('unable to calculate ready pods: no pods returned by selector while calculating replica count');
  return pods.filter((pod) => phaseOf(pod) === 'Running' && readyOf(pod) === true).length;
}

const MAX_INT32 = 2 ** 31 - 1;
const MIN_INT32 = -(2 ** 31);
const MAX_INT64 = (1n << 63n) - 1n;

/** Go's int32(f) on amd64: a value outside int32 (or NaN) becomes MinInt32. */
function goInt32(value: number): number {
  return value >= MIN_INT32 && value <= MAX_INT32 ? value : MIN_INT32;
}

/**
 * getUsageRatioReplicaCount: a Value target on an Object or External metric. With 0 current
 * replicas (scale from zero), neither the tolerance nor the ready pods count. A count past int32
 * is MaxInt32 from 1.35 on; 1.34 converted it to MinInt32, which reconcileAutoscaler then read as
 * a proposal of 0 (the branch from zero was never clamped).
 */
export function getUsageRatioReplicaCount(ctx: CalculatorContext, currentReplicas: number, usageRatio: number): number {
  if (currentReplicas === 0) return goInt32(Math.ceil(usageRatio));
  if (isWithinTolerance(ctx.tolerances, usageRatio)) return currentReplicas;
  const replicas = usageRatio * getReadyPodsCount(ctx.pods);
  if (atLeast(ctx.kubernetesVersion, '1.35') && replicas > MAX_INT32) return MAX_INT32;
  return goInt32(Math.ceil(replicas));
}

/** GetObjectMetricReplicas: a Value target on an Object metric (usage in milli-units). */
export function getObjectMetricReplicas(ctx: CalculatorContext, currentReplicas: number, targetUsage: number, usage: number) {
  return { replicas: getUsageRatioReplicaCount(ctx, currentReplicas, usage / targetUsage), usage };
}

/** The per-pod usage reported in status: ceil(usage / statusReplicas), and MaxInt64 when the sum saturated. */
function averageUsage(usage: number, statusReplicas: number): number {
  if (usage >= Number(MAX_INT64)) return Number(MAX_INT64);
  // statusReplicas 0 divides by zero: Go converts +Inf to an undefined int64; report the total.
  if (statusReplicas === 0) return usage;
  return Math.ceil(usage / statusReplicas);
}

/** GetObjectPerPodMetricReplicas: an AverageValue target on an Object metric, divided by status.replicas. */
export function getObjectPerPodMetricReplicas(ctx: CalculatorContext, statusReplicas: number, targetAverageUsage: number, usage: number) {
  let replicas = statusReplicas;
  const usageRatio = usage / (targetAverageUsage * replicas);
  if (!isWithinTolerance(ctx.tolerances, usageRatio)) replicas = Math.ceil(usage / targetAverageUsage);
  return { replicas, usage: averageUsage(usage, statusReplicas) };
}

/** The external metrics client: an empty list is an error. */
function externalValues(metricName: string, values: readonly number[] | undefined): readonly number[] {
  if (values === undefined || values.length === 0) {
    throw new MetricError(`unable to get external metric ${metricName}: no metrics returned from external metrics API`);
  }
  return values;
}

/**
 * GetExternalMetricReplicas: a Value target on the int64 sum of an External metric's values. 1.34
 * let the sum wrap past MaxInt64 (to a negative usage); 1.35 stops it at MaxInt64 before the add.
 */
export function getExternalMetricReplicas(ctx: CalculatorContext, currentReplicas: number, targetUsage: number, metricName: string, values: readonly number[] | undefined) {
  const saturate = atLeast(ctx.kubernetesVersion, '1.35');
  let sum = 0n;
  for (const value of externalValues(metricName, values)) {
    if (saturate && value > 0 && sum > MAX_INT64 - big(value)) {
      sum = MAX_INT64;
      break;
    }
    sum = BigInt.asIntN(64, sum + big(value));
  }
  const usage = Number(sum);
  return { replicas: getUsageRatioReplicaCount(ctx, currentReplicas, usage / targetUsage), usage };
}

/** GetExternalPerPodMetricReplicas: an AverageValue target on the sum of an External metric's values (saturating at MaxInt64 in every minor). */
export function getExternalPerPodMetricReplicas(ctx: CalculatorContext, statusReplicas: number, targetUsagePerPod: number, metricName: string, values: readonly number[] | undefined) {
  let sum = 0n;
  for (const value of externalValues(metricName, values)) {
    sum += big(value);
    if (sum > MAX_INT64) {
      sum = MAX_INT64;
      break;
    }
  }
  const usage = Number(sum);
  let replicas = statusReplicas;
  const usageRatio = usage / (targetUsagePerPod * replicas);
  if (!isWithinTolerance(ctx.tolerances, usageRatio)) {
    const result = Math.ceil(usage / targetUsagePerPod);
    replicas = result > MAX_INT32 ? MAX_INT32 : result;
  }
  return { replicas, usage: averageUsage(usage, statusReplicas) };
}

