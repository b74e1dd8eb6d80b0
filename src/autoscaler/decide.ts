/**
 * One HPA sync (horizontal.go: reconcileAutoscaler → computeReplicasForMetrics → normalize):
 * what the controller would set spec.replicas to, each metric's proposal, and why.
 */
import { normalizeLegacy, normalizeWithBehaviors, scaleDownRules, scaleUpRules, type Normalized } from './behavior.ts';
import { formatMilli, toMilli } from './quantity.ts';
import {
  MetricError,
  perPodReplicas,
  plainMetricReplicas,
  podMetrics,
  resourceReplicas,
  usageRatioReplicas,
  type CalculatorContext,
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

function fetched<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new MetricError(`unable to get ${what}: no metrics returned`);
  return value;
}

function computeMetric(spec: MetricSpec, situation: Situation, ctx: CalculatorContext): Computed {
  const current = situation.currentReplicas;
  const statusReplicas = situation.statusReplicas ?? current;
  const observed = situation.metrics ?? {};
  const name = metricName(spec);
  const result = (proposal: number, currentText: string, targetText: string, unit = '') => ({
    proposal: { type: spec.type, name, current: currentText, target: targetText, proposal },
    describe: `${name}${unit === '%' ? ' utilization' : ''} ${currentText}${unit} vs target ${targetText}${unit}`,
  });

  if (spec.type === 'Resource' || spec.type === 'ContainerResource') {
    const source = spec.type === 'Resource' ? spec.resource : spec.containerResource;
    const container = spec.type === 'ContainerResource' ? spec.containerResource.container : undefined;
    const samples =
      container === undefined
        ? fetched(observed.resource?.[source.name], `metrics for resource ${source.name}`)
        : fetched(observed.containerResource?.[container]?.[source.name], `metrics for resource ${source.name} of container ${container}`);
    const metrics = podMetrics(samples);
    if (source.target.averageValue !== undefined) {
      const target = toMilli(source.target.averageValue);
      const { replicas, usage } = plainMetricReplicas(ctx, current, target, source.name, metrics);
      return result(replicas, formatMilli(usage), formatMilli(target));
    }
    if (source.target.averageUtilization === undefined) {
      throw new MetricError('invalid resource metric source: neither an average utilization target nor an average value (usage) target was set');
    }
    const { replicas, utilization } = resourceReplicas(ctx, current, source.target.averageUtilization, source.name, metrics, container);
    return result(replicas, String(utilization), String(source.target.averageUtilization), '%');
  }
  if (spec.type === 'Pods') {
    const averageValue = spec.pods.target.averageValue;
    if (averageValue === undefined) throw new MetricError('invalid pods metric source: an average value target must be set');
    const metrics = podMetrics(fetched(observed.pods?.[name], `metric ${name}`));
    const target = toMilli(averageValue);
    const { replicas, usage } = plainMetricReplicas(ctx, current, target, '', metrics);
    return result(replicas, formatMilli(usage), formatMilli(target));
  }
  if (spec.type === 'Object' || spec.type === 'External') {
    const target = spec.type === 'Object' ? spec.object.target : spec.external.target;
    const raw = spec.type === 'Object' ? fetched(observed.object?.[name], `metric ${name}`) : fetched(observed.external?.[name], `external metric ${name}`);
    const total = (Array.isArray(raw) ? raw : [raw]).reduce<number>((sum, value) => sum + toMilli(value), 0);
    const perPod = spec.type === 'Object' ? target.type === 'AverageValue' && target.averageValue !== undefined : target.averageValue !== undefined;
    if (perPod) {
      const targetPerPod = toMilli(target.averageValue!);
      const { replicas, usage } = perPodReplicas(ctx, statusReplicas, total, targetPerPod);
      return result(replicas, formatMilli(usage), formatMilli(targetPerPod));
    }
    const valueTarget = spec.type === 'Object' ? (target.type === 'Value' ? target.value : undefined) : target.value;
    if (valueTarget === undefined) throw new MetricError(`invalid ${spec.type.toLowerCase()} metric source: neither a value target nor an average value target was set`);
    const targetMilli = toMilli(valueTarget);
    return result(usageRatioReplicas(ctx, current, total / targetMilli), formatMilli(total), formatMilli(targetMilli));
  }
  throw new MetricError(`unknown metric type ${JSON.stringify((spec as { type?: unknown }).type)}`);
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

export function decide(situation: Situation): Decision {
  const spec = situation.spec;
  const current = situation.currentReplicas;
  const minReplicas = spec.minReplicas ?? 1;
  const specs = spec.metrics && spec.metrics.length > 0 ? spec.metrics : DEFAULT_METRICS;
  const up = spec.behavior?.scaleUp;
  const down = spec.behavior?.scaleDown;
  const defaultTolerance = situation.tolerance ?? 0.1;
  const ctx: CalculatorContext = {
    pods: (situation.pods ?? []).map((pod) => ({ ...pod })),
    now: situation.now,
    tolerances: {
      scaleUp: up?.tolerance !== undefined ? toMilli(up.tolerance) / 1000 : defaultTolerance,
      scaleDown: down?.tolerance !== undefined ? toMilli(down.tolerance) / 1000 : defaultTolerance,
    },
    cpuInitializationPeriod: situation.cpuInitializationPeriod ?? 300,
    delayOfInitialReadinessStatus: situation.delayOfInitialReadinessStatus ?? 30,
  };

  if (current === 0 && minReplicas !== 0) {
    return { desiredReplicas: 0, metrics: [], reason: 'scaling is disabled since the replica count of the target is zero' };
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
      proposals.push({ type: metricSpec.type, name: metricName(metricSpec), current: null, target: targetText(metricSpec), proposal: null, error: message });
    }
  }
  // All metrics failed, or some failed and the rest would scale down: upstream does not scale.
  if (errors.length >= specs.length || (errors.length > 0 && recommendation < current)) {
    return {
      desiredReplicas: current,
      metrics: proposals,
      reason: `no scaling: invalid metrics (${errors.length} invalid out of ${specs.length}), first error is: ${errors[0]}`,
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
  return { desiredReplicas: normalized.replicas, metrics: proposals, reason: parts.join('; '), recommendation };
}

function targetText(spec: MetricSpec): string {
  const target = metricSource(spec)?.target;
  if (!target) return '?';
  if (target.averageValue !== undefined) return formatMilli(toMilli(target.averageValue));
  if (target.averageUtilization !== undefined) return String(target.averageUtilization);
  if (target.value !== undefined) return formatMilli(toMilli(target.value));
  return '?';
}
