/**
 * One HPA sync (horizontal.go: reconcileAutoscaler → computeReplicasForMetrics → normalize):
 * what the controller would set spec.replicas to, each metric's proposal, and why, as the
 * situation's Kubernetes minor decides it (default: the pinned control plane).
 */
import { normalizeLegacy, normalizeWithBehaviors, scaleDownRules, scaleUpRules, type Normalized } from './behavior.ts';
import { DEFAULT_KUBERNETES_VERSION } from './gates.ts';
import { computeReplicasForMetrics, gatesOf, metricSpecs } from './proposals.ts';
import { afterRescale, computesFromZero, disabledAtZero, raisedFromZero, zeroRules } from './scale-to-zero.ts';
import type { Decision, Situation } from './types.ts';

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
  const zero = zeroRules(situation, situation.kubernetesVersion ?? DEFAULT_KUBERNETES_VERSION, gatesOf(situation));
  const rescaled = (decision: Decision) => afterRescale(decision, zero, current, minReplicas);

  if (current === 0) {
    if (!computesFromZero(zero, minReplicas)) return disabledAtZero(zero);
  } else if (current > spec.maxReplicas) {
    return rescaled({ desiredReplicas: spec.maxReplicas, metrics: [], reason: `current number of replicas ${current} above maxReplicas ${spec.maxReplicas}` });
  } else if (current < minReplicas) {
    return rescaled({ desiredReplicas: minReplicas, metrics: [], reason: `current number of replicas ${current} below minReplicas ${minReplicas}` });
  }

  const { proposals, errors, recommendation, winner, failedCondition } = computeReplicasForMetrics(situation);
  const count = metricSpecs(situation).length;
  // All metrics failed, or some failed and the rest would scale down: upstream does not scale.
  if (errors.length >= count || (errors.length > 0 && recommendation < current)) {
    return {
      desiredReplicas: current,
      metrics: proposals,
      reason: `no scaling: invalid metrics (${errors.length} invalid out of ${count}), first error is: ${errors[0]}`,
      conditions: [failedCondition!],
    };
  }

  // reconcileAutoscaler starts from 0 and takes the proposal only if larger: a negative one (1.34's
  // int32 overflow) proposes 0.
  const proposed = Math.max(0, recommendation);
  const input = { now: situation.now, current, desired: proposed, minReplicas, maxReplicas: spec.maxReplicas, history: situation.history ?? {} };
  const normalized =
    spec.behavior == null
      ? normalizeLegacy(input, situation.downscaleStabilizationWindow ?? 300, situation.scaleUpLimitFactor ?? 2)
      : normalizeWithBehaviors(input, scaleUpRules(spec.behavior.scaleUp), scaleDownRules(spec.behavior.scaleDown, situation.downscaleStabilizationWindow ?? 300));
  const raised = raisedFromZero(zero, current, minReplicas, normalized.replicas);

  const parts: string[] = [];
  if (recommendation > current) parts.push(`${winner!.describe}: above target, proposes ${recommendation}`);
  else if (recommendation < current) parts.push(`all metrics below target (${proposals.map((p) => `${p.name} ${p.current}/${p.target}`).join(', ')}), proposes ${recommendation}`);
  else parts.push(`no change: ${proposals.filter((p) => p.proposal !== null).map((p) => `${p.name} ${p.current}/${p.target} proposes ${p.proposal}`).join(', ')}`);
  if (normalized.stabilized !== proposed) {
    const window = proposed < current ? 'scaleDown' : 'scaleUp';
    parts.push(`held at ${normalized.stabilized} by the ${window} stabilization window`);
  }
  const limit = limitText(normalized, situation);
  if (limit) parts.push(limit);
  if (raised) parts.push(`raised to minReplicas ${minReplicas}: scaling up from a zero the HPA made, after minReplicas was raised`);
  if (errors.length > 0) parts.push(`${errors.length} metric(s) could not be computed: ${errors[0]}`);
  return rescaled({
    desiredReplicas: raised ? minReplicas : normalized.replicas,
    metrics: proposals,
    reason: parts.join('; '),
    recommendation: proposed,
    conditions: [
      { type: 'ScalingActive', status: 'True', reason: 'ValidMetricFound' },
      { type: 'AbleToScale', status: 'True', reason: normalized.stabilization ?? 'ReadyForNewScale' },
      { type: 'ScalingLimited', status: normalized.replicas === normalized.stabilized ? 'False' : 'True', reason: normalized.limit },
    ],
  });
}
