/**
 * One test per rule of the port's replica calculator, named after the upstream function it mirrors
 * (pkg/controller/podautoscaler/replica_calculator.go and metrics/*.go of Kubernetes v1.34.4 to
 * v1.37.2). Where a minor changed a rule, the test runs each minor; where the port used to get a
 * rule wrong, the test says so.
 */
import { describe, expect, it } from 'vitest';
import { decide } from '@podscale/hpa/decide.ts';
import { KUBERNETES_VERSIONS } from '@podscale/hpa/gates.ts';
import {
  calculateRequests,
  calcPlainMetricReplicas,
  getExternalMetricReplicas,
  getExternalPerPodMetricReplicas,
  getMetricUsageRatio,
  getObjectPerPodMetricReplicas,
  getResourceReplicas,
  getUsageRatioReplicaCount,
  groupPods,
  type PodMetrics,
} from '@podscale/hpa/replica-calculator.ts';
import type { PodInfo } from '@podscale/hpa/types.ts';
import { cpu, ctx, external, LONG_AGO, metricsOf, NOW, pods, qps, samples, sync } from './rules-fixtures.ts';

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

  it.each(KUBERNETES_VERSIONS)('calculateRequests (%s): a pod without a request for the resource is an error', (version) => {
    expect(() => calculateRequests([{ name: 'a' }], undefined, 'cpu', version)).toThrow('missing request for cpu of Pod a');
    expect(() => calculateRequests([{ name: 'a', containerRequests: { app: {} } }], 'app', 'cpu', version)).toThrow('missing request for cpu in container app of Pod a');
  });

  it('calculateRequests (1.34): a pod without the named container requests 0 (no container matches, nothing is added)', () => {
    expect(calculateRequests([{ name: 'a', containerRequests: { sidecar: { cpu: '1' } } }], 'app', 'cpu', '1.34').get('a')).toBe(0);
  });

  it.each(['1.35', '1.36', '1.37'] as const)('calculatePodRequestsFromContainers (%s): a pod without the named container fails the metric', (version) => {
    expect(() => calculateRequests([{ name: 'a', containerRequests: { sidecar: { cpu: '1' } } }], 'app', 'cpu', version)).toThrow(/^container app not found in Pod a$/);
  });

  it.each([
    ['1.34', 'computed: the pod without the container requests 0 (1000m of 1000m requested: 100 % vs 50 %)', 4],
    ['1.35', 'invalid', 2],
    ['1.37', 'invalid', 2],
  ] as const)('ContainerResource (%s) with one pod lacking the container: %s', (kubernetesVersion, _what, desired) => {
    const metric = { type: 'ContainerResource' as const, containerResource: { name: 'cpu', container: 'app', target: { type: 'Utilization' as const, averageUtilization: 50 } } };
    const podList = pods(2, [{ containerRequests: { app: { cpu: '1' } } }, { containerRequests: { sidecar: { cpu: '1' } } }]);
    const decision = decide({ ...sync({ currentReplicas: 2, pods: podList, metrics_: [metric], metrics: { containerResource: { app: { cpu: samples([500, 500]) } } } }), kubernetesVersion });
    expect(decision.desiredReplicas).toBe(desired);
    if (kubernetesVersion !== '1.34') {
      expect(decision.reason).toContain('failed to get app container metric value: failed to get cpu utilization: container app not found in Pod p1');
      expect(decision.conditions).toEqual([{ type: 'ScalingActive', status: 'False', reason: 'FailedGetContainerResourceMetric' }]);
    }
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
    const decision = decide(sync({ min: 0, currentReplicas: 0, scaledToZero: true, metrics_: [external({ type: 'Value', value: '10' })], metrics: { external: { lag: ['10.5'] } } }));
    expect(decision.desiredReplicas).toBe(2);
  });

  it('getUsageRatioReplicaCount (1.35+): a count past int32 is MaxInt32; 1.34 converted it as Go does on amd64, to MinInt32', () => {
    expect(getUsageRatioReplicaCount(ctx(pods(3), 0.1, '1.34'), 3, 1e10)).toBe(-(2 ** 31));
    for (const version of ['1.35', '1.36', '1.37'] as const) expect(getUsageRatioReplicaCount(ctx(pods(3), 0.1, version), 3, 1e10)).toBe(2 ** 31 - 1);
  });

  it.each(KUBERNETES_VERSIONS)('getUsageRatioReplicaCount (%s): the count from zero was never clamped (MinInt32 past int32)', (version) => {
    expect(getUsageRatioReplicaCount(ctx([], 0.1, version), 0, 3e9)).toBe(-(2 ** 31));
    expect(getUsageRatioReplicaCount(ctx([], 0.1, version), 0, 2.5)).toBe(3);
  });

  it('reconcileAutoscaler with an Object Value proposal past int32: 1.34 reads MinInt32 as 0 and scales down to minReplicas, 1.35+ caps at maxReplicas', () => {
    const situation = sync({ min: 2, max: 10, currentReplicas: 3, pods: pods(3), metrics_: [{ type: 'Object', object: { metric: { name: 'q' }, target: { type: 'Value', value: '1m' } } }], metrics: { object: { q: '9000000000000' } } });
    expect(decide({ ...situation, kubernetesVersion: '1.34' })).toMatchObject({ desiredReplicas: 2, recommendation: 0 });
    expect(decide({ ...situation, kubernetesVersion: '1.35' })).toMatchObject({ desiredReplicas: 10, recommendation: 2 ** 31 - 1 });
  });

  it('GetExternalMetricReplicas: an int64 sum past MaxInt64 wraps negative in 1.34 and stops at MaxInt64 from 1.35', () => {
    const half = 2 ** 62; // MaxInt64/2 + 1
    expect(getExternalMetricReplicas(ctx(pods(3), 0.1, '1.34'), 3, 1000, 'lag', [half, half]).usage).toBe(-(2 ** 63));
    expect(getExternalMetricReplicas(ctx(pods(3), 0.1, '1.35'), 3, 1000, 'lag', [half, half]).usage).toBe(2 ** 63);
    // a negative value is added in every minor (no saturation below zero)
    expect(getExternalMetricReplicas(ctx(pods(3), 0.1, '1.37'), 3, 1000, 'lag', [5000, -2000]).usage).toBe(3000);
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
