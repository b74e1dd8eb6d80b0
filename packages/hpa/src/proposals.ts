/**
 * computeReplicasForMetrics (horizontal.go): every metric of the spec proposes a replica count with
 * the minor's replica calculator and tolerances; the largest proposal wins. No reconcile rule
 * applies here (zero replicas, min/max, stabilization, policies): that is decide()'s job, so a
 * caller that only wants the HPA's per-metric arithmetic calls proposals().
 */
import { computeMetric, FAILED_CONDITION, metricName, targetText, type Computed } from './compute-metric.ts';
import { DEFAULT_KUBERNETES_VERSION, resolveGates, type ResolvedGates } from './gates.ts';
import { toApproximateFloat64 } from './quantity.ts';
import type { CalculatorContext, Tolerances } from './replica-calculator.ts';
import type { HpaCondition, MetricProposal, MetricSpec, Situation } from './types.ts';

/** autoscaling/v2 defaulting: an HPA without metrics scales on CPU at 80 %. */
const DEFAULT_METRICS: MetricSpec[] = [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 80 } } }];

export function metricSpecs(situation: Situation): MetricSpec[] {
  const metrics = situation.spec.metrics;
  return metrics && metrics.length > 0 ? metrics : DEFAULT_METRICS;
}

/** The situation's feature gates in its minor (throws on an override that minor refuses). */
export function gatesOf(situation: Pick<Situation, 'kubernetesVersion' | 'featureGates'>): ResolvedGates {
  return resolveGates(situation.kubernetesVersion ?? DEFAULT_KUBERNETES_VERSION, situation.featureGates);
}

/**
 * tolerancesForHpa: the controller's --horizontal-pod-autoscaler-tolerance for both directions;
 * behavior.scaleUp/scaleDown.tolerance only with the HPAConfigurableTolerance feature gate: alpha,
 * off by default in 1.33 and 1.34 (the API server also drops the field then), beta and on in 1.35
 * and 1.36, GA and locked on in 1.37.
 */
export function tolerancesForHpa(situation: Pick<Situation, 'spec' | 'tolerance' | 'featureGates' | 'kubernetesVersion'>): Tolerances {
  const tolerance = situation.tolerance ?? 0.1;
  const tolerances = { scaleUp: tolerance, scaleDown: tolerance };
  const behavior = situation.spec.behavior;
  if (behavior == null || !gatesOf(situation).HPAConfigurableTolerance) return tolerances;
  if (behavior.scaleDown?.tolerance !== undefined) tolerances.scaleDown = toApproximateFloat64(behavior.scaleDown.tolerance);
  if (behavior.scaleUp?.tolerance !== undefined) tolerances.scaleUp = toApproximateFloat64(behavior.scaleUp.tolerance);
  return tolerances;
}

function calculatorContext(situation: Situation): CalculatorContext {
  return {
    pods: (situation.pods ?? []).map((pod) => ({ ...pod })),
    now: situation.now,
    tolerances: tolerancesForHpa(situation),
    cpuInitializationPeriod: situation.cpuInitializationPeriod ?? 300,
    delayOfInitialReadinessStatus: situation.delayOfInitialReadinessStatus ?? 30,
    kubernetesVersion: situation.kubernetesVersion ?? DEFAULT_KUBERNETES_VERSION,
  };
}

export interface MetricsOutcome {
  /** Each metric's proposal, or why it has none, in spec order. */
  proposals: MetricProposal[];
  errors: string[];
  /** The largest proposal (0 when none), as upstream keeps it: the first valid proposal, then any larger one. */
  recommendation: number;
  winner: Computed | undefined;
  /** The ScalingActive condition of the first metric that failed. */
  failedCondition: HpaCondition | undefined;
}

export function computeReplicasForMetrics(situation: Situation): MetricsOutcome {
  const ctx = calculatorContext(situation);
  const outcome: MetricsOutcome = { proposals: [], errors: [], recommendation: 0, winner: undefined, failedCondition: undefined };
  for (const metricSpec of metricSpecs(situation)) {
    try {
      const computed = computeMetric(metricSpec, situation, ctx);
      outcome.proposals.push(computed.proposal);
      if (outcome.recommendation === 0 || computed.proposal.proposal! > outcome.recommendation) {
        outcome.recommendation = computed.proposal.proposal!;
        outcome.winner = computed;
      }
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      outcome.errors.push(message);
      outcome.failedCondition ??= { type: 'ScalingActive', status: 'False', reason: FAILED_CONDITION[metricSpec.type] ?? 'InvalidMetricSourceType' };
      outcome.proposals.push({ type: metricSpec.type, name: metricName(metricSpec), current: null, target: targetText(metricSpec), proposal: null, error: message });
    }
  }
  return outcome;
}

/** Each metric's proposal with the HPA's arithmetic and nothing of its reconcile rules. */
export function proposals(situation: Situation): MetricProposal[] {
  return computeReplicasForMetrics(situation).proposals;
}
