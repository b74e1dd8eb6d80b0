/**
 * One HPA sync (horizontal.go: reconcileAutoscaler → computeReplicasForMetrics → normalize):
 * what the controller would set spec.replicas to, each metric's proposal, and why.
 */
import { normalizeLegacy, normalizeWithBehaviors, scaleDownRules, scaleUpRules, type Normalized } from './behavior.ts';
import { formatMilli, toApproximateFloat64, toMilli } from './quantity.ts';
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
  type Tolerances,
} from './replica-calculator.ts';
import type { Decision, MetricProposal, MetricSpec, MetricTarget, Situation } from './types.ts';

/** autoscaling/v2 defaulting: an HPA without metrics scales on CPU at 80 %. */
const DEFAULT_METRICS: MetricSpec[] = [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 80 } } }];

interface Computed {
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

function computeMetric(spec: MetricSpec, situation: Situation, ctx: CalculatorContext): Computed {
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

/**
 * tolerancesForHpa: the controller's --horizontal-pod-autoscaler-tolerance for both directions;
 * behavior.scaleUp/scaleDown.tolerance only with the HPAConfigurableTolerance feature gate, which
 * is alpha and off by default in 1.33 and 1.34 (the API server also drops the field when it is off).
 */
export function tolerancesForHpa(situation: Pick<Situation, 'spec' | 'tolerance' | 'featureGates'>): Tolerances {
  const tolerance = situation.tolerance ?? 0.1;
  const tolerances = { scaleUp: tolerance, scaleDown: tolerance };
  const behavior = situation.spec.behavior;
  if (behavior == null || situation.featureGates?.HPAConfigurableTolerance !== true) return tolerances;
  if (behavior.scaleDown?.tolerance !== undefined) tolerances.scaleDown = toApproximateFloat64(behavior.scaleDown.tolerance);
  if (behavior.scaleUp?.tolerance !== undefined) tolerances.scaleUp = toApproximateFloat64(behavior.scaleUp.tolerance);
  return tolerances;
}

function limitText(normalized: Normalized, situation: Situation): string {
  switch (normalized.limit) {
    case 'ScaleUpLimit':
    case 'ScaleDownLimit': {
      const direction = normalized.limit === 'ScaleUpLimit' ? 'scaleUp' : 'scaleDown';
      const policy = normalized.policy?.policy;
      if (situation.spec.behavior == null) return `limited to ${normalized.replicas} by the scale-up limit (max(${situation.scaleUpLimitFactor ?? 2}× current, 4))`;
      return policy ? `limited by ${direction} policy ${policy.type} ${policy.value} per ${policy.periodSeconds}s` : `${direction} is disabled`;
    }
    case 'TooManyReplicas':
      return `capped at maxReplicas ${situation.spec.maxReplicas}`;
    case 'TooFewReplicas':
      return `raised to minReplicas ${situation.spec.minReplicas ?? 1}`;
    default:
      return '';
  }
}

/** The ScalingActive reason computeReplicasForMetric sets when a metric of this type fails (getUnableComputeReplicaCountCondition). */
const FAILED_CONDITION: Partial<Record<string, string>> = {
  Resource: 'FailedGetResourceMetric',
  ContainerResource: 'FailedGetContainerResourceMetric',
  Pods: 'FailedGetPodsMetric',
  Object: 'FailedGetObjectMetric',
  External: 'FailedGetExternalMetric',
};

export function decide(situation: Situation): Decision {
  const spec = situation.spec;
  const current = situation.currentReplicas;
  const minReplicas = spec.minReplicas ?? 1;
  const specs = spec.metrics && spec.metrics.length > 0 ? spec.metrics : DEFAULT_METRICS;
  const up = spec.behavior?.scaleUp;
  const down = spec.behavior?.scaleDown;
  const ctx: CalculatorContext = {
    pods: (situation.pods ?? []).map((pod) => ({ ...pod })),
    now: situation.now,
    tolerances: tolerancesForHpa(situation),
    cpuInitializationPeriod: situation.cpuInitializationPeriod ?? 300,
    delayOfInitialReadinessStatus: situation.delayOfInitialReadinessStatus ?? 30,
  };

  if (current === 0 && minReplicas !== 0) {
    return {
      desiredReplicas: 0,
      metrics: [],
      reason: 'scaling is disabled since the replica count of the target is zero',
      conditions: [{ type: 'ScalingActive', status: 'False', reason: 'ScalingDisabled' }],
    };
  }
  if (current > spec.maxReplicas) {
    return { desiredReplicas: spec.maxReplicas, metrics: [], reason: `current number of replicas ${current} above maxReplicas ${spec.maxReplicas}` };
  }
  if (current < minReplicas) {
    return { desiredReplicas: minReplicas, metrics: [], reason: `current number of replicas ${current} below minReplicas ${minReplicas}` };
  }

  // computeReplicasForMetrics: every metric proposes; the largest proposal wins.
  const proposals: MetricProposal[] = [];
  const errors: string[] = [];
  let firstFailedType: MetricSpec['type'] | undefined;
  let recommendation = 0;
  let winner: Computed | undefined;
  for (const metricSpec of specs) {
    try {
      const computed = computeMetric(metricSpec, situation, ctx);
      proposals.push(computed.proposal);
      if (recommendation === 0 || computed.proposal.proposal! > recommendation) {
        recommendation = computed.proposal.proposal!;
        winner = computed;
      }
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      errors.push(message);
      firstFailedType ??= metricSpec.type;
      proposals.push({ type: metricSpec.type, name: metricName(metricSpec), current: null, target: targetText(metricSpec), proposal: null, error: message });
    }
  }
  // All metrics failed, or some failed and the rest would scale down: upstream does not scale.
  if (errors.length >= specs.length || (errors.length > 0 && recommendation < current)) {
    return {
      desiredReplicas: current,
      metrics: proposals,
      reason: `no scaling: invalid metrics (${errors.length} invalid out of ${specs.length}), first error is: ${errors[0]}`,
      conditions: [{ type: 'ScalingActive', status: 'False', reason: FAILED_CONDITION[firstFailedType!] ?? 'InvalidMetricSourceType' }],
    };
  }

  const input = { now: situation.now, current, desired: recommendation, minReplicas, maxReplicas: spec.maxReplicas, history: situation.history ?? {} };
  const normalized =
    spec.behavior == null
      ? normalizeLegacy(input, situation.downscaleStabilizationWindow ?? 300, situation.scaleUpLimitFactor ?? 2)
      : normalizeWithBehaviors(input, scaleUpRules(up), scaleDownRules(down, situation.downscaleStabilizationWindow ?? 300));

  const parts: string[] = [];
  if (recommendation > current) parts.push(`${winner!.describe}: above target, proposes ${recommendation}`);
  else if (recommendation < current) parts.push(`all metrics below target (${proposals.map((p) => `${p.name} ${p.current}/${p.target}`).join(', ')}), proposes ${recommendation}`);
  else parts.push(`no change: ${proposals.filter((p) => p.proposal !== null).map((p) => `${p.name} ${p.current}/${p.target} proposes ${p.proposal}`).join(', ')}`);
  if (normalized.stabilized !== recommendation) {
    const window = recommendation < current ? 'scaleDown' : 'scaleUp';
    parts.push(`held at ${normalized.stabilized} by the ${window} stabilization window`);
  }
  const limit = limitText(normalized, situation);
  if (limit) parts.push(limit);
  if (errors.length > 0) parts.push(`${errors.length} metric(s) could not be computed: ${errors[0]}`);
  return {
    desiredReplicas: normalized.replicas,
    metrics: proposals,
    reason: parts.join('; '),
    recommendation,
    conditions: [
      { type: 'ScalingActive', status: 'True', reason: 'ValidMetricFound' },
      { type: 'AbleToScale', status: 'True', reason: normalized.stabilization ?? 'ReadyForNewScale' },
      { type: 'ScalingLimited', status: normalized.replicas === normalized.stabilized ? 'False' : 'True', reason: normalized.limit },
    ],
  };
}

function targetText(spec: MetricSpec): string {
  const target = metricSource(spec)?.target;
  if (!target) return '?';
  if (target.averageValue !== undefined) return formatMilli(toMilli(target.averageValue));
  if (target.averageUtilization !== undefined) return String(target.averageUtilization);
  if (target.value !== undefined) return formatMilli(toMilli(target.value));
  return '?';
}
