/**
 * One test per rule of the port's controller, named after the upstream function it mirrors
 * (pkg/controller/podautoscaler/horizontal.go and the autoscaling/v2 defaults of Kubernetes
 * v1.34.4 to v1.37.2; the 1.36 zero rules are in scale-to-zero-rules.test.ts). Where a minor
 * changed a rule, the test runs each minor; where the port used to get a rule wrong, it says so.
 */
import { describe, expect, it } from 'vitest';
import {
  calculateScaleDownLimitWithBehaviors,
  calculateScaleUpLimitWithScalingRules,
  getReplicasChangePerPeriod,
  scaleDownRules,
  scaleUpRules,
  stabilizeRecommendation,
  stabilizeRecommendationWithBehaviors,
} from '@podscale/hpa/behavior.ts';
import { decide } from '@podscale/hpa/decide.ts';
import { tolerancesForHpa } from '@podscale/hpa/proposals.ts';
import { toApproximateFloat64 } from '@podscale/hpa/quantity.ts';
import type { MetricSpec, Situation } from '@podscale/hpa/types.ts';
import { cpu, external, NOW, pods, qps, samples, sync } from './rules-fixtures.ts';

describe('horizontal.go tolerancesForHpa', () => {
  const spec = { maxReplicas: 10, behavior: { scaleUp: { tolerance: '0.05' }, scaleDown: { tolerance: '0.2' } } };

  it('tolerancesForHpa (1.34): behavior.*.tolerance is ignored unless the HPAConfigurableTolerance gate is on (alpha, default off)', () => {
    expect(tolerancesForHpa({ spec, kubernetesVersion: '1.34' })).toEqual({ scaleUp: 0.1, scaleDown: 0.1 });
    expect(tolerancesForHpa({ spec, tolerance: 0.2, kubernetesVersion: '1.34' })).toEqual({ scaleUp: 0.2, scaleDown: 0.2 });
  });

  it.each(['1.35', '1.36', '1.37', undefined] as const)('tolerancesForHpa (%s): the gate is on by default (beta in 1.35 and 1.36, GA in 1.37, the default minor)', (kubernetesVersion) => {
    expect(tolerancesForHpa({ spec, kubernetesVersion })).toEqual({ scaleUp: 0.05, scaleDown: 0.2 });
  });

  it('tolerancesForHpa: the gate can be turned off until 1.36; 1.37 refuses it (locked), as kube-controller-manager does at startup', () => {
    expect(tolerancesForHpa({ spec, kubernetesVersion: '1.36', featureGates: { HPAConfigurableTolerance: false } })).toEqual({ scaleUp: 0.1, scaleDown: 0.1 });
    expect(() => tolerancesForHpa({ spec, kubernetesVersion: '1.37', featureGates: { HPAConfigurableTolerance: false } })).toThrow(/HPAConfigurableTolerance is locked to true in Kubernetes 1\.37/);
  });

  it('tolerancesForHpa: with the gate, each direction has its own tolerance, the controller flag for the other', () => {
    expect(tolerancesForHpa({ spec, kubernetesVersion: '1.34', featureGates: { HPAConfigurableTolerance: true } })).toEqual({ scaleUp: 0.05, scaleDown: 0.2 });
    expect(tolerancesForHpa({ spec: { maxReplicas: 1, behavior: { scaleUp: { tolerance: '0' } } }, kubernetesVersion: '1.34', featureGates: { HPAConfigurableTolerance: true } })).toEqual({ scaleUp: 0, scaleDown: 0.1 });
  });

  it('Quantity.AsApproximateFloat64: the canonical quantity (0.0001 is stored as 100u) as mantissa × math.Pow10(exponent), float rounding included', () => {
    expect(toApproximateFloat64('0.05')).toBe(50 * (1 / 1000));
    expect(toApproximateFloat64('50m')).toBe(toApproximateFloat64('0.05'));
    expect(toApproximateFloat64('0.0001')).toBe(100 * (1 / 1e6)); // 0.00009999999999999999, as Go computes it
    expect(toApproximateFloat64('1e-10')).toBe(1e-9); // finer than a nano-unit rounds up
    expect(toApproximateFloat64('1.5')).toBe(1.5);
  });
});

describe('horizontal.go computeReplicasForMetrics and reconcileAutoscaler', () => {
  const twoMetrics = (cpuValues: (number | undefined)[] | null, qpsValues: number[] | null, current: number) =>
    sync({
      currentReplicas: current,
      pods: pods(current),
      metrics_: [cpu(50), qps('100')],
      metrics: { ...(cpuValues ? { resource: { cpu: samples(cpuValues) } } : {}), ...(qpsValues ? { pods: { qps: samples(qpsValues) } } : {}) },
    });

  it('computeReplicasForMetrics: every metric proposes, the largest proposal wins', () => {
    expect(decide(twoMetrics([500, 500], [300_000, 300_000], 2)).desiredReplicas).toBe(6);
  });

  it('computeReplicasForMetrics: an invalid metric does not block a scale-up by the others', () => {
    const decision = decide(twoMetrics(null, [300_000, 300_000], 2));
    expect(decision.desiredReplicas).toBe(6);
    expect(decision.conditions?.[0]).toEqual({ type: 'ScalingActive', status: 'True', reason: 'ValidMetricFound' });
  });

  it('computeReplicasForMetrics: an invalid metric blocks a scale-down by the others (no scaling, ScalingActive False)', () => {
    const decision = decide(twoMetrics(null, [10_000, 10_000, 10_000, 10_000], 4));
    expect(decision.desiredReplicas).toBe(4);
    expect(decision.recommendation).toBeUndefined();
    expect(decision.conditions).toEqual([{ type: 'ScalingActive', status: 'False', reason: 'FailedGetResourceMetric' }]);
  });

  it('computeReplicasForMetrics: all metrics invalid: no scaling, the first invalid metric sets the condition and the message', () => {
    const decision = decide(twoMetrics(null, null, 3));
    expect(decision.desiredReplicas).toBe(3);
    expect(decision.reason).toMatch(/^no scaling: invalid metrics \(2 invalid out of 2\), first error is: failed to get cpu resource metric value: failed to get cpu utilization: /);
    expect(decision.conditions?.[0]?.reason).toBe('FailedGetResourceMetric');
  });

  it('computeReplicasForMetric: an unknown metric source type is invalid (InvalidMetricSourceType)', () => {
    const decision = decide(sync({ currentReplicas: 2, pods: pods(2), metrics_: [{ type: 'CheddarCheese' } as unknown as MetricSpec] }));
    expect(decision.reason).toContain('unknown metric source type "CheddarCheese"');
    expect(decision.conditions?.[0]?.reason).toBe('InvalidMetricSourceType');
  });

  it('SetDefaults_HorizontalPodAutoscaler: an HPA without metrics scales on cpu at 80 %', () => {
    const decision = decide(sync({ currentReplicas: 2, pods: pods(2), metrics_: [], metrics: { resource: { cpu: samples([1600, 1600]) } } }));
    expect(decision.desiredReplicas).toBe(4);
  });

  it('reconcileAutoscaler: 0 current replicas with minReplicas ≠ 0 disables scaling (ScalingDisabled)', () => {
    expect(decide(sync({ currentReplicas: 0, metrics_: [cpu(50)] }))).toMatchObject({ desiredReplicas: 0, conditions: [{ type: 'ScalingActive', status: 'False', reason: 'ScalingDisabled' }] });
  });

  it('reconcileAutoscaler: current above maxReplicas is set to maxReplicas, below minReplicas to minReplicas, without reading metrics', () => {
    expect(decide(sync({ currentReplicas: 12, max: 10, metrics_: [cpu(50)] }))).toMatchObject({ desiredReplicas: 10, metrics: [] });
    expect(decide(sync({ currentReplicas: 1, min: 2, metrics_: [cpu(50)] }))).toMatchObject({ desiredReplicas: 2, metrics: [] });
  });

  it('reconcileAutoscaler: with minReplicas 0 a target scales to zero on an Object/External metric of 0', () => {
    const situation = sync({ min: 0, currentReplicas: 5, pods: pods(5), metrics_: [external({ type: 'Value', value: '14400m' })], metrics: { external: { lag: ['0'] } } });
    expect(decide(situation).desiredReplicas).toBe(0);
  });

  it('reconcileAutoscaler: a refused feature gate fails the sync with the reason', () => {
    expect(() => decide({ ...sync({ currentReplicas: 2, metrics_: [cpu(50)] }), kubernetesVersion: '1.35', featureGates: { HPAGeneration: true } })).toThrow(/HPAGeneration does not exist in Kubernetes 1\.35 \(it arrives in 1\.37\)/);
  });
});

describe('horizontal.go behavior', () => {
  const scaleTo = (current: number, perPod: number, behavior: Situation['spec']['behavior'], extra: Partial<Situation> = {}, spec: { min?: number; max?: number } = {}) =>
    decide({ ...sync({ currentReplicas: current, pods: pods(current), metrics_: [qps('1')], metrics: { pods: { qps: samples(Array.from({ length: current }, () => perPod)) } }, behavior, ...spec }), ...extra });

  it('normalizeDesiredReplicasWithBehaviors: a policy that limits a scale-up is ScaleUpLimit; maxReplicas is TooManyReplicas', () => {
    expect(scaleTo(10, 5000, {}).conditions?.[2]).toEqual({ type: 'ScalingLimited', status: 'True', reason: 'ScaleUpLimit' });
    expect(scaleTo(10, 5000, {}).desiredReplicas).toBe(20);
    expect(scaleTo(10, 5000, {}, {}, { max: 15 }).conditions?.[2]).toEqual({ type: 'ScalingLimited', status: 'True', reason: 'TooManyReplicas' });
  });

  it('normalizeDesiredReplicasWithBehaviors: a policy that limits a scale-down is ScaleDownLimit; minReplicas is TooFewReplicas', () => {
    const down = { scaleDown: { stabilizationWindowSeconds: 0, policies: [{ type: 'Pods' as const, value: 2, periodSeconds: 60 }] } };
    expect(scaleTo(10, 100, down)).toMatchObject({ desiredReplicas: 8, conditions: expect.arrayContaining([{ type: 'ScalingLimited', status: 'True', reason: 'ScaleDownLimit' }]) });
    expect(scaleTo(10, 100, { scaleDown: { stabilizationWindowSeconds: 0 } }, {}, { min: 3 })).toMatchObject({ desiredReplicas: 3, conditions: expect.arrayContaining([{ type: 'ScalingLimited', status: 'True', reason: 'TooFewReplicas' }]) });
  });

  it('normalizeDesiredReplicasWithBehaviors: in range is DesiredWithinRange (ScalingLimited False)', () => {
    expect(scaleTo(10, 1500, {}).conditions?.[2]).toEqual({ type: 'ScalingLimited', status: 'False', reason: 'DesiredWithinRange' });
  });

  it('maybeInitScaleDownStabilizationWindow: behavior.scaleDown without a window takes the controller flag; GenerateHPAScaleUpRules: scale-up has none', () => {
    const history = { recommendations: [{ time: NOW - 100, replicas: 10 }] };
    expect(scaleTo(10, 500, { scaleDown: {} }, { history }).desiredReplicas).toBe(10);
    expect(scaleTo(10, 500, { scaleDown: {} }, { history, downscaleStabilizationWindow: 60 }).desiredReplicas).toBe(5);
    expect(scaleTo(10, 500, { scaleDown: {} }, { history }).conditions?.[1]).toEqual({ type: 'AbleToScale', status: 'True', reason: 'ScaleDownStabilized' });
  });

  it('stabilizeRecommendationWithBehaviors: a recommendation exactly one window old is outside the window', () => {
    const args = { now: NOW, currentReplicas: 10, desiredReplicas: 5, scaleUpWindowSeconds: 0, scaleDownWindowSeconds: 300 };
    expect(stabilizeRecommendationWithBehaviors({ ...args, recommendations: [{ time: NOW - 300, replicas: 9 }] }).replicas).toBe(5);
    expect(stabilizeRecommendationWithBehaviors({ ...args, recommendations: [{ time: NOW - 299, replicas: 9 }] }).replicas).toBe(9);
  });

  it('stabilizeRecommendation (no behavior): a recommendation exactly one window old still counts', () => {
    expect(stabilizeRecommendation(NOW, [{ time: NOW - 300, replicas: 9 }], 300, 5)).toBe(9);
    expect(stabilizeRecommendation(NOW, [{ time: NOW - 301, replicas: 9 }], 300, 5)).toBe(5);
  });

  it('getReplicasChangePerPeriod: an event exactly one period old no longer counts', () => {
    expect(getReplicasChangePerPeriod(NOW, 60, [{ time: NOW - 60, change: 3 }, { time: NOW - 59, change: 2 }])).toBe(2);
  });

  it('calculateScaleUpLimitWithScalingRules: Percent rounds up; calculateScaleDownLimitWithBehaviors: Percent truncates', () => {
    const rules = (type: 'Pods' | 'Percent', value: number) => ({ stabilizationWindowSeconds: 0, selectPolicy: 'Max' as const, policies: [{ type, value, periodSeconds: 60 }] });
    expect(calculateScaleUpLimitWithScalingRules(NOW, 3, [], [], rules('Percent', 10))).toBe(4); // ceil(3.3)
    expect(calculateScaleDownLimitWithBehaviors(NOW, 3, [], [], rules('Percent', 10))).toBe(2); // trunc(2.7)
  });

  it('calculateScaleUpLimitWithScalingRules: the limit starts from the replicas at the period start (recent events count against it)', () => {
    const up = scaleUpRules({ policies: [{ type: 'Pods', value: 4, periodSeconds: 60 }] });
    expect(calculateScaleUpLimitWithScalingRules(NOW, 10, [{ time: NOW - 30, change: 3 }], [{ time: NOW - 20, change: 1 }], up)).toBe(12);
  });

  it('convertDesiredReplicasWithBehaviorRate: a limit below the current count (recent events) holds the current count', () => {
    const history = { scaleUpEvents: [{ time: NOW - 10, change: 6 }] };
    expect(scaleTo(10, 5000, { scaleUp: { policies: [{ type: 'Pods', value: 4, periodSeconds: 60 }] } }, { history }).desiredReplicas).toBe(10);
  });

  it('calculateScaleUpLimitWithScalingRules / calculateScaleDownLimitWithBehaviors: selectPolicy Disabled stops that direction', () => {
    expect(scaleTo(10, 5000, { scaleUp: { selectPolicy: 'Disabled' } }).desiredReplicas).toBe(10);
    expect(calculateScaleDownLimitWithBehaviors(NOW, 10, [], [], scaleDownRules({ selectPolicy: 'Disabled' }, 300))).toBe(10);
  });

  it('normalizeDesiredReplicas (no behavior): a scale-up is limited to max(2 × current, 4) (ScaleUpLimit)', () => {
    expect(scaleTo(3, 10_000, null)).toMatchObject({ desiredReplicas: 6, conditions: expect.arrayContaining([{ type: 'ScalingLimited', status: 'True', reason: 'ScaleUpLimit' }]) });
    expect(scaleTo(1, 10_000, null).desiredReplicas).toBe(4);
  });

  it('convertDesiredReplicasWithRules (no behavior): minReplicas is checked before the scale-up limit', () => {
    expect(scaleTo(3, 100, null, { history: { recommendations: [] } }, { min: 2 })).toMatchObject({ desiredReplicas: 2, conditions: expect.arrayContaining([{ type: 'ScalingLimited', status: 'True', reason: 'TooFewReplicas' }]) });
  });
});
