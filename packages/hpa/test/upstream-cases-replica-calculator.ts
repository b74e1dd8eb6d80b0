/** Cases transcribed from replica_calculator_test.go (Kubernetes v1.34.4; none of them changed through v1.37.2). */
import { calc, cpu, milliMap, pods, podsMetric, NOW, type Case } from './upstream-cases-fixtures.ts';

export const replicaCalculatorCases: Case[] = [
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
