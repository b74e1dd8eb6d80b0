/**
 * One test per rule of the port, named after the upstream function it mirrors
 * (pkg/controller/podautoscaler/replica_calculator.go, metrics/*.go, horizontal.go and the
 * autoscaling/v2 defaults of Kubernetes v1.34.4). Where the port used to get a rule wrong, the
 * test says so.
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
import { decide, tolerancesForHpa } from '@podscale/hpa/decide.ts';
import { toApproximateFloat64 } from '@podscale/hpa/quantity.ts';
import {
  calculateRequests,
  calcPlainMetricReplicas,
  getExternalPerPodMetricReplicas,
  getMetricUsageRatio,
  getObjectPerPodMetricReplicas,
  getResourceReplicas,
  groupPods,
  type CalculatorContext,
  type PodMetrics,
} from '@podscale/hpa/replica-calculator.ts';
import type { MetricSpec, PodInfo, Situation } from '@podscale/hpa/types.ts';

const NOW = 100_000;
const LONG_AGO = NOW - 3600;

const cpu = (averageUtilization: number): MetricSpec => ({ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization } } });
const qps = (averageValue: string): MetricSpec => ({ type: 'Pods', pods: { metric: { name: 'qps' }, target: { type: 'AverageValue', averageValue } } });
const external = (target: { type: 'Value' | 'AverageValue'; value?: string; averageValue?: string }): MetricSpec => ({ type: 'External', external: { metric: { name: 'lag' }, target } });

function pods(count: number, overrides: Partial<PodInfo>[] = []): PodInfo[] {
  return Array.from({ length: count }, (_, i) => ({ name: `p${i}`, startTimeS: LONG_AGO, readySinceS: LONG_AGO, requests: { cpu: '1' }, ...overrides[i] }));
}

/** milli-values per pod name; `undefined` leaves the pod without a sample */
function samples(values: (number | undefined)[]): Record<string, string> {
  return Object.fromEntries(values.flatMap((value, i) => (value === undefined ? [] : [[`p${i}`, `${value}m`]])));
}

/** A sync with the policies wide open and no stabilization, so the proposal is what the HPA sets. */
function sync(args: Omit<Situation, 'now' | 'spec'> & { metrics_: MetricSpec[]; min?: number; max?: number; behavior?: Situation['spec']['behavior'] }): Situation {
  const { metrics_, min, max, behavior, ...rest } = args;
  return {
    spec: {
      minReplicas: min ?? 1,
      maxReplicas: max ?? 100,
      metrics: metrics_,
      behavior: behavior === undefined ? { scaleUp: { policies: [{ type: 'Pods', value: 100, periodSeconds: 15 }] }, scaleDown: { stabilizationWindowSeconds: 0 } } : behavior,
    },
    now: NOW,
    ...rest,
  };
}

function ctx(podList: PodInfo[], tolerance = 0.1): CalculatorContext {
  return { pods: podList, now: NOW, tolerances: { scaleUp: tolerance, scaleDown: tolerance }, cpuInitializationPeriod: 300, delayOfInitialReadinessStatus: 30 };
}

const metricsOf = (values: (number | undefined)[]): PodMetrics =>
  new Map(values.flatMap((value, i) => (value === undefined ? [] : [[`p${i}`, { value, timestamp: NOW, window: 60 }] as const])));

describe('replica_calculator.go GetResourceReplicas', () => {
  it('GetResourceReplicas: within tolerance the current replica count stays (102 % of a 100 % target)', () => {
    expect(getResourceReplicas(ctx(pods(3)), 3, 100, 'cpu', metricsOf([1010, 1030, 1020])).replicas).toBe(3);
  });

  it('GetResourceReplicas: without unready or missing pods, ceil(usageRatio × readyPodCount)', () => {
    expect(getResourceReplicas(ctx(pods(3)), 3, 30, 'cpu', metricsOf([300, 500, 700]))).toEqual({ replicas: 5, utilization: 50, rawUtilization: 500 });
  });

  it('GetResourceReplicas: missing pods on scale-down count as 100 % of their request', () => {
    // 3 × 10 % and one pod without a sample: (3 × 100 + 1000) / 4000 = 32 % → ratio 0.64 → ceil(0.64 × 4) = 3 (not ceil(0.2 × 3) = 1)
    expect(getResourceReplicas(ctx(pods(4)), 4, 50, 'cpu', metricsOf([100, 100, 100, undefined])).replicas).toBe(3);
  });

  it('GetResourceReplicas: missing pods on scale-down count as the target utilization when it is above 100 %', () => {
    // target 200 %: the missing pod counts as 2000m: (400 + 2000) / 3000 = 80 % → 0.4 → 2 (with 100 % it would be 1)
    expect(getResourceReplicas(ctx(pods(3)), 3, 200, 'cpu', metricsOf([200, 200, undefined])).replicas).toBe(2);
  });

  it('GetResourceReplicas: missing pods on scale-up count as 0 %', () => {
    // 2 × 150 % vs 50 % (ratio 3), one missing at 0: 3000 / 3000 = 100 % → ratio 2 → ceil(2 × 3) = 6
    expect(getResourceReplicas(ctx(pods(3)), 3, 50, 'cpu', metricsOf([1500, 1500, undefined])).replicas).toBe(6);
  });

  it('GetResourceReplicas: at a usage ratio of exactly 1 missing pods are not filled in, and nothing changes', () => {
    expect(getResourceReplicas(ctx(pods(3), 0), 3, 50, 'cpu', metricsOf([500, 500, undefined])).replicas).toBe(3);
  });

  it('GetResourceReplicas: unready pods count as 0 % on a scale-up', () => {
    // p0 unready (set aside); 500 and 700 → 60 % vs 30 %: with p0 at 0, (0 + 500 + 700) / 3000 = 40 % → ceil(1.33 × 3) = 4
    expect(getResourceReplicas(ctx(pods(3, [{ ready: false, readySinceS: LONG_AGO + 10 }])), 3, 30, 'cpu', metricsOf([300, 500, 700])).replicas).toBe(4);
  });

  it('GetResourceReplicas: unready pods are left out of a scale-down', () => {
    expect(getResourceReplicas(ctx(pods(5, [{}, {}, {}, { ready: false, readySinceS: LONG_AGO + 10 }, { ready: false, readySinceS: LONG_AGO + 10 }])), 5, 50, 'cpu', metricsOf([100, 300, 500, 250, 250])).replicas).toBe(2);
  });

  it('GetResourceReplicas: if filling in the missing pods flips the direction, nothing changes', () => {
    // 2 × 10 % vs 50 % → scale-down; missing pods at 100 %: (200 + 2000) / 4000 = 55 % → ratio 1.1 → would scale up → keep 4
    expect(getResourceReplicas(ctx(pods(4), 0), 4, 50, 'cpu', metricsOf([100, 100, undefined, undefined])).replicas).toBe(4);
  });

  it('GetResourceReplicas: surge pods of a rolling update would flip the direction, so nothing changes', () => {
    // spec.replicas 2, three pods: (100 + 100 + 1000) / 3000 = 40 % → 0.8 → ceil(0.8 × 3) = 3 > 2 while scaling down → keep 2
    expect(getResourceReplicas(ctx(pods(3)), 2, 50, 'cpu', metricsOf([100, 100, undefined])).replicas).toBe(2);
  });

  it('GetResourceReplicas: no pods from the selector is an error', () => {
    expect(() => getResourceReplicas(ctx([]), 1, 50, 'cpu', metricsOf([100]))).toThrow('no pods returned by selector while calculating replica count');
  });

  it('GetResourceReplicas: samples only from unready pods is an error', () => {
    expect(() => getResourceReplicas(ctx(pods(2, [{ phase: 'Pending' }, { phase: 'Pending' }])), 2, 50, 'cpu', metricsOf([100, 100]))).toThrow('did not receive metrics for targeted pods');
  });

  it('GetResourceMetric: an empty list from the resource metrics API is an error, so the metric is invalid and nothing scales', () => {
    expect(() => getResourceReplicas(ctx(pods(2)), 2, 50, 'cpu', new Map())).toThrow('unable to get metrics for resource cpu: no metrics returned from resource metrics API');
    const decision = decide(sync({ currentReplicas: 4, pods: pods(4), metrics_: [cpu(50)], metrics: { resource: { cpu: {} } } }));
    expect(decision.desiredReplicas).toBe(4);
    expect(decision.conditions).toEqual([{ type: 'ScalingActive', status: 'False', reason: 'FailedGetResourceMetric' }]);
  });

  it('calculateRequests: a pod without a request for the resource is an error', () => {
    expect(() => calculateRequests([{ name: 'a' }], undefined, 'cpu')).toThrow('missing request for cpu of Pod a');
    expect(() => calculateRequests([{ name: 'a', containerRequests: { app: {} } }], 'app', 'cpu')).toThrow('missing request for cpu in container app of Pod a');
  });

  it('calculateRequests: a pod without the named container requests 0 (no container matches, nothing is added)', () => {
    expect(calculateRequests([{ name: 'a', containerRequests: { sidecar: { cpu: '1' } } }], 'app', 'cpu').get('a')).toBe(0);
  });
});

describe('metrics/utilization.go', () => {
  it('GetResourceUtilizationRatio: utilization is the int64 percent of the summed requests, truncated before the ratio', () => {
    // 3060m of 3000m = 102.0 % → 102; a sample of a pod the selector does not list is skipped but counted by len(metrics)
    const out = getResourceReplicas(ctx(pods(4)), 4, 100, 'cpu', metricsOf([4000, 9500, 3000, 7000, 3200, 2000]));
    expect(out).toEqual({ replicas: 24, utilization: 587, rawUtilization: 5875 });
  });

  it('GetMetricUsageRatio: the average is int64 arithmetic, exact past 2^53 (float64 sums would round)', () => {
    const big = 2 ** 52 + 1; // exact as a double; the sum 2^53 + 3 is not
    const metrics: PodMetrics = new Map([
      ['a', { value: big, timestamp: 0, window: 60 }],
      ['b', { value: big, timestamp: 0, window: 60 }],
      ['c', { value: 1, timestamp: 0, window: 60 }],
    ]);
    expect(getMetricUsageRatio(metrics, 1000).usage).toBe(Number((2n * BigInt(big) + 1n) / 3n));
    expect(getMetricUsageRatio(metrics, 1000).usage).not.toBe(Math.trunc((big + big + 1) / 3));
  });
});

describe('replica_calculator.go calcPlainMetricReplicas (GetMetricReplicas, GetRawResourceReplicas)', () => {
  it('calcPlainMetricReplicas: missing pods on scale-down count as exactly the target', () => {
    // 2 × 50 vs 100, one missing at 100: 200 / 3 = 66 → ratio 0.666 → ceil(0.666 × 3) = 2
    expect(calcPlainMetricReplicas(ctx(pods(3)), metricsOf([50_000, 50_000, undefined]), 3, 100_000, '').replicas).toBe(2);
  });

  it('calcPlainMetricReplicas: at a usage ratio of exactly 1 missing pods are not filled in (the port filled them with 0 and scaled down)', () => {
    expect(calcPlainMetricReplicas(ctx(pods(3)), metricsOf([100_000, 100_000, undefined]), 3, 100_000, '').replicas).toBe(3);
    const decision = decide(sync({ currentReplicas: 3, pods: pods(3), metrics_: [qps('100')], metrics: { pods: { qps: samples([100_000, 100_000]) } } }));
    expect(decision.desiredReplicas).toBe(3);
  });

  it('calcPlainMetricReplicas: surge pods of a rolling update would flip the direction, so nothing changes (the port lacked this guard)', () => {
    // TestReplicaCalcDuringRollingUpdateWithMaxSurgeCM: spec.replicas 2, 3 pods, 10 and 10 vs 17, one missing at 17:
    // 37 / 3 = 12.333 → 0.725 → ceil(0.725 × 3) = 3 > 2 while scaling down → keep 2
    expect(calcPlainMetricReplicas(ctx(pods(3)), metricsOf([10_000, 10_000, undefined]), 2, 17_000, '').replicas).toBe(2);
  });

  it('GetMetricReplicas: an empty list from the custom metrics API is an error', () => {
    const decision = decide(sync({ currentReplicas: 3, pods: pods(3), metrics_: [qps('100')], metrics: { pods: { qps: {} } } }));
    expect(decision.desiredReplicas).toBe(3);
    expect(decision.reason).toContain('unable to get metric qps: no metrics returned from custom metrics API');
  });
});

describe('replica_calculator.go groupPods', () => {
  const group = (podList: PodInfo[], values: (number | undefined)[], resource = 'cpu', now = NOW) => {
    const g = groupPods(podList, metricsOf(values), resource, 300, 30, now);
    return { ready: g.readyPodCount, unready: [...g.unreadyPods], missing: [...g.missingPods], ignored: [...g.ignoredPods] };
  };

  it('groupPods: deleted and Failed pods are ignored, Pending pods are unready, pods without a sample are missing, Succeeded pods count', () => {
    expect(group(pods(5, [{ deleting: true }, { phase: 'Failed' }, { phase: 'Pending' }, { phase: 'Succeeded' }]), [1, 1, 1, 1, undefined])).toEqual({
      ready: 1,
      unready: ['p2'],
      missing: ['p4'],
      ignored: ['p0', 'p1'],
    });
  });

  it('groupPods: readiness sets pods aside only for cpu; Pending pods are set aside for every metric', () => {
    expect(group(pods(2, [{ ready: false, readySinceS: LONG_AGO + 10 }, { phase: 'Pending' }]), [1, 1], '')).toEqual({ ready: 1, unready: ['p1'], missing: [], ignored: [] });
  });

  it('groupPods: a pod without a Ready condition is unready (cpu)', () => {
    expect(group(pods(1, [{ ready: null }]), [1]).unready).toEqual(['p0']);
  });

  it('groupPods: within the CPU initialization period a sample must cover a full window after the last readiness transition', () => {
    const young = { startTimeS: NOW - 100, readySinceS: NOW - 50 };
    // sample at NOW with a 60 s window began before the transition: unready; with a 30 s window: counts
    expect(groupPods(pods(1, [young]), new Map([['p0', { value: 1, timestamp: NOW, window: 60 }]]), 'cpu', 300, 30, NOW).unreadyPods.size).toBe(1);
    expect(groupPods(pods(1, [young]), new Map([['p0', { value: 1, timestamp: NOW, window: 30 }]]), 'cpu', 300, 30, NOW).readyPodCount).toBe(1);
  });

  it('groupPods: after the initialization period an unready pod counts if it was ready once (transition later than start + readiness delay)', () => {
    expect(group(pods(1, [{ ready: false, startTimeS: NOW - 1000, readySinceS: NOW - 900 }]), [1]).ready).toBe(1);
    expect(group(pods(1, [{ ready: false, startTimeS: NOW - 1000, readySinceS: NOW - 990 }]), [1]).unready).toEqual(['p0']);
  });
});

describe('replica_calculator.go Object and External metrics', () => {
  it('GetExternalMetricReplicas: an empty list is an error, not a sum of 0 (the port scaled to minReplicas)', () => {
    const decision = decide(sync({ currentReplicas: 4, pods: pods(4), metrics_: [external({ type: 'Value', value: '10' })], metrics: { external: { lag: [] } } }));
    expect(decision.desiredReplicas).toBe(4);
    expect(decision.reason).toContain('no metrics returned from external metrics API');
    expect(decision.conditions?.[0]).toEqual({ type: 'ScalingActive', status: 'False', reason: 'FailedGetExternalMetric' });
  });

  it('GetExternalMetricReplicas: the values are summed, then ceil(usage / target × ready pods)', () => {
    const decision = decide(sync({ currentReplicas: 2, pods: pods(2), metrics_: [external({ type: 'Value', value: '10' })], metrics: { external: { lag: ['15', '15'] } } }));
    expect(decision.desiredReplicas).toBe(6);
  });

  it('getUsageRatioReplicaCount: from 0 replicas (minReplicas 0), ceil(usageRatio) without tolerance or ready pods', () => {
    const decision = decide(sync({ min: 0, currentReplicas: 0, metrics_: [external({ type: 'Value', value: '10' })], metrics: { external: { lag: ['10.5'] } } }));
    expect(decision.desiredReplicas).toBe(2);
  });

  it('getUsageRatioReplicaCount: otherwise only Running pods with Ready=True are counted', () => {
    const situation = sync({
      currentReplicas: 3,
      pods: pods(3, [{ ready: false }, {}, { phase: 'Pending' }]),
      metrics_: [{ type: 'Object', object: { metric: { name: 'q' }, target: { type: 'Value', value: '10' } } }],
      metrics: { object: { q: '50' } },
    });
    expect(decide(situation).desiredReplicas).toBe(5);
  });

  it('GetObjectPerPodMetricReplicas: the ratio divides by status.replicas; the reported average is ceil(usage / status.replicas)', () => {
    expect(getObjectPerPodMetricReplicas(ctx(pods(3)), 3, 5000, 20000)).toEqual({ replicas: 4, usage: 6667 });
    const decision = decide(
      sync({
        currentReplicas: 4,
        statusReplicas: 5,
        pods: pods(5),
        metrics_: [{ type: 'Object', object: { metric: { name: 'q' }, target: { type: 'AverageValue', averageValue: '10' } } }],
        metrics: { object: { q: '50' } },
      }),
    );
    expect(decision.metrics[0]).toMatchObject({ current: '10', proposal: 5 });
  });

  it('GetExternalPerPodMetricReplicas: a sum past int64 saturates, and replicas are capped at MaxInt32', () => {
    const huge = Number(2n ** 63n);
    expect(getExternalPerPodMetricReplicas(ctx(pods(1)), 1, 1, 'lag', [huge, huge])).toEqual({ replicas: 2 ** 31 - 1, usage: huge });
  });
});

describe('horizontal.go tolerancesForHpa', () => {
  const spec = { maxReplicas: 10, behavior: { scaleUp: { tolerance: '0.05' }, scaleDown: { tolerance: '0.2' } } };

  it('tolerancesForHpa: behavior.*.tolerance is ignored unless the HPAConfigurableTolerance gate is on (alpha, default off in 1.34)', () => {
    expect(tolerancesForHpa({ spec })).toEqual({ scaleUp: 0.1, scaleDown: 0.1 });
    expect(tolerancesForHpa({ spec, tolerance: 0.2 })).toEqual({ scaleUp: 0.2, scaleDown: 0.2 });
  });

  it('tolerancesForHpa: with the gate, each direction has its own tolerance, the controller flag for the other', () => {
    expect(tolerancesForHpa({ spec, featureGates: { HPAConfigurableTolerance: true } })).toEqual({ scaleUp: 0.05, scaleDown: 0.2 });
    expect(tolerancesForHpa({ spec: { maxReplicas: 1, behavior: { scaleUp: { tolerance: '0' } } }, featureGates: { HPAConfigurableTolerance: true } })).toEqual({ scaleUp: 0, scaleDown: 0.1 });
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
    expect(decide(sync({ currentReplicas: 12, max: 10, metrics_: [cpu(50)] })).desiredReplicas).toBe(10);
    expect(decide(sync({ currentReplicas: 1, min: 2, metrics_: [cpu(50)] })).desiredReplicas).toBe(2);
  });

  it('reconcileAutoscaler: with minReplicas 0 a target scales to zero on an Object/External metric of 0', () => {
    const situation = sync({ min: 0, currentReplicas: 5, pods: pods(5), metrics_: [external({ type: 'Value', value: '14400m' })], metrics: { external: { lag: ['0'] } } });
    expect(decide(situation).desiredReplicas).toBe(0);
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
    expect(scaleTo(10, 100, down)).toMatchObject({ desiredReplicas: 8, conditions: [{}, {}, { reason: 'ScaleDownLimit' }] });
    expect(scaleTo(10, 100, { scaleDown: { stabilizationWindowSeconds: 0 } }, {}, { min: 3 })).toMatchObject({ desiredReplicas: 3, conditions: [{}, {}, { reason: 'TooFewReplicas' }] });
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
    expect(scaleTo(3, 10_000, null)).toMatchObject({ desiredReplicas: 6, conditions: [{}, {}, { reason: 'ScaleUpLimit' }] });
    expect(scaleTo(1, 10_000, null).desiredReplicas).toBe(4);
  });

  it('convertDesiredReplicasWithRules (no behavior): minReplicas is checked before the scale-up limit', () => {
    expect(scaleTo(3, 100, null, { history: { recommendations: [] } }, { min: 2 })).toMatchObject({ desiredReplicas: 2, conditions: [{}, {}, { reason: 'TooFewReplicas' }] });
  });
});
