/**
 * From the metrics' recommendation to the replica count the HPA sets: stabilization windows and
 * scaling policies (horizontal.go: normalizeDesiredReplicasWithBehaviors), or, for an HPA without
 * `behavior`, the legacy downscale window and scale-up limit (normalizeDesiredReplicas).
 */
import type { History, ScaleEvent, ScalingPolicy, ScalingRules } from './types.ts';

export interface ResolvedRules {
  stabilizationWindowSeconds: number;
  selectPolicy: 'Max' | 'Min' | 'Disabled';
  policies: ScalingPolicy[];
}

/** autoscaling/v2 defaulting (GenerateHPAScaleUpRules / GenerateHPAScaleDownRules). */
export function scaleUpRules(rules: ScalingRules | undefined): ResolvedRules {
  return {
    stabilizationWindowSeconds: rules?.stabilizationWindowSeconds ?? 0,
    selectPolicy: rules?.selectPolicy ?? 'Max',
    policies: rules?.policies ?? [
      { type: 'Pods', value: 4, periodSeconds: 15 },
      { type: 'Percent', value: 100, periodSeconds: 15 },
    ],
  };
}

export function scaleDownRules(rules: ScalingRules | undefined, downscaleStabilizationWindow: number): ResolvedRules {
  return {
    stabilizationWindowSeconds: rules?.stabilizationWindowSeconds ?? downscaleStabilizationWindow,
    selectPolicy: rules?.selectPolicy ?? 'Max',
    policies: rules?.policies ?? [{ type: 'Percent', value: 100, periodSeconds: 15 }],
  };
}

export interface Normalized {
  replicas: number;
  /** After the stabilization window, before the rate limits. */
  stabilized: number;
  limit: 'DesiredWithinRange' | 'ScaleUpLimit' | 'ScaleDownLimit' | 'TooManyReplicas' | 'TooFewReplicas';
  /** The policy that set the limit, when one did. */
  policy?: { direction: 'scaleUp' | 'scaleDown'; policy: ScalingPolicy };
}

/** getReplicasChangePerPeriod: replicas changed by events strictly inside the last period. */
function changeInPeriod(now: number, periodSeconds: number, events: ScaleEvent[]): number {
  return events.filter((event) => event.time > now - periodSeconds).reduce((sum, event) => sum + event.change, 0);
}

function policyLimit(direction: 'scaleUp' | 'scaleDown', now: number, current: number, history: History, rules: ResolvedRules) {
  if (rules.selectPolicy === 'Disabled') return { limit: current, policy: undefined };
  const up = direction === 'scaleUp';
  // For scale-up, Max picks the largest proposal; for scale-down, Max picks the largest change,
  // i.e. the smallest proposal. Min is the opposite.
  const pickLarger = up === (rules.selectPolicy === 'Max');
  let limit = pickLarger ? -Infinity : Infinity;
  let chosen: ScalingPolicy | undefined;
  for (const policy of rules.policies) {
    const added = changeInPeriod(now, policy.periodSeconds, history.scaleUpEvents ?? []);
    const deleted = changeInPeriod(now, policy.periodSeconds, history.scaleDownEvents ?? []);
    const periodStart = current - added + deleted;
    let proposed: number;
    if (up) proposed = policy.type === 'Pods' ? periodStart + policy.value : Math.ceil(periodStart * (1 + policy.value / 100));
    else proposed = policy.type === 'Pods' ? periodStart - policy.value : Math.trunc(periodStart * (1 - policy.value / 100));
    if (pickLarger ? proposed > limit : proposed < limit) {
      limit = proposed;
      chosen = policy;
    }
  }
  return { limit, policy: chosen };
}

export interface NormalizeInput {
  now: number;
  current: number;
  desired: number;
  minReplicas: number;
  maxReplicas: number;
  history: History;
}

export function normalizeWithBehaviors(input: NormalizeInput, up: ResolvedRules, down: ResolvedRules): Normalized {
  const { now, current, desired, history } = input;
  // stabilizeRecommendationWithBehaviors: the lowest recommendation of the scale-up window and
  // the highest of the scale-down window bound where the recommendation may move.
  let upRecommendation = desired;
  let downRecommendation = desired;
  for (const rec of history.recommendations ?? []) {
    if (rec.time > now - up.stabilizationWindowSeconds) upRecommendation = Math.min(rec.replicas, upRecommendation);
    if (rec.time > now - down.stabilizationWindowSeconds) downRecommendation = Math.max(rec.replicas, downRecommendation);
  }
  let stabilized = current;
  if (stabilized < upRecommendation) stabilized = upRecommendation;
  if (stabilized > downRecommendation) stabilized = downRecommendation;

  // convertDesiredReplicasWithBehaviorRate
  if (stabilized > current) {
    const { limit: rawLimit, policy } = policyLimit('scaleUp', now, current, history, up);
    const limit = Math.max(rawLimit, current);
    const byPolicy = input.maxReplicas > limit;
    const maximum = byPolicy ? limit : input.maxReplicas;
    if (stabilized > maximum) {
      return byPolicy
        ? { replicas: maximum, stabilized, limit: 'ScaleUpLimit', ...(policy ? { policy: { direction: 'scaleUp', policy } } : {}) }
        : { replicas: maximum, stabilized, limit: 'TooManyReplicas' };
    }
  } else if (stabilized < current) {
    const { limit: rawLimit, policy } = policyLimit('scaleDown', now, current, history, down);
    const limit = Math.min(rawLimit, current);
    const byPolicy = input.minReplicas < limit;
    const minimum = byPolicy ? limit : input.minReplicas;
    if (stabilized < minimum) {
      return byPolicy
        ? { replicas: minimum, stabilized, limit: 'ScaleDownLimit', ...(policy ? { policy: { direction: 'scaleDown', policy } } : {}) }
        : { replicas: minimum, stabilized, limit: 'TooFewReplicas' };
    }
  }
  return { replicas: stabilized, stabilized, limit: 'DesiredWithinRange' };
}

/** The path of an HPA without `behavior`: downscale stabilization, then convertDesiredReplicasWithRules. */
export function normalizeLegacy(input: NormalizeInput, downscaleStabilizationWindow: number, scaleUpLimitFactor: number): Normalized {
  let stabilized = input.desired;
  for (const rec of input.history.recommendations ?? []) {
    if (!(rec.time < input.now - downscaleStabilizationWindow) && rec.replicas > stabilized) stabilized = rec.replicas;
  }
  const scaleUpLimit = Math.trunc(Math.max(scaleUpLimitFactor * input.current, 4));
  const byLimit = input.maxReplicas > scaleUpLimit;
  const maximum = byLimit ? scaleUpLimit : input.maxReplicas;
  if (stabilized < input.minReplicas) return { replicas: input.minReplicas, stabilized, limit: 'TooFewReplicas' };
  if (stabilized > maximum) return { replicas: maximum, stabilized, limit: byLimit ? 'ScaleUpLimit' : 'TooManyReplicas' };
  return { replicas: stabilized, stabilized, limit: 'DesiredWithinRange' };
}
