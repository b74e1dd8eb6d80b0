/**
 * The harness of the translated controller tests (horizontal-controller-*.test.ts): upstream's
 * testCase of horizontal_test.go turned into a Situation, and the check of one decide() against
 * a case's expectations on one minor.
 *
 * It mirrors upstream's fakes: pods (reportedCPURequests of them, else statusReplicas) have two
 * containers requesting half the pod's request each and using half its level each (integer
 * halves, as the fakes compute them); samples are taken now with a one-minute window; pods start
 * at the zero time unless hot/cool; no `behavior` unless scale-up or scale-down rules are given
 * (the legacy path); a 5 min downscale window, 0.1 tolerance, 2 min CPU initialization, 10 s
 * readiness delay; and, unless the test sets `recommendations`, the controller first records the
 * current replica count (recordInitialRecommendation).
 */
import { expect } from 'vitest';
import { decide } from '@podscale/hpa/decide.ts';
import type { KubernetesVersion } from '@podscale/hpa/gates.ts';
import { toMilli } from '@podscale/hpa/quantity.ts';
import type { Decision, MetricSpec, Observed, PodInfo, ScalingRules, Situation } from '@podscale/hpa/types.ts';

export const NOW = 1_000_000_000;
export const HOT = NOW;
export const COOL = NOW - 180;

/**
 * What a sync does to the ScaledToZero condition: leaves it alone, removes it (1.36+, gate off),
 * or sets it True (ScaledToZero) or False (NotScaledToZero) (1.36+, gate on).
 */
export type ScaledToZeroOutcome = 'untouched' | 'removed' | 'ScaledToZero' | 'NotScaledToZero';

export interface Expected {
  expectedDesiredReplicas: number;
  /** condition type → reason, for the types the case names */
  expectedConditions?: Record<string, string>;
  scaledToZeroOutcome?: ScaledToZeroOutcome;
  /** The minor refuses the case's feature gates (kube-controller-manager would not start). */
  expectedError?: RegExp;
}

export interface ControllerCase extends Expected {
  name: string;
  minReplicas: number;
  maxReplicas: number;
  specReplicas: number;
  statusReplicas: number;
  CPUTarget?: number;
  reportedLevels?: number[];
  reportedCPURequests?: string[];
  reportedPodReadiness?: boolean[];
  reportedPodStartTime?: number[];
  reportedPodPhase?: PodInfo['phase'][];
  metricsTarget?: MetricSpec[];
  /** What the custom / external metrics APIs return (upstream's fakes, from reportedLevels). */
  observed?: Observed;
  /** The resource metrics API is down or returns nothing for cpu. */
  noResourceMetrics?: boolean;
  scaleUpRules?: ScalingRules;
  scaleDownRules?: ScalingRules;
  recommendations?: { time: number; replicas: number }[];
  featureGates?: Situation['featureGates'];
  /** initialConditions: [ScaledToZero True] (1.36+ tests). */
  scaledToZero?: boolean;
}

export function situation(tc: ControllerCase, kubernetesVersion: KubernetesVersion): Situation {
  const podCount = tc.reportedCPURequests?.length ?? tc.statusReplicas;
  const pods: PodInfo[] = Array.from({ length: podCount }, (_, i) => {
    const request = toMilli(tc.reportedCPURequests?.[i] ?? '1.0');
    const start = tc.reportedPodStartTime?.[i] ?? 0;
    return {
      name: `test-pod-${i}`,
      phase: tc.reportedPodPhase?.[i] ?? 'Running',
      ready: tc.reportedPodReadiness?.[i] ?? true,
      startTimeS: start,
      readySinceS: start,
      requests: { cpu: `${2 * Math.trunc(request / 2)}m` },
    };
  });
  const metrics: MetricSpec[] = [];
  if (tc.CPUTarget) metrics.push({ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: tc.CPUTarget } } });
  metrics.push(...(tc.metricsTarget ?? []));
  const observed: Observed = { ...tc.observed };
  if (!tc.noResourceMetrics && tc.reportedLevels && tc.CPUTarget) {
    observed.resource = {
      cpu: Object.fromEntries(tc.reportedLevels.map((level, i) => [`test-pod-${i}`, { value: `${2 * Math.trunc(level / 2)}m`, timestamp: NOW, window: 60 }])),
    };
  }
  const behavior = tc.scaleUpRules || tc.scaleDownRules ? { ...(tc.scaleUpRules ? { scaleUp: tc.scaleUpRules } : {}), ...(tc.scaleDownRules ? { scaleDown: tc.scaleDownRules } : {}) } : null;
  return {
    spec: { minReplicas: tc.minReplicas, maxReplicas: tc.maxReplicas, metrics, behavior },
    currentReplicas: tc.specReplicas,
    statusReplicas: tc.statusReplicas,
    now: NOW,
    pods,
    metrics: observed,
    history: { recommendations: tc.recommendations ?? [{ time: NOW, replicas: tc.specReplicas }] },
    tolerance: 0.1,
    cpuInitializationPeriod: 120,
    delayOfInitialReadinessStatus: 10,
    downscaleStabilizationWindow: 300,
    kubernetesVersion,
    ...(tc.featureGates ? { featureGates: tc.featureGates } : {}),
    ...(tc.scaledToZero ? { scaledToZero: true } : {}),
  };
}

function scaledToZeroOutcome(decision: Decision): ScaledToZeroOutcome {
  const condition = decision.conditions?.find((c) => c.type === 'ScaledToZero');
  if (condition) {
    expect(condition.status).toBe(condition.reason === 'ScaledToZero' ? 'True' : 'False');
    return condition.reason as ScaledToZeroOutcome;
  }
  return decision.removedConditions?.includes('ScaledToZero') ? 'removed' : 'untouched';
}

/** One reconcileAutoscaler on one minor, checked against `expected` (by default the case's own). */
export function check(tc: ControllerCase, kubernetesVersion: KubernetesVersion, expected: Expected = tc): void {
  if (expected.expectedError) {
    expect(() => decide(situation(tc, kubernetesVersion))).toThrow(expected.expectedError);
    return;
  }
  const decision = decide(situation(tc, kubernetesVersion));
  expect(decision.desiredReplicas).toBe(expected.expectedDesiredReplicas);
  for (const [type, reason] of Object.entries(expected.expectedConditions ?? {})) {
    expect(decision.conditions?.find((condition) => condition.type === type)?.reason).toBe(reason);
  }
  if (expected.scaledToZeroOutcome) expect(scaledToZeroOutcome(decision)).toBe(expected.scaledToZeroOutcome);
}

export const cheddar = { type: 'CheddarCheese' } as unknown as MetricSpec;
type Target = { type: 'Value' | 'AverageValue'; value?: string; averageValue?: string };
export const objectMetric = (target: Target): MetricSpec => ({ type: 'Object', object: { metric: { name: 'qps' }, target } });
export const externalMetric = (target: Target): MetricSpec => ({ type: 'External', external: { metric: { name: 'qps' }, target } });
export const ones = (n: number) => Array.from({ length: n }, () => '1.0');
export const pct = (pods: number, podsPeriod: number, percent: number, percentPeriod: number, window: number): ScalingRules => {
  const policies: NonNullable<ScalingRules['policies']> = [];
  if (pods !== 0) policies.push({ type: 'Pods', value: pods, periodSeconds: podsPeriod });
  if (percent !== 0) policies.push({ type: 'Percent', value: percent, periodSeconds: percentPeriod });
  return { stabilizationWindowSeconds: window, selectPolicy: 'Max', ...(policies.length ? { policies } : {}) };
};
