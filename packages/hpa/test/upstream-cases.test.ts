/**
 * The HPA port against cases transcribed from upstream Kubernetes
 * (pkg/controller/podautoscaler/replica_calculator_test.go and horizontal_test.go) and the HPA
 * documentation. Upstream tests use a 2 min CPU initialization period and a 10 s readiness delay,
 * pods started an hour before `now`, and a 0.1 tolerance; the helpers below reproduce that.
 */
import { describe, expect, it } from 'vitest';
import { decide } from '@podscale/hpa/decide.ts';
import type { History, MetricSpec, PodInfo, Situation } from '@podscale/hpa/types.ts';

const NOW = 10_000;
const HOUR_AGO = NOW - 3600;

const cpu = (averageUtilization: number): MetricSpec => ({ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization } } });
const podsMetric = (averageValue: string): MetricSpec => ({ type: 'Pods', pods: { metric: { name: 'qps' }, target: { type: 'AverageValue', averageValue } } });

function pods(count: number, overrides: Partial<PodInfo>[] = [], request = '1'): PodInfo[] {
  return Array.from({ length: count }, (_, i) => ({ name: `p${i}`, startTimeS: HOUR_AGO, readySinceS: HOUR_AGO, requests: { cpu: request }, ...overrides[i] }));
}

function milliMap(values: number[]): Record<string, string> {
  return Object.fromEntries(values.map((value, i) => [`p${i}`, `${value}m`]));
}

/** A replica-calculator case: no behavior limits in the way (min 1, max 1000, policies wide open). */
function calc(situation: Omit<Situation, 'now' | 'spec'> & { metric: MetricSpec }): Situation {
  const { metric, ...rest } = situation;
  return {
    spec: { minReplicas: 1, maxReplicas: 1000, metrics: [metric], behavior: { scaleUp: { policies: [{ type: 'Pods', value: 1000, periodSeconds: 15 }] }, scaleDown: { stabilizationWindowSeconds: 0 } } },
    now: NOW,
    cpuInitializationPeriod: 120,
    delayOfInitialReadinessStatus: 10,
    ...rest,
  };
}

interface Case {
  source: string;
  situation: Situation;
  desired: number;
  current?: string | null;
}

const replicaCalculatorCases: Case[] = [
  {
    source: 'replica_calculator_test.go TestReplicaCalcScaleUp',
    situation: calc({ currentReplicas: 3, pods: pods(3), metric: cpu(30), metrics: { resource: { cpu: milliMap([300, 500, 700]) } } }),
    desired: 5,
    current: '50',
  },
  {
    source: 'replica_calculator_test.go TestReplicaCalcScaleUpUnreadyLessScale',
    situation: calc({ currentReplicas: 3, pods: pods(3, [{ ready: false }]), metric: cpu(30), metrics: { resource: { cpu: milliMap([300, 500, 700]) } } }),
    desired: 4,
    current: '60',
  },
  {
    source: 'replica_calculator_test.go TestReplicaCalcScaleUpCM',
    situation: calc({ currentReplicas: 3, pods: pods(3), metric: podsMetric('15'), metrics: { pods: { qps: milliMap([20000, 10000, 30000]) } } }),
    desired: 4,
    current: '20',
  },
  {
    source: 'replica_calculator_test.go TestReplicaCalcScaleDown',
    situation: calc({ currentReplicas: 5, pods: pods(5), metric: cpu(50), metrics: { resource: { cpu: milliMap([100, 300, 500, 250, 250]) } } }),
    desired: 3,
    current: '28',
  },
  {
    source: 'replica_calculator_test.go TestReplicaCalcScaleDownCM',
    situation: calc({ currentReplicas: 5, pods: pods(5), metric: podsMetric('20'), metrics: { pods: { qps: milliMap([12000, 12000, 12000, 12000, 12000]) } } }),
    desired: 3,
    current: '12',
  },
  {
    source: 'replica_calculator_test.go TestReplicaCalcScaleDownIgnoresUnreadyPods',
    situation: calc({ currentReplicas: 5, pods: pods(5, [{}, {}, {}, { ready: false }, { ready: false }]), metric: cpu(50), metrics: { resource: { cpu: milliMap([100, 300, 500, 250, 250]) } } }),
    desired: 2,
    current: '30',
  },
  {
    source: 'replica_calculator_test.go TestReplicaCalcScaleUpIgnoresFailedPods',
    situation: calc({ currentReplicas: 2, pods: pods(4, [{}, {}, { phase: 'Failed', ready: false }, { phase: 'Failed', ready: false }]), metric: cpu(30), metrics: { resource: { cpu: milliMap([500, 700]) } } }),
    desired: 4,
    current: '60',
  },
  {
    source: 'replica_calculator_test.go TestReplicaCalcScaleUpIgnoresDeletionPods',
    situation: calc({ currentReplicas: 2, pods: pods(4, [{}, {}, { deleting: true }, { deleting: true }]), metric: cpu(30), metrics: { resource: { cpu: milliMap([500, 700]) } } }),
    desired: 4,
    current: '60',
  },
  {
    source: 'replica_calculator_test.go TestReplicaCalcTolerance',
    situation: calc({ currentReplicas: 3, pods: [...pods(1, [], '0.9'), ...pods(2).slice(1, 2), { ...pods(3, [], '1.1')[2]! }], metric: cpu(100), metrics: { resource: { cpu: milliMap([1010, 1030, 1020]) } } }),
    desired: 3,
    current: '102',
  },
  {
    source: 'replica_calculator_test.go TestReplicaCalcToleranceCM',
    situation: calc({ currentReplicas: 3, pods: pods(3), metric: podsMetric('20'), metrics: { pods: { qps: milliMap([20000, 21000, 21000]) } } }),
    desired: 3,
    current: '20666m',
  },
  {
    source: 'replica_calculator_test.go TestReplicaCalcSuperfluousMetrics',
    situation: calc({ currentReplicas: 4, pods: pods(4), metric: cpu(100), metrics: { resource: { cpu: milliMap([4000, 9500, 3000, 7000, 3200, 2000]) } } }),
    desired: 24,
    current: '587',
  },
  {
    source: 'replica_calculator_test.go TestReplicaCalcMissingMetrics',
    situation: calc({ currentReplicas: 4, pods: pods(4), metric: cpu(100), metrics: { resource: { cpu: milliMap([400, 95]) } } }),
    desired: 3,
    current: '24',
  },
  {
    source: 'replica_calculator_test.go TestReplicaCalcScaleUpCMExternal (object-less external, Value target)',
    situation: calc({
      currentReplicas: 1,
      pods: pods(1),
      metric: { type: 'External', external: { metric: { name: 'qps' }, target: { type: 'Value', value: '4400m' } } },
      metrics: { external: { qps: ['8600m'] } },
    }),
    desired: 2,
    current: '8600m',
  },
  {
    source: 'replica_calculator_test.go TestReplicaCalcScaleUpPerPodCMExternal',
    situation: calc({
      currentReplicas: 3,
      pods: pods(3),
      metric: { type: 'External', external: { metric: { name: 'qps' }, target: { type: 'AverageValue', averageValue: '2150m' } } },
      metrics: { external: { qps: '8600m' } },
    }),
    desired: 4,
    current: '2867m',
  },
  {
    source: 'replica_calculator_test.go TestReplicaCalcScaleDownPerPodCMExternal',
    situation: calc({
      currentReplicas: 5,
      pods: pods(5),
      metric: { type: 'External', external: { metric: { name: 'qps' }, target: { type: 'AverageValue', averageValue: '3000m' } } },
      metrics: { external: { qps: '8600m' } },
    }),
    desired: 3,
    current: '1720m',
  },
  {
    source: 'replica_calculator_test.go TestReplicaCalcToleranceCMExternal',
    situation: calc({
      currentReplicas: 3,
      pods: pods(3),
      metric: { type: 'External', external: { metric: { name: 'qps' }, target: { type: 'Value', value: '8888m' } } },
      metrics: { external: { qps: ['8600m'] } },
    }),
    desired: 3,
  },
  {
    source: 'replica_calculator_test.go TestReplicaCalcTolerancePerPodCMExternal',
    situation: calc({
      currentReplicas: 3,
      pods: pods(3),
      metric: { type: 'External', external: { metric: { name: 'qps' }, target: { type: 'AverageValue', averageValue: '2900m' } } },
      metrics: { external: { qps: '8600m' } },
    }),
    desired: 3,
  },
  {
    source: 'replica_calculator_test.go TestReplicaCalcScaleUpCMObject (Value target on an object metric)',
    situation: calc({
      currentReplicas: 3,
      pods: pods(3),
      metric: { type: 'Object', object: { metric: { name: 'qps' }, target: { type: 'Value', value: '10' } } },
      metrics: { object: { qps: '13333m' } },
    }),
    desired: 4,
  },
  {
    source: 'replica_calculator_test.go TestReplicaCalcEmptyMetrics: no samples at all is an error, so no scaling',
    situation: calc({ currentReplicas: 4, pods: pods(4), metric: cpu(100), metrics: { resource: { cpu: {} } } }),
    desired: 4,
    current: null,
  },
  {
    source: 'replica_calculator_test.go TestReplicaCalcScaleUpUnreadyNoScale: all ready pods at target, unready pod set aside',
    situation: calc({ currentReplicas: 3, pods: pods(3, [{}, { ready: false }, { ready: false }]), metric: cpu(40), metrics: { resource: { cpu: milliMap([400, 500, 700]) } } }),
    desired: 3,
    current: '40',
  },
  {
    source: 'replica_calculator_test.go TestReplicaCalcScaleUpHotCpuLessScale: a pod in its CPU initialization period whose sample predates a full window is set aside',
    situation: calc({
      currentReplicas: 3,
      pods: pods(3, [{ startTimeS: NOW - 30, readySinceS: NOW - 10 }]),
      metric: cpu(30),
      metrics: { resource: { cpu: { p0: { value: '300m', timestamp: NOW, window: 30 }, p1: '500m', p2: '700m' } } },
    }),
    desired: 4,
    current: '60',
  },
];

/** horizontal_test.go normalization cases: a recommendation pushed through behavior policies. */
function behaviorCase(args: {
  current: number;
  recommendation: number;
  min?: number;
  max?: number;
  behavior: Situation['spec']['behavior'];
  history?: History;
}): Situation {
  // A Pods metric whose average makes the calculator recommend exactly `recommendation`.
  const perPod = (args.recommendation * 1000) / args.current;
  return {
    spec: { minReplicas: args.min ?? 1, maxReplicas: args.max ?? 1000, metrics: [podsMetric('1')], behavior: args.behavior },
    currentReplicas: args.current,
    now: NOW,
    pods: pods(args.current),
    metrics: { pods: { qps: Object.fromEntries(Array.from({ length: args.current }, (_, i) => [`p${i}`, `${perPod}m`])) } },
    ...(args.history ? { history: args.history } : {}),
  };
}

const pol = (type: 'Pods' | 'Percent', value: number, periodSeconds: number) => ({ type, value, periodSeconds });

const behaviorCases: Case[] = [
  {
    source: 'horizontal_test.go TestScalingWithRules "scaleUp with default behavior" (4 pods or 100 % per 15 s)',
    situation: behaviorCase({ current: 10, recommendation: 50, behavior: {} }),
    desired: 20,
  },
  {
    source: 'horizontal_test.go TestScalingWithRules "scaleUp with pods policy larger than percent policy"',
    situation: behaviorCase({ current: 10, recommendation: 500, behavior: { scaleUp: { policies: [pol('Pods', 100, 60), pol('Percent', 100, 60)] } } }),
    desired: 110,
  },
  {
    source: 'horizontal_test.go TestScalingWithRules "scaleUp with percent policy larger than pods policy"',
    situation: behaviorCase({ current: 10, recommendation: 500, behavior: { scaleUp: { policies: [pol('Pods', 2, 60), pol('Percent', 100, 60)] } } }),
    desired: 20,
  },
  {
    source: 'horizontal_test.go TestScalingWithRules "scaleUp with spec MaxReplicas limitation with large pod policy"',
    situation: behaviorCase({ current: 10, recommendation: 50, max: 30, behavior: { scaleUp: { policies: [pol('Pods', 100, 60)] } } }),
    desired: 30,
  },
  {
    source: 'horizontal_test.go TestScalingWithRules "scaleUp with Min policy" (selectPolicy Min picks the smaller limit)',
    situation: behaviorCase({ current: 10, recommendation: 500, behavior: { scaleUp: { selectPolicy: 'Min', policies: [pol('Pods', 4, 60), pol('Percent', 100, 60)] } } }),
    desired: 14,
  },
  {
    source: 'horizontal_test.go TestScalingWithRules "scaleUp with pods policy and previous scale up events"',
    situation: behaviorCase({ current: 10, recommendation: 500, behavior: { scaleUp: { policies: [pol('Pods', 4, 60)] } }, history: { scaleUpEvents: [{ time: NOW - 30, change: 6 }] } }),
    desired: 10,
  },
  {
    source: 'horizontal_test.go TestScalingWithRules "scaleUp with Disabled policy"',
    situation: behaviorCase({ current: 10, recommendation: 500, behavior: { scaleUp: { selectPolicy: 'Disabled' } } }),
    desired: 10,
  },
  {
    source: 'horizontal_test.go TestScalingWithRules "scaleDown with default behavior" (100 % per 15 s, no stabilization history)',
    situation: behaviorCase({ current: 10, recommendation: 5, behavior: {} }),
    desired: 5,
  },
  {
    source: 'horizontal_test.go TestScalingWithRules "scaleDown with pod policy"',
    situation: behaviorCase({ current: 10, recommendation: 2, behavior: { scaleDown: { policies: [pol('Pods', 2, 60)] } } }),
    desired: 8,
  },
  {
    source: 'horizontal_test.go TestScalingWithRules "scaleDown with percent policy"',
    situation: behaviorCase({ current: 10, recommendation: 2, behavior: { scaleDown: { policies: [pol('Percent', 50, 60)] } } }),
    desired: 5,
  },
  {
    source: 'horizontal_test.go TestScalingWithRules "scaleDown with spec MinReplicas limitation"',
    situation: behaviorCase({ current: 10, recommendation: 2, min: 6, behavior: { scaleDown: { policies: [pol('Percent', 100, 60)] } } }),
    desired: 6,
  },
  {
    source: 'horizontal_test.go TestScalingWithRules "scaleDown with previous scale down events"',
    situation: behaviorCase({ current: 8, recommendation: 2, behavior: { scaleDown: { policies: [pol('Pods', 2, 60)] } }, history: { scaleDownEvents: [{ time: NOW - 30, change: 2 }] } }),
    desired: 8,
  },
  {
    source: 'horizontal_test.go TestNormalizeDesiredReplicasWithBehavior "scaleDown stabilization": the highest recommendation in the window wins',
    situation: behaviorCase({ current: 5, recommendation: 2, behavior: { scaleDown: { stabilizationWindowSeconds: 300 } }, history: { recommendations: [{ time: NOW - 100, replicas: 5 }, { time: NOW - 400, replicas: 9 }] } }),
    desired: 5,
  },
  {
    source: 'horizontal_test.go TestNormalizeDesiredReplicasWithBehavior "scaleUp stabilization": the lowest recommendation in the window wins',
    situation: behaviorCase({ current: 3, recommendation: 10, behavior: { scaleUp: { stabilizationWindowSeconds: 300 } }, history: { recommendations: [{ time: NOW - 10, replicas: 4 }] } }),
    desired: 4,
  },
  {
    source: 'horizontal_test.go TestScaleUp (no behavior: legacy scale-up limit max(2×current, 4))',
    situation: { ...behaviorCase({ current: 3, recommendation: 12, behavior: null }) },
    desired: 6,
  },
  {
    source: 'horizontal_test.go TestScaleDownStabilizeInitialSize (no behavior: 300 s downscale window)',
    situation: behaviorCase({ current: 5, recommendation: 2, behavior: null, history: { recommendations: [{ time: NOW - 60, replicas: 5 }] } }),
    desired: 5,
  },
  {
    source: 'horizontal_test.go TestMinReplicas / reconcile: current below minReplicas is raised without metrics',
    situation: { ...behaviorCase({ current: 1, recommendation: 1, min: 2, behavior: {} }) },
    desired: 2,
  },
  {
    source: 'horizontal_test.go TestMaxReplicas / reconcile: current above maxReplicas is lowered without metrics',
    situation: { ...behaviorCase({ current: 12, recommendation: 12, max: 10, behavior: {} }) },
    desired: 10,
  },
  {
    source: 'horizontal_test.go TestZeroReplicas: a target scaled to 0 disables autoscaling',
    situation: { spec: { minReplicas: 1, maxReplicas: 5, metrics: [cpu(50)] }, currentReplicas: 0, now: NOW },
    desired: 0,
  },
];

const docCases: Case[] = [
  {
    source: 'HPA docs, algorithm details: current 200m vs target 100m doubles the replicas',
    situation: calc({ currentReplicas: 2, pods: pods(2), metric: podsMetric('100m'), metrics: { pods: { qps: { p0: '200m', p1: '200m' } } } }),
    desired: 4,
  },
  {
    source: 'HPA docs, algorithm details: current 50m vs target 100m halves the replicas',
    situation: calc({ currentReplicas: 4, pods: pods(4), metric: podsMetric('100m'), metrics: { pods: { qps: milliMap([50, 50, 50, 50]) } } }),
    desired: 2,
  },
  {
    source: 'HPA docs / blog "HPA configurable tolerance" (1.33): 100 pods at 88 % vs 80 % stay with the default 0.1 tolerance',
    situation: calc({ currentReplicas: 100, pods: pods(100, [], '100m'), metric: cpu(80), metrics: { resource: { cpu: Object.fromEntries(Array.from({ length: 100 }, (_, i) => [`p${i}`, '88m'])) } } }),
    desired: 100,
  },
  {
    source:
      'blog "HPA configurable tolerance" (1.33): with scaleUp tolerance 0.05 and the HPAConfigurableTolerance gate on, the same 10 % excess scales (float64 like upstream: ceil(1.1 × 100) = 111)',
    situation: (() => {
      const base = calc({ currentReplicas: 100, pods: pods(100, [], '100m'), metric: cpu(80), metrics: { resource: { cpu: Object.fromEntries(Array.from({ length: 100 }, (_, i) => [`p${i}`, '88m'])) } } });
      return {
        ...base,
        featureGates: { HPAConfigurableTolerance: true },
        spec: { ...base.spec, behavior: { ...base.spec.behavior, scaleUp: { ...base.spec.behavior!.scaleUp, tolerance: '0.05' } } },
      };
    })(),
    desired: 111,
  },
  {
    source: 'horizontal.go tolerancesForHpa: without the HPAConfigurableTolerance gate (alpha, off by default in 1.34) behavior.scaleUp.tolerance 0.05 is ignored',
    situation: (() => {
      const base = calc({ currentReplicas: 100, pods: pods(100, [], '100m'), metric: cpu(80), metrics: { resource: { cpu: Object.fromEntries(Array.from({ length: 100 }, (_, i) => [`p${i}`, '88m'])) } } });
      return { ...base, spec: { ...base.spec, behavior: { ...base.spec.behavior, scaleUp: { ...base.spec.behavior!.scaleUp, tolerance: '0.05' } } } };
    })(),
    desired: 100,
  },
  {
    source: 'blog "Kubernetes v1.33: HPA configurable tolerance": 50 replicas at 90 % vs 75 % scale to 60',
    situation: calc({ currentReplicas: 50, pods: pods(50, [], '100m'), metric: cpu(75), metrics: { resource: { cpu: Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`p${i}`, '90m'])) } } }),
    desired: 60,
  },
  {
    source: 'HPA docs, multiple metrics: the largest proposal wins',
    situation: {
      ...calc({ currentReplicas: 2, pods: pods(2, [], '100m'), metric: cpu(60), metrics: { resource: { cpu: milliMap([30, 30]) }, pods: { qps: milliMap([300_000, 300_000]) } } }),
      spec: { minReplicas: 1, maxReplicas: 10, metrics: [cpu(60), podsMetric('100')], behavior: {} },
    },
    desired: 6,
  },
  {
    source: 'HPA docs, multiple metrics: a metric that cannot be fetched does not block a scale-up from another',
    situation: {
      ...calc({ currentReplicas: 2, pods: pods(2, [], '100m'), metric: cpu(60), metrics: { pods: { qps: milliMap([300_000, 300_000]) } } }),
      spec: { minReplicas: 1, maxReplicas: 10, metrics: [cpu(60), podsMetric('100')], behavior: {} },
    },
    desired: 6,
  },
  {
    source: 'HPA docs, multiple metrics: ... but does block a scale-down',
    situation: {
      ...calc({ currentReplicas: 4, pods: pods(4, [], '100m'), metric: cpu(60), metrics: { pods: { qps: milliMap([10_000, 10_000, 10_000, 10_000]) } } }),
      spec: { minReplicas: 1, maxReplicas: 10, metrics: [cpu(60), podsMetric('100')], behavior: {} },
    },
    desired: 4,
  },
];

describe('HPA algorithm: cases from upstream', () => {
  it.each([...replicaCalculatorCases, ...behaviorCases, ...docCases].map((c) => [c.source, c] as const))('%s', (_source, c) => {
    const decision = decide(c.situation);
    expect(decision.desiredReplicas).toBe(c.desired);
    if (c.current !== undefined) expect(decision.metrics[0]!.current).toBe(c.current);
    expect(decision.reason.length).toBeGreaterThan(10);
  });

  it('counts the transcribed cases', () => {
    expect(replicaCalculatorCases.length + behaviorCases.length + docCases.length).toBeGreaterThanOrEqual(45);
  });
});
