/**
 * From the metrics' recommendation to the replica count the HPA sets: a port of the behavior code
 * of horizontal.go as of Kubernetes v1.34.4, the same in v1.35.4, v1.36.3 and v1.37.2 (so no minor
 * is asked for) — stabilization windows and scaling policies
 * (normalizeDesiredReplicasWithBehaviors) or, for an HPA without `behavior`, the legacy downscale
 * window and scale-up limit (normalizeDesiredReplicas). Times are seconds on the caller's clock;
 * upstream's time.Now() is `now`.
 */
import type { History, ScaleEvent, ScalingPolicy, ScalingRules } from './types.ts';

export interface ResolvedRules {
  stabilizationWindowSeconds: number;
  selectPolicy: 'Max' | 'Min' | 'Disabled';
  policies: ScalingPolicy[];
}

/** autoscaling/v2 defaulting: GenerateHPAScaleUpRules (0 s window, Max of 4 pods or 100 % per 15 s). */
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

/**
 * GenerateHPAScaleDownRules (Max of 100 % per 15 s) and maybeInitScaleDownStabilizationWindow:
 * without a window of its own, the controller's --horizontal-pod-autoscaler-downscale-stabilization.
 */
export function scaleDownRules(rules: ScalingRules | undefined, downscaleStabilizationWindow: number): ResolvedRules {
  return {
    stabilizationWindowSeconds: rules?.stabilizationWindowSeconds ?? downscaleStabilizationWindow,
    selectPolicy: rules?.selectPolicy ?? 'Max',
    policies: rules?.policies ?? [{ type: 'Percent', value: 100, periodSeconds: 15 }],
  };
}

/** The ScalingLimited condition's reasons. */
export type LimitReason = 'DesiredWithinRange' | 'ScaleUpLimit' | 'ScaleDownLimit' | 'TooManyReplicas' | 'TooFewReplicas';

export interface Normalized {
  replicas: number;
  /** After the stabilization window, before the rate limits. */
  stabilized: number;
  limit: LimitReason;
  /** The policy that set the limit, when one did. */
  policy?: { direction: 'scaleUp' | 'scaleDown'; policy: ScalingPolicy };
  /** The AbleToScale reason normalization sets: ScaleUpStabilized, ScaleDownStabilized or ReadyForNewScale. */
  stabilization?: 'ScaleUpStabilized' | 'ScaleDownStabilized' | 'ReadyForNewScale';
}

/** getReplicasChangePerPeriod: the replicas changed by events strictly after now − period. */
export function getReplicasChangePerPeriod(now: number, periodSeconds: number, events: readonly ScaleEvent[]): number {
  let replicas = 0;
  for (const event of events) if (event.time > now - periodSeconds) replicas += event.change;
  return replicas;
}

const MIN_INT32 = -(2 ** 31);
const MAX_INT32 = 2 ** 31 - 1;

interface Limit {
  limit: number;
  policy: ScalingPolicy | undefined;
}

function periodStartReplicas(now: number, current: number, policy: ScalingPolicy, scaleUpEvents: readonly ScaleEvent[], scaleDownEvents: readonly ScaleEvent[]): number {
  return current - getReplicasChangePerPeriod(now, policy.periodSeconds, scaleUpEvents) + getReplicasChangePerPeriod(now, policy.periodSeconds, scaleDownEvents);
}

function scaleUpLimit(now: number, current: number, scaleUpEvents: readonly ScaleEvent[], scaleDownEvents: readonly ScaleEvent[], rules: ResolvedRules): Limit {
  if (rules.selectPolicy === 'Disabled') return { limit: current, policy: undefined };
  // Min: the lowest proposal; Max (and anything else): the highest.
  const pickMin = rules.selectPolicy === 'Min';
  let result = pickMin ? MAX_INT32 : MIN_INT32;
  let chosen: ScalingPolicy | undefined;
  for (const policy of rules.policies) {
    const start = periodStartReplicas(now, current, policy, scaleUpEvents, scaleDownEvents);
    // Percent rounds up, or a small target could never grow.
    const proposed = policy.type === 'Pods' ? start + policy.value : Math.ceil(start * (1 + policy.value / 100));
    if (pickMin ? proposed < result : proposed > result) {
      result = proposed;
      chosen = policy;
    }
  }
  return { limit: result, policy: chosen };
}

function scaleDownLimit(now: number, current: number, scaleUpEvents: readonly ScaleEvent[], scaleDownEvents: readonly ScaleEvent[], rules: ResolvedRules): Limit {
  if (rules.selectPolicy === 'Disabled') return { limit: current, policy: undefined };
  // Min (the smallest change): the highest proposal; Max: the lowest.
  const pickMax = rules.selectPolicy === 'Min';
  let result = pickMax ? MIN_INT32 : MAX_INT32;
  let chosen: ScalingPolicy | undefined;
  for (const policy of rules.policies) {
    const start = periodStartReplicas(now, current, policy, scaleUpEvents, scaleDownEvents);
    // int32(float64 …) truncates toward zero
    const proposed = policy.type === 'Pods' ? start - policy.value : Math.trunc(start * (1 - policy.value / 100));
    if (pickMax ? proposed > result : proposed < result) {
      result = proposed;
      chosen = policy;
    }
  }
  return { limit: result, policy: chosen };
}

/** calculateScaleUpLimitWithScalingRules: the most replicas the scale-up policies allow now. */
export function calculateScaleUpLimitWithScalingRules(now: number, currentReplicas: number, scaleUpEvents: readonly ScaleEvent[], scaleDownEvents: readonly ScaleEvent[], rules: ResolvedRules): number {
  return scaleUpLimit(now, currentReplicas, scaleUpEvents, scaleDownEvents, rules).limit;
}

/** calculateScaleDownLimitWithBehaviors: the fewest replicas the scale-down policies allow now. */
export function calculateScaleDownLimitWithBehaviors(now: number, currentReplicas: number, scaleUpEvents: readonly ScaleEvent[], scaleDownEvents: readonly ScaleEvent[], rules: ResolvedRules): number {
  return scaleDownLimit(now, currentReplicas, scaleUpEvents, scaleDownEvents, rules).limit;
}

export interface Recommendation {
  time: number;
  replicas: number;
}

/**
 * stabilizeRecommendationWithBehaviors: the lowest recommendation of the scale-up window and the
 * highest of the scale-down window (each including this one, both windows exclusive of their
 * start) bound how far the current replica count may move.
 */
export function stabilizeRecommendationWithBehaviors(args: {
  now: number;
  currentReplicas: number;
  desiredReplicas: number;
  recommendations: readonly Recommendation[];
  scaleUpWindowSeconds: number;
  scaleDownWindowSeconds: number;
}): { replicas: number; reason: 'ScaleUpStabilized' | 'ScaleDownStabilized' } {
  let upRecommendation = args.desiredReplicas;
  let downRecommendation = args.desiredReplicas;
  for (const rec of args.recommendations) {
    if (rec.time > args.now - args.scaleUpWindowSeconds) upRecommendation = Math.min(rec.replicas, upRecommendation);
    if (rec.time > args.now - args.scaleDownWindowSeconds) downRecommendation = Math.max(rec.replicas, downRecommendation);
  }
  let recommendation = args.currentReplicas;
  if (recommendation < upRecommendation) recommendation = upRecommendation;
  if (recommendation > downRecommendation) recommendation = downRecommendation;
  return { replicas: recommendation, reason: args.desiredReplicas >= args.currentReplicas ? 'ScaleUpStabilized' : 'ScaleDownStabilized' };
}

/**
 * How stabilizeRecommendationWithBehaviors records the unstabilized recommendation: it replaces
 * the last entry older than both windows, or appends. Returns the new list (the input is not changed).
 */
export function recordRecommendationWithBehaviors(
  recommendations: readonly Recommendation[],
  recommendation: Recommendation,
  scaleUpWindowSeconds: number,
  scaleDownWindowSeconds: number,
): Recommendation[] {
  const upCutoff = recommendation.time - scaleUpWindowSeconds;
  const downCutoff = recommendation.time - scaleDownWindowSeconds;
  let oldIndex = -1;
  recommendations.forEach((rec, i) => {
    if (rec.time < upCutoff && rec.time < downCutoff) oldIndex = i;
  });
  const list = [...recommendations];
  if (oldIndex >= 0) list[oldIndex] = recommendation;
  else list.push(recommendation);
  return list;
}

/**
 * How storeScaleEvent records a rescale (only for an HPA with `behavior`): the last event older
 * than the direction's longest policy period is replaced, or the event is appended.
 */
export function storeScaleEvent(
  history: Required<Pick<History, 'scaleUpEvents' | 'scaleDownEvents'>>,
  now: number,
  behavior: { scaleUp: ResolvedRules; scaleDown: ResolvedRules } | null | undefined,
  prevReplicas: number,
  newReplicas: number,
): void {
  if (behavior == null) return; // the events would never be read
  const scaleUp = newReplicas > prevReplicas;
  const events = scaleUp ? history.scaleUpEvents : history.scaleDownEvents;
  const longestPolicyPeriod = Math.max(0, ...(scaleUp ? behavior.scaleUp : behavior.scaleDown).policies.map((policy) => policy.periodSeconds));
  let oldIndex = -1;
  events.forEach((event, i) => {
    if (event.time < now - longestPolicyPeriod) oldIndex = i;
  });
  const event = { time: now, change: scaleUp ? newReplicas - prevReplicas : prevReplicas - newReplicas };
  if (oldIndex >= 0) events[oldIndex] = event;
  else events.push(event);
}

/** convertDesiredReplicasWithBehaviorRate: the scaling policies' limits, then minReplicas/maxReplicas. */
export function convertDesiredReplicasWithBehaviorRate(args: {
  now: number;
  currentReplicas: number;
  desiredReplicas: number;
  minReplicas: number;
  maxReplicas: number;
  scaleUpEvents: readonly ScaleEvent[];
  scaleDownEvents: readonly ScaleEvent[];
  scaleUp: ResolvedRules;
  scaleDown: ResolvedRules;
}): { replicas: number; reason: LimitReason; policy?: Normalized['policy'] } {
  const { now, currentReplicas: current, desiredReplicas: desired } = args;
  if (desired > current) {
    const { limit: rawLimit, policy } = scaleUpLimit(now, current, args.scaleUpEvents, args.scaleDownEvents, args.scaleUp);
    // no further scale-up until the recent scale-up events age out
    const limit = rawLimit < current ? current : rawLimit;
    const byPolicy = args.maxReplicas > limit;
    const maximum = byPolicy ? limit : args.maxReplicas;
    if (desired > maximum) {
      return byPolicy ? { replicas: maximum, reason: 'ScaleUpLimit', ...(policy ? { policy: { direction: 'scaleUp', policy } } : {}) } : { replicas: maximum, reason: 'TooManyReplicas' };
    }
  } else if (desired < current) {
    const { limit: rawLimit, policy } = scaleDownLimit(now, current, args.scaleUpEvents, args.scaleDownEvents, args.scaleDown);
    const limit = rawLimit > current ? current : rawLimit;
    const byPolicy = args.minReplicas < limit;
    const minimum = byPolicy ? limit : args.minReplicas;
    if (desired < minimum) {
      return byPolicy ? { replicas: minimum, reason: 'ScaleDownLimit', ...(policy ? { policy: { direction: 'scaleDown', policy } } : {}) } : { replicas: minimum, reason: 'TooFewReplicas' };
    }
  }
  return { replicas: desired, reason: 'DesiredWithinRange' };
}

export interface NormalizeInput {
  now: number;
  current: number;
  desired: number;
  minReplicas: number;
  maxReplicas: number;
  history: History;
}

/** normalizeDesiredReplicasWithBehaviors: stabilization, then the policies' rate limits and min/max. */
export function normalizeWithBehaviors(input: NormalizeInput, up: ResolvedRules, down: ResolvedRules): Normalized {
  const { now, current, desired, history } = input;
  const stabilized = stabilizeRecommendationWithBehaviors({
    now,
    currentReplicas: current,
    desiredReplicas: desired,
    recommendations: history.recommendations ?? [],
    scaleUpWindowSeconds: up.stabilizationWindowSeconds,
    scaleDownWindowSeconds: down.stabilizationWindowSeconds,
  });
  const converted = convertDesiredReplicasWithBehaviorRate({
    now,
    currentReplicas: current,
    desiredReplicas: stabilized.replicas,
    minReplicas: input.minReplicas,
    maxReplicas: input.maxReplicas,
    scaleUpEvents: history.scaleUpEvents ?? [],
    scaleDownEvents: history.scaleDownEvents ?? [],
    scaleUp: up,
    scaleDown: down,
  });
  return {
    replicas: converted.replicas,
    stabilized: stabilized.replicas,
    limit: converted.reason,
    ...(converted.policy ? { policy: converted.policy } : {}),
    stabilization: stabilized.replicas !== desired ? stabilized.reason : 'ReadyForNewScale',
  };
}

/** stabilizeRecommendation (no behavior): the highest recommendation not older than the window (its start included). */
export function stabilizeRecommendation(now: number, recommendations: readonly Recommendation[], downscaleStabilizationWindow: number, prenormalizedDesiredReplicas: number): number {
  let maxRecommendation = prenormalizedDesiredReplicas;
  for (const rec of recommendations) {
    if (!(rec.time < now - downscaleStabilizationWindow) && rec.replicas > maxRecommendation) maxRecommendation = rec.replicas;
  }
  return maxRecommendation;
}

/** How stabilizeRecommendation records: it replaces the last entry older than the window, or appends. */
export function recordRecommendation(recommendations: readonly Recommendation[], recommendation: Recommendation, downscaleStabilizationWindow: number): Recommendation[] {
  let oldIndex = -1;
  recommendations.forEach((rec, i) => {
    if (rec.time < recommendation.time - downscaleStabilizationWindow) oldIndex = i;
  });
  const list = [...recommendations];
  if (oldIndex >= 0) list[oldIndex] = recommendation;
  else list.push(recommendation);
  return list;
}

/** calculateScaleUpLimit: int32(max(scaleUpLimitFactor × current, scaleUpLimitMinimum = 4)). */
export function calculateScaleUpLimit(currentReplicas: number, scaleUpLimitFactor = 2): number {
  return Math.trunc(Math.max(scaleUpLimitFactor * currentReplicas, 4));
}

/** convertDesiredReplicasWithRules (no behavior): minReplicas first, then the scale-up limit or maxReplicas. */
export function convertDesiredReplicasWithRules(currentReplicas: number, desiredReplicas: number, minReplicas: number, maxReplicas: number, scaleUpLimitFactor = 2): { replicas: number; reason: LimitReason } {
  const limit = calculateScaleUpLimit(currentReplicas, scaleUpLimitFactor);
  const byLimit = maxReplicas > limit;
  const maximum = byLimit ? limit : maxReplicas;
  if (desiredReplicas < minReplicas) return { replicas: minReplicas, reason: 'TooFewReplicas' };
  if (desiredReplicas > maximum) return { replicas: maximum, reason: byLimit ? 'ScaleUpLimit' : 'TooManyReplicas' };
  return { replicas: desiredReplicas, reason: 'DesiredWithinRange' };
}

/** normalizeDesiredReplicas: the HPA without `behavior`. */
export function normalizeLegacy(input: NormalizeInput, downscaleStabilizationWindow: number, scaleUpLimitFactor: number): Normalized {
  const stabilized = stabilizeRecommendation(input.now, input.history.recommendations ?? [], downscaleStabilizationWindow, input.desired);
  const converted = convertDesiredReplicasWithRules(input.current, stabilized, input.minReplicas, input.maxReplicas, scaleUpLimitFactor);
  return {
    replicas: converted.replicas,
    stabilized,
    limit: converted.reason,
    stabilization: stabilized !== input.desired ? 'ScaleDownStabilized' : 'ReadyForNewScale',
  };
}
