/**
 * reconcileAutoscaler's rules for a target at zero replicas and its ScaledToZero condition
 * (horizontal.go: shouldComputeMetricsForZeroReplicas, the raise to minReplicas after
 * normalization, the condition set on every rescale). They arrived in 1.36 behind HPAScaleToZero
 * (alpha and off in 1.36, beta and on in 1.37), but not all of them are gated: from 1.36 a target
 * at zero stays there unless the HPA itself put it there, whatever the gate says.
 */
import { atLeast, type KubernetesVersion, type ResolvedGates } from './gates.ts';
import type { Decision, HpaCondition, Situation } from './types.ts';

export interface ZeroRules {
  /** 1.36+: the controller reads HPAScaleToZero and writes or removes ScaledToZero. */
  since136: boolean;
  gate: boolean;
  /** The status says ScaledToZero=True and the gate lets the controller read it. */
  scaledToZero: boolean;
  hasObjectOrExternal: boolean;
}

export function zeroRules(situation: Situation, version: KubernetesVersion, gates: ResolvedGates): ZeroRules {
  const gate = gates.HPAScaleToZero;
  return {
    since136: atLeast(version, '1.36'),
    gate,
    scaledToZero: gate && situation.scaledToZero === true,
    hasObjectOrExternal: (situation.spec.metrics ?? []).some((metric) => metric.type === 'Object' || metric.type === 'External'),
  };
}

/**
 * At zero current replicas: whether the metrics are computed (a scale from zero) or scaling is
 * disabled. Until 1.35, every HPA with minReplicas 0 computed; from 1.36 only a zero the HPA made
 * (ScaledToZero=True) with an Object/External metric, or one whose minReplicas has since been raised.
 */
export function computesFromZero(rules: ZeroRules, minReplicas: number): boolean {
  if (!rules.since136) return minReplicas === 0;
  return (minReplicas !== 0 && rules.scaledToZero) || (rules.scaledToZero && rules.hasObjectOrExternal);
}

export function disabledAtZero(rules: ZeroRules): Decision {
  return {
    desiredReplicas: 0,
    metrics: [],
    reason:
      'scaling is disabled since the replica count of the target is zero' +
      (rules.since136 ? ' (from 1.36 the HPA scales up only from a zero it made itself: status ScaledToZero=True, read with the HPAScaleToZero gate)' : ''),
    conditions: [{ type: 'ScalingActive', status: 'False', reason: 'ScalingDisabled' }],
    // A gate turned off leaves no stale condition behind.
    ...(rules.since136 && !rules.gate ? { removedConditions: ['ScaledToZero'] } : {}),
  };
}

/**
 * Behavior policies ignore minReplicas on a scale-up, so a scale from a zero the HPA made, after
 * the user raised minReplicas, would stop short of it; upstream raises it after normalization.
 */
export function raisedFromZero(rules: ZeroRules, current: number, minReplicas: number, desired: number): boolean {
  return rules.since136 && current === 0 && minReplicas !== 0 && rules.scaledToZero && desired < minReplicas;
}

/** What a successful rescale does to ScaledToZero (from 1.36: set on every rescale, so it is never stale). */
export function afterRescale(decision: Decision, rules: ZeroRules, current: number, minReplicas: number): Decision {
  if (!rules.since136 || decision.desiredReplicas === current) return decision;
  if (!rules.gate) return { ...decision, removedConditions: ['ScaledToZero'] };
  const toZero = current > 0 && decision.desiredReplicas === 0 && minReplicas === 0 && rules.hasObjectOrExternal;
  const condition: HpaCondition = { type: 'ScaledToZero', status: toZero ? 'True' : 'False', reason: toZero ? 'ScaledToZero' : 'NotScaledToZero' };
  return {
    ...decision,
    reason: toZero ? `${decision.reason}; the HPA scaled the target to zero (ScaledToZero=True), so it will scale it up from zero again` : decision.reason,
    conditions: [...(decision.conditions ?? []), condition],
  };
}
