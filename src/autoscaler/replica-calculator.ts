/**
 * Per-metric replica proposals: a port of kube-controller-manager's
 * pkg/controller/podautoscaler/replica_calculator.go (Kubernetes 1.33+, configurable tolerance),
 * with the same int64 milli-unit arithmetic. Pure: the clock is `now`, the cluster is the input.
 */
import { toMilli, type Quantity } from './quantity.ts';
import type { PodInfo, ResourceSample } from './types.ts';

export interface Tolerances {
  scaleUp: number;
  scaleDown: number;
}

export function isWithinTolerance(tolerances: Tolerances, usageRatio: number): boolean {
  return 1.0 - tolerances.scaleDown <= usageRatio && usageRatio <= 1.0 + tolerances.scaleUp;
}

export interface PodMetric {
  value: number;
  timestamp: number;
  window: number;
}

export type PodMetrics = Map<string, PodMetric>;

export interface CalculatorContext {
  pods: PodInfo[];
  now: number;
  tolerances: Tolerances;
  cpuInitializationPeriod: number;
  delayOfInitialReadinessStatus: number;
}

export class MetricError extends Error {}

export function podMetrics(samples: Record<string, Quantity | ResourceSample>): PodMetrics {
  const metrics: PodMetrics = new Map();
  for (const [pod, sample] of Object.entries(samples)) {
    const full = typeof sample === 'object' ? sample : { value: sample };
    metrics.set(pod, { value: toMilli(full.value), timestamp: full.timestamp ?? 0, window: full.window ?? 60 });
  }
  return metrics;
}

const phaseOf = (pod: PodInfo) => pod.phase ?? 'Running';
const readyOf = (pod: PodInfo) => (pod.ready === undefined ? true : pod.ready);

interface PodGroups {
  readyPodCount: number;
  unready: Set<string>;
  missing: Set<string>;
  ignored: Set<string>;
}

/** groupPods: which pods count, which are set aside, which have no sample. */
function groupPods(ctx: CalculatorContext, metrics: PodMetrics, resource: string): PodGroups {
  const groups: PodGroups = { readyPodCount: 0, unready: new Set(), missing: new Set(), ignored: new Set() };
  for (const pod of ctx.pods) {
    if (pod.deleting || phaseOf(pod) === 'Failed') {
      groups.ignored.add(pod.name);
      continue;
    }
    if (phaseOf(pod) === 'Pending') {
      groups.unready.add(pod.name);
      continue;
    }
    const metric = metrics.get(pod.name);
    if (metric === undefined) {
      groups.missing.add(pod.name);
      continue;
    }
    if (resource === 'cpu') {
      const ready = readyOf(pod);
      const startTime = pod.startTime ?? 0;
      const transition = pod.readySince ?? 0;
      let unready: boolean;
      if (ready === null) {
        unready = true;
      } else if (startTime + ctx.cpuInitializationPeriod > ctx.now) {
        // Within the initialization period: ignore an unready pod, or a sample that does not yet
        // cover a full window since the last readiness transition.
        unready = ready === false || metric.timestamp < transition + metric.window;
      } else {
        // Afterwards: ignore a pod that is unready and has never been ready.
        unready = ready === false && startTime + ctx.delayOfInitialReadinessStatus > transition;
      }
      if (unready) {
        groups.unready.add(pod.name);
        continue;
      }
    }
    groups.readyPodCount += 1;
  }
  return groups;
}

function removeMetricsFor(metrics: PodMetrics, pods: Set<string>): void {
  for (const pod of pods) metrics.delete(pod);
}

/** calculatePodRequests: every pod's request for the resource (one container's, for ContainerResource). */
export function podRequests(pods: PodInfo[], resource: string, container?: string): Map<string, number> {
  const requests = new Map<string, number>();
  for (const pod of pods) {
    const request = container === undefined ? pod.requests?.[resource] : pod.containerRequests?.[container]?.[resource];
    if (request === undefined) {
      throw new MetricError(`missing request for ${resource}${container ? ` in container ${container}` : ''} of Pod ${pod.name}`);
    }
    requests.set(pod.name, toMilli(request));
  }
  return requests;
}

/** GetResourceUtilizationRatio: integer percent of the summed requests, as upstream truncates it. */
function resourceUtilizationRatio(metrics: PodMetrics, requests: Map<string, number>, targetUtilization: number) {
  let metricsTotal = 0;
  let requestsTotal = 0;
  let entries = 0;
  for (const [pod, metric] of metrics) {
    const request = requests.get(pod);
    if (request === undefined) continue; // extraneous sample: counted by len(metrics) only
    metricsTotal += metric.value;
    requestsTotal += request;
    entries += 1;
  }
  if (requestsTotal === 0) throw new MetricError('no metrics returned matched known pods');
  const utilization = Math.trunc((metricsTotal * 100) / requestsTotal);
  return { ratio: utilization / targetUtilization, utilization, rawAverage: Math.trunc(metricsTotal / entries) };
}

/** GetMetricUsageRatio: the truncated average over the samples. */
function metricUsageRatio(metrics: PodMetrics, target: number) {
  let total = 0;
  for (const metric of metrics.values()) total += metric.value;
  const usage = Math.trunc(total / metrics.size);
  return { ratio: usage / target, usage };
}

/** GetResourceReplicas: a Utilization target on a resource (or one container's resource). */
export function resourceReplicas(ctx: CalculatorContext, currentReplicas: number, targetUtilization: number, resource: string, metrics: PodMetrics, container?: string) {
  if (ctx.pods.length === 0) throw new MetricError('no pods returned by selector while calculating replica count');
  const groups = groupPods(ctx, metrics, resource);
  removeMetricsFor(metrics, groups.ignored);
  removeMetricsFor(metrics, groups.unready);
  const requests = podRequests(ctx.pods, resource, container);
  if (metrics.size === 0) throw new MetricError('did not receive metrics for targeted pods (pods might be unready)');

  const { ratio, utilization, rawAverage } = resourceUtilizationRatio(metrics, requests, targetUtilization);
  const scaleUpWithUnready = groups.unready.size > 0 && ratio > 1.0;
  if (!scaleUpWithUnready && groups.missing.size === 0) {
    if (isWithinTolerance(ctx.tolerances, ratio)) return { replicas: currentReplicas, utilization, rawAverage, ratio };
    return { replicas: Math.ceil(ratio * groups.readyPodCount), utilization, rawAverage, ratio };
  }
  if (groups.missing.size > 0) {
    if (ratio < 1.0) {
      // Scale-down: a pod without a sample counts as using 100 % of its request, or the target
      // utilization if that is higher.
      const fallback = Math.max(100, targetUtilization);
      for (const pod of groups.missing) metrics.set(pod, { value: Math.trunc((requests.get(pod)! * fallback) / 100), timestamp: 0, window: 0 });
    } else if (ratio > 1.0) {
      for (const pod of groups.missing) metrics.set(pod, { value: 0, timestamp: 0, window: 0 });
    }
  }
  if (scaleUpWithUnready) {
    for (const pod of groups.unready) metrics.set(pod, { value: 0, timestamp: 0, window: 0 });
  }
  const next = resourceUtilizationRatio(metrics, requests, targetUtilization).ratio;
  if (isWithinTolerance(ctx.tolerances, next) || (ratio < 1.0 && next > 1.0) || (ratio > 1.0 && next < 1.0)) {
    return { replicas: currentReplicas, utilization, rawAverage, ratio };
  }
  const replicas = Math.ceil(next * metrics.size);
  if ((next < 1.0 && replicas > currentReplicas) || (next > 1.0 && replicas < currentReplicas)) {
    return { replicas: currentReplicas, utilization, rawAverage, ratio };
  }
  return { replicas, utilization, rawAverage, ratio };
}

/** calcPlainMetricReplicas: an AverageValue target (Pods metrics, or a resource as a raw value). */
export function plainMetricReplicas(ctx: CalculatorContext, currentReplicas: number, target: number, resource: string, metrics: PodMetrics) {
  if (ctx.pods.length === 0) throw new MetricError('no pods returned by selector while calculating replica count');
  const groups = groupPods(ctx, metrics, resource);
  removeMetricsFor(metrics, groups.ignored);
  removeMetricsFor(metrics, groups.unready);
  if (metrics.size === 0) throw new MetricError('did not receive metrics for targeted pods (pods might be unready)');

  const { ratio, usage } = metricUsageRatio(metrics, target);
  const scaleUpWithUnready = groups.unready.size > 0 && ratio > 1.0;
  if (!scaleUpWithUnready && groups.missing.size === 0) {
    if (isWithinTolerance(ctx.tolerances, ratio)) return { replicas: currentReplicas, usage, ratio };
    return { replicas: Math.ceil(ratio * groups.readyPodCount), usage, ratio };
  }
  if (groups.missing.size > 0) {
    // Scale-down: a pod without a sample counts as exactly on target; scale-up: as idle.
    const fill = ratio < 1.0 ? target : 0;
    for (const pod of groups.missing) metrics.set(pod, { value: fill, timestamp: 0, window: 0 });
  }
  if (scaleUpWithUnready) {
    for (const pod of groups.unready) metrics.set(pod, { value: 0, timestamp: 0, window: 0 });
  }
  const next = metricUsageRatio(metrics, target).ratio;
  if (isWithinTolerance(ctx.tolerances, next) || (ratio < 1.0 && next > 1.0) || (ratio > 1.0 && next < 1.0)) {
    return { replicas: currentReplicas, usage, ratio };
  }
  return { replicas: Math.ceil(next * metrics.size), usage, ratio };
}

/** Pods that are Running with Ready=True (getReadyPodsCount). */
function readyPodsCount(ctx: CalculatorContext): number {
  if (ctx.pods.length === 0) throw new MetricError('no pods returned by selector while calculating replica count');
  return ctx.pods.filter((pod) => phaseOf(pod) === 'Running' && readyOf(pod) === true).length;
}

/** getUsageRatioReplicaCount: a Value target on an Object or External metric. */
export function usageRatioReplicas(ctx: CalculatorContext, currentReplicas: number, usageRatio: number): number {
  if (currentReplicas === 0) return Math.ceil(usageRatio);
  if (isWithinTolerance(ctx.tolerances, usageRatio)) return currentReplicas;
  return Math.ceil(usageRatio * readyPodsCount(ctx));
}

/** GetObjectPerPodMetricReplicas / GetExternalPerPodMetricReplicas: an AverageValue target on a total. */
export function perPodReplicas(ctx: CalculatorContext, statusReplicas: number, total: number, targetPerPod: number) {
  let replicas = statusReplicas;
  const usageRatio = total / (targetPerPod * replicas);
  if (!isWithinTolerance(ctx.tolerances, usageRatio)) replicas = Math.ceil(total / targetPerPod);
  return { replicas, usage: Math.ceil(total / statusReplicas) };
}
