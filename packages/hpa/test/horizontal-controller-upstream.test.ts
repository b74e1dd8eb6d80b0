/**
 * Upstream's controller-level tests, translated: horizontal_test.go (Kubernetes v1.34.4) cases
 * that run one reconcileAutoscaler, here one decide(). The harness mirrors upstream's testCase:
 * pods (reportedCPURequests of them, else statusReplicas) have two containers requesting half the
 * pod's request each and using half its level each (integer halves, as the fakes compute them);
 * samples are taken now with a one-minute window; pods start at the zero time unless hot/cool;
 * no `behavior` unless scale-up or scale-down rules are given (the legacy path); a 5 min
 * downscale window, 0.1 tolerance, 2 min CPU initialization, 10 s readiness delay; and, unless
 * the test sets `recommendations`, the controller first records the current replica count
 * (recordInitialRecommendation).
 */
import { describe, expect, it } from 'vitest';
import { decide } from '@podscale/hpa/decide.ts';
import { toMilli } from '@podscale/hpa/quantity.ts';
import type { MetricSpec, Observed, PodInfo, ScalingRules, Situation } from '@podscale/hpa/types.ts';

const NOW = 1_000_000_000;
const HOT = NOW;
const COOL = NOW - 180;

interface ControllerCase {
  name: string;
  minReplicas: number;
  maxReplicas: number;
  specReplicas: number;
  statusReplicas: number;
  expectedDesiredReplicas: number;
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
  expectedConditions?: Record<string, string>;
}

function situation(tc: ControllerCase): Situation {
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
    // v1.34.4's cases, on its controller (its feature gate defaults)
    kubernetesVersion: '1.34',
    ...(tc.featureGates ? { featureGates: tc.featureGates } : {}),
  };
}

const cheddar = { type: 'CheddarCheese' } as unknown as MetricSpec;
type Target = { type: 'Value' | 'AverageValue'; value?: string; averageValue?: string };
const objectMetric = (target: Target): MetricSpec => ({ type: 'Object', object: { metric: { name: 'qps' }, target } });
const externalMetric = (target: Target): MetricSpec => ({ type: 'External', external: { metric: { name: 'qps' }, target } });
const ones = (n: number) => Array.from({ length: n }, () => '1.0');
const pct = (pods: number, podsPeriod: number, percent: number, percentPeriod: number, window: number): ScalingRules => {
  const policies: NonNullable<ScalingRules['policies']> = [];
  if (pods !== 0) policies.push({ type: 'Pods', value: pods, periodSeconds: podsPeriod });
  if (percent !== 0) policies.push({ type: 'Percent', value: percent, periodSeconds: percentPeriod });
  return { stabilizationWindowSeconds: window, selectPolicy: 'Max', ...(policies.length ? { policies } : {}) };
};

const cases: ControllerCase[] = [
  { name: 'TestScaleUp', minReplicas: 2, maxReplicas: 6, specReplicas: 3, statusReplicas: 3, expectedDesiredReplicas: 5, CPUTarget: 30, reportedLevels: [300, 500, 700], reportedCPURequests: ones(3) },
  {
    name: 'TestScaleUpUnreadyLessScale',
    minReplicas: 2,
    maxReplicas: 6,
    specReplicas: 3,
    statusReplicas: 3,
    expectedDesiredReplicas: 4,
    CPUTarget: 30,
    reportedLevels: [300, 500, 700],
    reportedCPURequests: ones(3),
    reportedPodReadiness: [false, true, true],
  },
  {
    name: 'TestScaleUpHotCpuLessScale',
    minReplicas: 2,
    maxReplicas: 6,
    specReplicas: 3,
    statusReplicas: 3,
    expectedDesiredReplicas: 4,
    CPUTarget: 30,
    reportedLevels: [300, 500, 700],
    reportedCPURequests: ones(3),
    reportedPodStartTime: [HOT, COOL, COOL],
  },
  {
    name: 'TestScaleDown',
    minReplicas: 2,
    maxReplicas: 6,
    specReplicas: 5,
    statusReplicas: 5,
    expectedDesiredReplicas: 3,
    CPUTarget: 50,
    reportedLevels: [100, 300, 500, 250, 250],
    reportedCPURequests: ones(5),
    recommendations: [],
  },
  {
    name: 'TestScaleDownWithScalingRules',
    minReplicas: 2,
    maxReplicas: 6,
    specReplicas: 5,
    statusReplicas: 5,
    expectedDesiredReplicas: 3,
    CPUTarget: 50,
    reportedLevels: [100, 300, 500, 250, 250],
    reportedCPURequests: ones(5),
    scaleUpRules: pct(0, 0, 100, 15, 30),
    recommendations: [],
  },
  {
    name: 'TestScaleDownStabilizeInitialSize: the initial recommendation (current replicas) holds a scale-down',
    minReplicas: 2,
    maxReplicas: 6,
    specReplicas: 5,
    statusReplicas: 5,
    expectedDesiredReplicas: 5,
    CPUTarget: 50,
    reportedLevels: [100, 300, 500, 250, 250],
    reportedCPURequests: ones(5),
    expectedConditions: { AbleToScale: 'ScaleDownStabilized' },
  },
  {
    name: 'TestMinReplicas',
    minReplicas: 2,
    maxReplicas: 5,
    specReplicas: 3,
    statusReplicas: 3,
    expectedDesiredReplicas: 2,
    CPUTarget: 90,
    reportedLevels: [10, 95, 10],
    reportedCPURequests: ['0.9', '1.0', '1.1'],
    recommendations: [],
    expectedConditions: { ScalingLimited: 'TooFewReplicas' },
  },
  {
    name: 'TestZeroMinReplicasDesiredZero',
    minReplicas: 0,
    maxReplicas: 5,
    specReplicas: 3,
    statusReplicas: 3,
    expectedDesiredReplicas: 0,
    CPUTarget: 90,
    reportedLevels: [0, 0, 0],
    reportedCPURequests: ['0.9', '1.0', '1.1'],
    recommendations: [],
    expectedConditions: { ScalingLimited: 'DesiredWithinRange' },
  },
  {
    name: 'TestMinReplicasDesiredZero',
    minReplicas: 2,
    maxReplicas: 5,
    specReplicas: 3,
    statusReplicas: 3,
    expectedDesiredReplicas: 2,
    CPUTarget: 90,
    reportedLevels: [0, 0, 0],
    reportedCPURequests: ['0.9', '1.0', '1.1'],
    recommendations: [],
    expectedConditions: { ScalingLimited: 'TooFewReplicas' },
  },
  {
    name: 'TestZeroReplicas',
    minReplicas: 3,
    maxReplicas: 5,
    specReplicas: 0,
    statusReplicas: 0,
    expectedDesiredReplicas: 0,
    CPUTarget: 90,
    reportedLevels: [],
    reportedCPURequests: [],
    expectedConditions: { ScalingActive: 'ScalingDisabled' },
  },
  { name: 'TestTooFewReplicas', minReplicas: 3, maxReplicas: 5, specReplicas: 2, statusReplicas: 2, expectedDesiredReplicas: 3, CPUTarget: 90, reportedLevels: [], reportedCPURequests: [] },
  { name: 'TestTooManyReplicas', minReplicas: 3, maxReplicas: 5, specReplicas: 10, statusReplicas: 10, expectedDesiredReplicas: 5, CPUTarget: 90, reportedLevels: [], reportedCPURequests: [] },
  {
    name: 'TestMaxReplicas',
    minReplicas: 2,
    maxReplicas: 5,
    specReplicas: 3,
    statusReplicas: 3,
    expectedDesiredReplicas: 5,
    CPUTarget: 90,
    reportedLevels: [8000, 9500, 1000],
    reportedCPURequests: ['0.9', '1.0', '1.1'],
    expectedConditions: { ScalingLimited: 'TooManyReplicas' },
  },
  {
    name: 'TestSuperfluousMetrics',
    minReplicas: 2,
    maxReplicas: 6,
    specReplicas: 4,
    statusReplicas: 4,
    expectedDesiredReplicas: 6,
    CPUTarget: 100,
    reportedLevels: [4000, 9500, 3000, 7000, 3200, 2000],
    reportedCPURequests: ones(4),
    expectedConditions: { ScalingLimited: 'TooManyReplicas' },
  },
  { name: 'TestMissingMetrics', minReplicas: 2, maxReplicas: 6, specReplicas: 4, statusReplicas: 4, expectedDesiredReplicas: 3, CPUTarget: 100, reportedLevels: [400, 95], reportedCPURequests: ones(4), recommendations: [] },
  {
    name: 'TestEmptyMetrics',
    minReplicas: 2,
    maxReplicas: 6,
    specReplicas: 4,
    statusReplicas: 4,
    expectedDesiredReplicas: 4,
    CPUTarget: 100,
    reportedLevels: [],
    reportedCPURequests: ones(4),
    expectedConditions: { ScalingActive: 'FailedGetResourceMetric' },
  },
  {
    name: 'TestTolerance',
    minReplicas: 1,
    maxReplicas: 5,
    specReplicas: 3,
    statusReplicas: 3,
    expectedDesiredReplicas: 3,
    CPUTarget: 100,
    reportedLevels: [1010, 1030, 1020],
    reportedCPURequests: ['0.9', '1.0', '1.1'],
    expectedConditions: { AbleToScale: 'ReadyForNewScale' },
  },
  {
    name: 'TestConfigurableTolerance "Scaling up because of a 1% configurable tolerance"',
    featureGates: { HPAConfigurableTolerance: true },
    minReplicas: 1,
    maxReplicas: 5,
    specReplicas: 3,
    statusReplicas: 3,
    scaleUpRules: { tolerance: '0.01' },
    expectedDesiredReplicas: 4,
    CPUTarget: 100,
    reportedLevels: [1010, 1030, 1020],
    reportedCPURequests: ['0.9', '1.0', '1.1'],
  },
  {
    name: 'TestConfigurableTolerance "No scale-down because of a 90% configurable tolerance"',
    featureGates: { HPAConfigurableTolerance: true },
    minReplicas: 1,
    maxReplicas: 5,
    specReplicas: 3,
    statusReplicas: 3,
    scaleDownRules: { tolerance: '0.9' },
    expectedDesiredReplicas: 3,
    CPUTarget: 100,
    reportedLevels: [300, 300, 300],
    reportedCPURequests: ones(3),
    expectedConditions: { AbleToScale: 'ReadyForNewScale' },
  },
  {
    name: 'TestConfigurableTolerance "No scaling because of the large default tolerance"',
    featureGates: { HPAConfigurableTolerance: true },
    minReplicas: 1,
    maxReplicas: 5,
    specReplicas: 3,
    statusReplicas: 3,
    expectedDesiredReplicas: 3,
    CPUTarget: 100,
    reportedLevels: [1010, 1030, 1020],
    reportedCPURequests: ['0.9', '1.0', '1.1'],
  },
  {
    name: 'TestConfigurableTolerance "No scaling because the configurable tolerance is ignored as the feature gate is disabled"',
    featureGates: { HPAConfigurableTolerance: false },
    minReplicas: 1,
    maxReplicas: 5,
    specReplicas: 3,
    statusReplicas: 3,
    scaleUpRules: { tolerance: '0.01' },
    expectedDesiredReplicas: 3,
    CPUTarget: 100,
    reportedLevels: [1010, 1030, 1020],
    reportedCPURequests: ['0.9', '1.0', '1.1'],
  },
  {
    name: 'TestUpscaleCap',
    minReplicas: 1,
    maxReplicas: 100,
    specReplicas: 3,
    statusReplicas: 3,
    scaleUpRules: pct(0, 0, 700, 60, 0),
    expectedDesiredReplicas: 24,
    CPUTarget: 10,
    reportedLevels: [100, 200, 300],
    reportedCPURequests: ['0.1', '0.1', '0.1'],
    expectedConditions: { ScalingLimited: 'ScaleUpLimit' },
  },
  {
    name: 'TestUpscaleCapGreaterThanMaxReplicas',
    minReplicas: 1,
    maxReplicas: 20,
    specReplicas: 3,
    statusReplicas: 3,
    scaleUpRules: pct(0, 0, 700, 60, 0),
    expectedDesiredReplicas: 20,
    CPUTarget: 10,
    reportedLevels: [100, 200, 300],
    reportedCPURequests: ['0.1', '0.1', '0.1'],
    expectedConditions: { ScalingLimited: 'TooManyReplicas' },
  },
  {
    name: 'TestMoreReplicasThanSpecNoScale (25 % surge during a Deployment update)',
    minReplicas: 1,
    maxReplicas: 8,
    specReplicas: 4,
    statusReplicas: 5,
    expectedDesiredReplicas: 4,
    CPUTarget: 50,
    reportedLevels: [500, 500, 500, 500, 500],
    reportedCPURequests: ones(5),
    expectedConditions: { AbleToScale: 'ReadyForNewScale' },
  },
  {
    name: 'TestStabilizeDownscale',
    minReplicas: 1,
    maxReplicas: 5,
    specReplicas: 4,
    statusReplicas: 4,
    expectedDesiredReplicas: 4,
    CPUTarget: 100,
    reportedLevels: [50, 50, 50],
    reportedCPURequests: ['0.1', '0.1', '0.1'],
    recommendations: [
      { replicas: 10, time: NOW - 600 },
      { replicas: 4, time: NOW - 60 },
    ],
    expectedConditions: { AbleToScale: 'ScaleDownStabilized' },
  },
  {
    name: 'TestScaleUpOneMetricInvalid',
    minReplicas: 2,
    maxReplicas: 6,
    specReplicas: 3,
    statusReplicas: 3,
    expectedDesiredReplicas: 4,
    CPUTarget: 30,
    metricsTarget: [cheddar],
    reportedLevels: [300, 400, 500],
    reportedCPURequests: ones(3),
  },
  {
    name: 'TestScaleUpFromZeroOneMetricInvalid',
    minReplicas: 0,
    maxReplicas: 6,
    specReplicas: 0,
    statusReplicas: 0,
    expectedDesiredReplicas: 4,
    CPUTarget: 30,
    metricsTarget: [cheddar],
    reportedLevels: [300, 400, 500],
    reportedCPURequests: ones(3),
    recommendations: [],
  },
  {
    name: 'TestScaleUpBothMetricsEmpty',
    minReplicas: 2,
    maxReplicas: 6,
    specReplicas: 3,
    statusReplicas: 3,
    expectedDesiredReplicas: 3,
    metricsTarget: [cheddar],
    reportedLevels: [],
    reportedCPURequests: ones(3),
    expectedConditions: { ScalingActive: 'InvalidMetricSourceType' },
  },
  {
    name: 'TestScaleUpOneMetricEmpty (the external metrics API fails)',
    minReplicas: 2,
    maxReplicas: 6,
    specReplicas: 3,
    statusReplicas: 3,
    expectedDesiredReplicas: 4,
    CPUTarget: 30,
    metricsTarget: [externalMetric({ type: 'Value', value: '100m' })],
    reportedLevels: [300, 400, 500],
    reportedCPURequests: ones(3),
  },
  {
    name: 'TestNoScaleDownOneMetricInvalid',
    minReplicas: 2,
    maxReplicas: 6,
    specReplicas: 5,
    statusReplicas: 5,
    expectedDesiredReplicas: 5,
    CPUTarget: 50,
    metricsTarget: [cheddar],
    reportedLevels: [100, 300, 500, 250, 250],
    reportedCPURequests: ones(5),
    recommendations: [],
    expectedConditions: { ScalingActive: 'InvalidMetricSourceType' },
  },
  {
    name: 'TestNoScaleDownOneMetricEmpty (the external metrics API fails)',
    minReplicas: 2,
    maxReplicas: 6,
    specReplicas: 5,
    statusReplicas: 5,
    expectedDesiredReplicas: 5,
    CPUTarget: 50,
    metricsTarget: [externalMetric({ type: 'Value', value: '1' })],
    reportedLevels: [100, 300, 500, 250, 250],
    reportedCPURequests: ones(5),
    recommendations: [],
    expectedConditions: { ScalingActive: 'FailedGetExternalMetric' },
  },
  {
    name: 'TestScaleUpFromZeroCMObject',
    minReplicas: 0,
    maxReplicas: 6,
    specReplicas: 0,
    statusReplicas: 0,
    expectedDesiredReplicas: 2,
    metricsTarget: [objectMetric({ type: 'Value', value: '15.0' })],
    observed: { object: { qps: '20000m' } },
  },
  {
    name: 'TestScaleUpFromZeroIgnoresToleranceCMObject',
    minReplicas: 0,
    maxReplicas: 6,
    specReplicas: 0,
    statusReplicas: 0,
    expectedDesiredReplicas: 1,
    metricsTarget: [objectMetric({ type: 'Value', value: '1.0' })],
    observed: { object: { qps: '1000m' } },
  },
  {
    name: 'TestScaleDownToZeroCMObject',
    minReplicas: 0,
    maxReplicas: 6,
    specReplicas: 5,
    statusReplicas: 5,
    expectedDesiredReplicas: 0,
    metricsTarget: [objectMetric({ type: 'Value', value: '20.0' })],
    observed: { object: { qps: '0' } },
    reportedCPURequests: ones(5),
    recommendations: [],
  },
  {
    name: 'TestScaleDownToZeroCMExternal',
    minReplicas: 0,
    maxReplicas: 6,
    specReplicas: 5,
    statusReplicas: 5,
    expectedDesiredReplicas: 0,
    metricsTarget: [externalMetric({ type: 'Value', value: '14400m' })],
    observed: { external: { qps: ['0'] } },
    recommendations: [],
  },
  {
    name: 'TestScaleUpCMExternal',
    minReplicas: 2,
    maxReplicas: 6,
    specReplicas: 3,
    statusReplicas: 3,
    expectedDesiredReplicas: 4,
    metricsTarget: [externalMetric({ type: 'Value', value: '6666m' })],
    observed: { external: { qps: ['8600m'] } },
  },
  {
    name: 'TestScaleUpPerPodCMExternal',
    minReplicas: 2,
    maxReplicas: 6,
    specReplicas: 3,
    statusReplicas: 3,
    expectedDesiredReplicas: 4,
    metricsTarget: [externalMetric({ type: 'AverageValue', averageValue: '2222m' })],
    observed: { external: { qps: ['8600m'] } },
  },
  {
    name: 'TestScaleDownPerPodCMObject',
    minReplicas: 2,
    maxReplicas: 6,
    specReplicas: 5,
    statusReplicas: 5,
    expectedDesiredReplicas: 3,
    metricsTarget: [objectMetric({ type: 'AverageValue', averageValue: '20.0' })],
    observed: { object: { qps: '60000m' } },
    reportedCPURequests: ones(5),
    recommendations: [],
  },
];

describe('horizontal_test.go controller cases (v1.34.4), one decide() per reconcileAutoscaler', () => {
  it.each(cases.map((tc) => [tc.name, tc] as const))('%s', (_name, tc) => {
    const decision = decide(situation(tc));
    expect(decision.desiredReplicas).toBe(tc.expectedDesiredReplicas);
    for (const [type, reason] of Object.entries(tc.expectedConditions ?? {})) {
      expect(decision.conditions?.find((condition) => condition.type === type)?.reason).toBe(reason);
    }
  });
});
