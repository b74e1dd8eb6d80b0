/**
 * computeReplicasForMetric (horizontal.go) for one metric spec: which calculator function its
 * source and target type select, and the error texts each step wraps around a failure.
 */
import { formatMilli, toMilli } from './quantity.ts';
import {
  getExternalMetricReplicas,
  getExternalPerPodMetricReplicas,
  getMetricReplicas,
  getObjectMetricReplicas,
  getObjectPerPodMetricReplicas,
  getRawResourceReplicas,
  getResourceReplicas,
  MetricError,
  podMetrics,
  type CalculatorContext,
} from './replica-calculator.ts';
import type { MetricProposal, MetricSpec, MetricTarget, Situation } from './types.ts';

export interface Computed {
  proposal: MetricProposal;
  /** e.g. "cpu utilization 80% above target 60%" */
  describe: string;
}

/** The part of a metric spec every type has: what it names and its target. */
function metricSource(spec: MetricSpec): { name: string; target: MetricTarget } | undefined {
  switch (spec.type) {
    case 'Resource':
      return spec.resource;
    case 'ContainerResource':
      return spec.containerResource;
    case 'Pods':
      return { name: spec.pods.metric.name, target: spec.pods.target };
    case 'Object':
      return { name: spec.object.metric.name, target: spec.object.target };
    case 'External':
      return { name: spec.external.metric.name, target: spec.external.target };
    default:
      return undefined;
  }
}

export function metricName(spec: MetricSpec): string {
  return metricSource(spec)?.name ?? String((spec as { type?: unknown }).type ?? 'unknown');
}

/** A metric with no entry at all: the metrics API could not be read. */
function fetched<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new MetricError(`${what}: the metrics API returned no such metric`);
  return value;
}

/** computeReplicasForMetric wraps each error with the metric it came from; so does this. */
function wrapped<T>(prefix: string, compute: () => T): T {
  try {
    return compute();
  } catch (error) {
    if (error instanceof MetricError) throw new MetricError(`${prefix}: ${error.message}`);
    throw error;
  }
}

export function computeMetric(spec: MetricSpec, situation: Situation, ctx: CalculatorContext): Computed {
  const specReplicas = situation.currentReplicas;
  const statusReplicas = situation.statusReplicas ?? specReplicas;
  const observed = situation.metrics ?? {};
  const name = metricName(spec);
  const result = (proposal: number, currentText: string, targetText: string, unit = '') => ({
    proposal: { type: spec.type, name, current: currentText, target: targetText, proposal },
    describe: `${name}${unit === '%' ? ' utilization' : ''} ${currentText}${unit} vs target ${targetText}${unit}`,
  });

  if (spec.type === 'Resource' || spec.type === 'ContainerResource') {
    // computeStatusForResourceMetricGeneric: an averageValue wins over averageUtilization.
    const source = spec.type === 'Resource' ? spec.resource : spec.containerResource;
    const container = spec.type === 'ContainerResource' ? spec.containerResource.container : undefined;
    const prefix = container === undefined ? `failed to get ${source.name} resource metric value` : `failed to get ${container} container metric value`;
    return wrapped(prefix, () => {
      const samples = () =>
        podMetrics(
          container === undefined
            ? fetched(observed.resource?.[source.name], `unable to get metrics for resource ${source.name}`)
            : fetched(observed.containerResource?.[container]?.[source.name], `unable to get metrics for resource ${source.name}`),
        );
      if (source.target.averageValue !== undefined) {
        const target = toMilli(source.target.averageValue);
        const { replicas, usage } = wrapped(`failed to get ${source.name} usage`, () => getRawResourceReplicas(ctx, specReplicas, target, source.name, samples()));
        return result(replicas, formatMilli(usage), formatMilli(target));
      }
      if (source.target.averageUtilization === undefined) {
        throw new MetricError('invalid resource metric source: neither an average utilization target nor an average value (usage) target was set');
      }
      const targetUtilization = source.target.averageUtilization;
      const { replicas, utilization } = wrapped(`failed to get ${source.name} utilization`, () =>
        getResourceReplicas(ctx, specReplicas, targetUtilization, source.name, samples(), container),
      );
      return result(replicas, String(utilization), String(targetUtilization), '%');
    });
  }
  if (spec.type === 'Pods') {
    return wrapped('failed to get pods metric value', () => {
      const averageValue = spec.pods.target.averageValue;
      if (averageValue === undefined) throw new MetricError('invalid pods metric source: an average value target must be set');
      const target = toMilli(averageValue);
      const metrics = podMetrics(fetched(observed.pods?.[name], `unable to get metric ${name}`));
      const { replicas, usage } = getMetricReplicas(ctx, specReplicas, target, name, metrics);
      return result(replicas, formatMilli(usage), formatMilli(target));
    });
  }
  if (spec.type === 'Object') {
    // computeStatusForObjectMetric: the target's type decides (Value, or AverageValue per status.replicas).
    return wrapped('failed to get object metric value', () => {
      const target = spec.object.target;
      const usage = () => toMilli(fetched(observed.object?.[name], `unable to get metric ${name}`));
      if (target.type === 'Value' && target.value !== undefined) {
        const targetUsage = toMilli(target.value);
        const { replicas, usage: current } = getObjectMetricReplicas(ctx, specReplicas, targetUsage, usage());
        return result(replicas, formatMilli(current), formatMilli(targetUsage));
      }
      if (target.type === 'AverageValue' && target.averageValue !== undefined) {
        const targetPerPod = toMilli(target.averageValue);
        const { replicas, usage: current } = wrapped(`failed to get ${name} object metric`, () => getObjectPerPodMetricReplicas(ctx, statusReplicas, targetPerPod, usage()));
        return result(replicas, formatMilli(current), formatMilli(targetPerPod));
      }
      throw new MetricError('invalid object metric source: neither a value target nor an average value target was set');
    });
  }
  if (spec.type === 'External') {
    // computeStatusForExternalMetric: an averageValue wins over a value, whatever the type says.
    return wrapped(`failed to get ${name} external metric value`, () => {
      const target = spec.external.target;
      const values = () => {
        const raw = fetched(observed.external?.[name], `unable to get external metric ${name}`);
        return (Array.isArray(raw) ? raw : [raw]).map((value) => toMilli(value));
      };
      if (target.averageValue !== undefined) {
        const targetPerPod = toMilli(target.averageValue);
        const { replicas, usage } = wrapped(`failed to get ${name} external metric`, () => getExternalPerPodMetricReplicas(ctx, statusReplicas, targetPerPod, name, values()));
        return result(replicas, formatMilli(usage), formatMilli(targetPerPod));
      }
      if (target.value !== undefined) {
        const targetUsage = toMilli(target.value);
        const { replicas, usage } = wrapped(`failed to get external metric ${name}`, () => getExternalMetricReplicas(ctx, specReplicas, targetUsage, name, values()));
        return result(replicas, formatMilli(usage), formatMilli(targetUsage));
      }
      throw new MetricError('invalid external metric source: neither a value target nor an average value target was set');
    });
  }
  throw new MetricError(`unknown metric source type ${JSON.stringify((spec as { type?: unknown }).type)}`);
}

/** The ScalingActive reason computeReplicasForMetric sets when a metric of this type fails (getUnableComputeReplicaCountCondition). */
export const FAILED_CONDITION: Partial<Record<string, string>> = {
  Resource: 'FailedGetResourceMetric',
  ContainerResource: 'FailedGetContainerResourceMetric',
  Pods: 'FailedGetPodsMetric',
  Object: 'FailedGetObjectMetric',
  External: 'FailedGetExternalMetric',
};

export function targetText(spec: MetricSpec): string {
  const target = metricSource(spec)?.target;
  if (!target) return '?';
  if (target.averageValue !== undefined) return formatMilli(toMilli(target.averageValue));
  if (target.averageUtilization !== undefined) return String(target.averageUtilization);
  if (target.value !== undefined) return formatMilli(toMilli(target.value));
  return '?';
}
