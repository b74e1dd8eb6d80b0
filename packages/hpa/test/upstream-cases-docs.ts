/** Cases from the HPA documentation and the configurable-tolerance post. */
import { calc, cpu, milliMap, pods, podsMetric, type Case } from './upstream-cases-fixtures.ts';

export const docCases: Case[] = [
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
  ...(['1.34', '1.35'] as const).map((kubernetesVersion) => ({
    source:
      kubernetesVersion === '1.34'
        ? 'horizontal.go tolerancesForHpa: on 1.34, without the HPAConfigurableTolerance gate (alpha, off by default) behavior.scaleUp.tolerance 0.05 is ignored'
        : 'horizontal.go tolerancesForHpa: from 1.35 the gate is on by default (beta; GA in 1.37), so the same tolerance 0.05 scales without saying so',
    situation: (() => {
      const base = calc({ currentReplicas: 100, pods: pods(100, [], '100m'), metric: cpu(80), metrics: { resource: { cpu: Object.fromEntries(Array.from({ length: 100 }, (_, i) => [`p${i}`, '88m'])) } } });
      return { ...base, kubernetesVersion, spec: { ...base.spec, behavior: { ...base.spec.behavior, scaleUp: { ...base.spec.behavior!.scaleUp, tolerance: '0.05' } } } };
    })(),
    desired: kubernetesVersion === '1.34' ? 100 : 111,
  })),
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
