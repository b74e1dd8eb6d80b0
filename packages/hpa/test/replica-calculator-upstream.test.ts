/**
 * Upstream's own table tests, translated: pkg/controller/podautoscaler/replica_calculator_test.go
 * of Kubernetes v1.34.4, run through the port's calculator functions the way upstream's runTest
 * runs them (one function per metric type, the same inputs, the same expected outputs), once per
 * minor. Later releases' changes are marked on the cases: 1.35 added three tests (an int32 and an
 * int64 overflow, a missing container), 1.36 changed none, 1.37 rewrote the file into tables with
 * the same cases but dropped TestReplicaCalcScaleUpCMExternal and ...NoLabels, which stay here.
 *
 * The harness mirrors upstream's fakes: every pod has two containers, each requesting
 * `requests[i]` (so a pod requests twice that); a pod's resource sample is the sum of its
 * containers' levels, and a pod whose metrics lack a container's usage is missing; samples carry
 * the zero timestamp and a one-minute window; pods start at the zero time unless `podStartTime`
 * says hot (now) or cool (3 min ago); the CPU initialization period is 2 min and the readiness
 * delay 10 s (defaultTestingCPUInitializationPeriod, defaultTestingDelayOfInitialReadinessStatus).
 */
import { describe, expect, it } from 'vitest';
import {
  calculateRequests,
  getExternalMetricReplicas,
  getExternalPerPodMetricReplicas,
  getMetricReplicas,
  getObjectMetricReplicas,
  getObjectPerPodMetricReplicas,
  getResourceReplicas,
  groupPods,
  type CalculatorContext,
  type PodMetrics,
} from '@podscale/hpa/replica-calculator.ts';
import { atLeast, KUBERNETES_VERSIONS, type KubernetesVersion } from '@podscale/hpa/gates.ts';
import { toMilli } from '@podscale/hpa/quantity.ts';
import type { PodInfo } from '@podscale/hpa/types.ts';

/** Go's zero time.Time is 0 on this clock; time.Now() is NOW. */
const NOW = 1_000_000_000;
const HOT = NOW; // hotCPUCreationTime()
const COOL = NOW - 180; // coolCPUCreationTime()
const NC = 2; // numContainersPerPod
const MAX_INT64 = Number((1n << 63n) - 1n);
const MAX_INT32 = 2 ** 31 - 1;
const MIN_INT32 = -(2 ** 31);
const DEFAULT_TOLERANCE = 0.1;

type Phase = 'Running' | 'Pending' | 'Failed' | 'Succeeded';

interface RcCase {
  name: string;
  currentReplicas: number;
  expectedReplicas?: number;
  expectedError?: string;
  /** Tolerances{scaleDown, scaleUp}, in upstream's positional order. */
  tolerances?: [number, number];
  resource?: {
    name: string;
    requests: string[];
    levels: number[][];
    podNames?: string[];
    targetUtilization: number;
    expectedUtilization?: number;
    expectedValue?: number;
  };
  metric?: {
    name: string;
    levels: number[];
    metricType: 'object' | 'objectPerPod' | 'external' | 'externalPerPod' | 'pod';
    targetUsage?: number;
    perPodTargetUsage?: number;
    expectedUsage?: number;
  };
  container?: string;
  podReadiness?: ('T' | 'F')[];
  podStartTime?: number[];
  podPhase?: Phase[];
  podDeletionTimestamp?: boolean[];
  /** What earlier minors' code computes where a later release changed it. */
  earlier?: { minors: KubernetesVersion[]; expectedReplicas: number; expectedUsage?: number };
}

/** makePodMetricLevels: the same level for each of a pod's two containers. */
const mk = (...levels: number[]) => levels.map((level) => [level, level]);

function buildPods(tc: RcCase): PodInfo[] {
  const count = Math.max(tc.currentReplicas, tc.podPhase?.length ?? 0);
  return Array.from({ length: count }, (_, i) => {
    const pod: PodInfo = {
      name: `test-pod-${i}`,
      phase: tc.podPhase?.[i] ?? 'Running',
      ready: (tc.podReadiness?.[i] ?? 'T') === 'T',
      startTimeS: tc.podStartTime?.[i] ?? 0,
      readySinceS: 0,
      deleting: tc.podDeletionTimestamp?.[i] ?? false,
      containerRequests: { container1: {}, container2: {} },
    };
    if (tc.resource && i < tc.resource.requests.length) {
      const request = tc.resource.requests[i]!;
      pod.requests = { [tc.resource.name]: `${NC * toMilli(request)}m` };
      pod.containerRequests = { container1: { [tc.resource.name]: request }, container2: { [tc.resource.name]: request } };
    }
    return pod;
  });
}

/** The resource metrics client over upstream's fake PodMetrics list. */
function resourceMetrics(tc: RcCase): PodMetrics {
  const metrics: PodMetrics = new Map();
  tc.resource!.levels.forEach((containers, i) => {
    const name = tc.resource!.podNames?.[i] ?? `test-pod-${i}`;
    if (tc.container) {
      const index = Number(tc.container.replace('container', '')) - 1;
      if (containers[index] !== undefined) metrics.set(name, { value: containers[index], timestamp: 0, window: 60 });
    } else if (containers.length === NC) {
      // getPodMetrics: a container without usage makes the pod missing
      metrics.set(name, { value: containers.reduce((a, b) => a + b, 0), timestamp: 0, window: 60 });
    }
  });
  return metrics;
}

function run(tc: RcCase, kubernetesVersion: KubernetesVersion) {
  const ctx: CalculatorContext = {
    pods: buildPods(tc),
    now: NOW,
    tolerances: tc.tolerances ? { scaleDown: tc.tolerances[0], scaleUp: tc.tolerances[1] } : { scaleDown: DEFAULT_TOLERANCE, scaleUp: DEFAULT_TOLERANCE },
    cpuInitializationPeriod: 120,
    delayOfInitialReadinessStatus: 10,
    kubernetesVersion,
  };
  if (tc.resource) {
    const out = getResourceReplicas(ctx, tc.currentReplicas, tc.resource.targetUtilization, tc.resource.name, resourceMetrics(tc), tc.container);
    return { replicas: out.replicas, utilization: out.utilization, raw: out.rawUtilization };
  }
  const m = tc.metric!;
  switch (m.metricType) {
    case 'object':
      return getObjectMetricReplicas(ctx, tc.currentReplicas, m.targetUsage!, m.levels[0]!);
    case 'objectPerPod':
      return getObjectPerPodMetricReplicas(ctx, tc.currentReplicas, m.perPodTargetUsage!, m.levels[0]!);
    case 'external':
      return getExternalMetricReplicas(ctx, tc.currentReplicas, m.targetUsage!, m.name, m.levels);
    case 'externalPerPod':
      return getExternalPerPodMetricReplicas(ctx, tc.currentReplicas, m.perPodTargetUsage!, m.name, m.levels);
    case 'pod': {
      const metrics: PodMetrics = new Map(m.levels.map((level, i) => [`test-pod-${i}`, { value: level, timestamp: 0, window: 60 }]));
      return getMetricReplicas(ctx, tc.currentReplicas, m.targetUsage!, m.name, metrics);
    }
  }
}

const ones = (n: number) => Array.from({ length: n }, () => '1.0');
const R = 'Running' as const;
const P = 'Pending' as const;
const F = 'Failed' as const;

// TestReplicaCalcComputedToleranceAlgImplementation, computed as upstream computes it.
const computedTolerance = (() => {
  const startPods = 10;
  const totalUsed = startPods * 150;
  const totalRequested = 2 * totalUsed;
  const requestedToUsed = Math.trunc(totalRequested / totalUsed);
  const perPodRequested = totalRequested / startPods;
  const target = Math.abs(1 / (requestedToUsed * (1 - DEFAULT_TOLERANCE))) + 0.01;
  const resourcesUsedRatio = totalUsed / (totalRequested * target);
  const offsets = [100, -100, 10, -10, 2, -2, 1, -1, 0, 0];
  const resource = {
    name: 'cpu',
    levels: mk(...Array.from({ length: 10 }, () => totalUsed / 10)),
    requests: offsets.map((offset) => `${perPodRequested + offset}m`),
    targetUtilization: Math.trunc(target * 100),
    expectedUtilization: Math.trunc((totalUsed * 100) / totalRequested),
    expectedValue: (NC * totalUsed) / 10,
  };
  const near = Math.abs(1 / (requestedToUsed * (1 - DEFAULT_TOLERANCE))) + 0.004;
  return [
    { name: 'TestReplicaCalcComputedToleranceAlgImplementation (scale)', currentReplicas: startPods, expectedReplicas: Math.ceil(resourcesUsedRatio * startPods), resource },
    {
      name: 'TestReplicaCalcComputedToleranceAlgImplementation (within the margin: no scale)',
      currentReplicas: startPods,
      expectedReplicas: startPods,
      resource: { ...resource, targetUtilization: Math.trunc(near * 100) },
    },
  ] satisfies RcCase[];
})();

const cases: RcCase[] = [
  {
    name: 'TestReplicaCalcDisjointResourcesMetrics',
    currentReplicas: 1,
    expectedError: 'no metrics returned matched known pods',
    resource: { name: 'cpu', requests: ['1.0'], levels: mk(100), podNames: ['an-older-pod-name'], targetUtilization: 100 },
  },
  { name: 'TestReplicaCalcScaleUp', currentReplicas: 3, expectedReplicas: 5, resource: { name: 'cpu', requests: ones(3), levels: mk(300, 500, 700), targetUtilization: 30, expectedUtilization: 50, expectedValue: NC * 500 } },
  {
    name: 'TestReplicaCalcContainerScaleUp',
    currentReplicas: 3,
    expectedReplicas: 5,
    container: 'container2',
    resource: { name: 'cpu', requests: ones(3), levels: [[1000, 300], [1000, 500], [1000, 700]], targetUtilization: 30, expectedUtilization: 50, expectedValue: 500 },
  },
  {
    name: 'TestReplicaCalcScaleUpUnreadyLessScale',
    currentReplicas: 3,
    expectedReplicas: 4,
    podReadiness: ['F', 'T', 'T'],
    resource: { name: 'cpu', requests: ones(3), levels: mk(300, 500, 700), targetUtilization: 30, expectedUtilization: 60, expectedValue: NC * 600 },
  },
  {
    name: 'TestReplicaCalcScaleUpContainerHotCpuLessScale',
    currentReplicas: 3,
    expectedReplicas: 4,
    podStartTime: [HOT, COOL, COOL],
    container: 'container2',
    resource: { name: 'cpu', requests: ones(3), levels: [[0, 300], [0, 500], [0, 700]], targetUtilization: 30, expectedUtilization: 60, expectedValue: 600 },
  },
  {
    name: 'TestReplicaCalcScaleUpHotCpuLessScale',
    currentReplicas: 3,
    expectedReplicas: 4,
    podStartTime: [HOT, COOL, COOL],
    resource: { name: 'cpu', requests: ones(3), levels: mk(300, 500, 700), targetUtilization: 30, expectedUtilization: 60, expectedValue: NC * 600 },
  },
  {
    name: 'TestReplicaCalcScaleUpUnreadyNoScale',
    currentReplicas: 3,
    expectedReplicas: 3,
    podReadiness: ['T', 'F', 'F'],
    resource: { name: 'cpu', requests: ones(3), levels: mk(400, 500, 700), targetUtilization: 30, expectedUtilization: 40, expectedValue: NC * 400 },
  },
  {
    name: 'TestExternalPerPodMetricReplicaOverflow',
    currentReplicas: 1,
    expectedReplicas: MAX_INT32,
    metric: { name: 'qps', levels: [MAX_INT64], perPodTargetUsage: 1, metricType: 'externalPerPod', expectedUsage: MAX_INT64 },
  },
  {
    name: 'TestExternalPerPodMetricUsageOverflow',
    currentReplicas: 1,
    expectedReplicas: 1,
    metric: { name: 'qps', levels: [MAX_INT64], perPodTargetUsage: MAX_INT64, metricType: 'externalPerPod', expectedUsage: MAX_INT64 },
  },
  {
    name: 'TestReplicaCalcScaleHotCpuNoScale',
    currentReplicas: 3,
    expectedReplicas: 3,
    podReadiness: ['T', 'F', 'F'],
    podStartTime: [COOL, HOT, HOT],
    resource: { name: 'cpu', requests: ones(3), levels: mk(400, 500, 700), targetUtilization: 30, expectedUtilization: 40, expectedValue: NC * 400 },
  },
  {
    name: 'TestReplicaCalcScaleUpIgnoresFailedPods',
    currentReplicas: 2,
    expectedReplicas: 4,
    podReadiness: ['T', 'T', 'F', 'F'],
    podPhase: [R, R, F, F],
    resource: { name: 'cpu', requests: ones(4), levels: mk(500, 700), targetUtilization: 30, expectedUtilization: 60, expectedValue: NC * 600 },
  },
  {
    name: 'TestReplicaCalcMissingContainerMetricScaleUpIgnoresFailedPods',
    currentReplicas: 2,
    expectedReplicas: 4,
    podReadiness: ['T', 'T', 'F', 'F'],
    podPhase: [R, R, F, F],
    container: 'container2',
    resource: { name: 'cpu', requests: ones(4), levels: [[1000, 500], [9000, 700], [1000], [9000]], targetUtilization: 30, expectedUtilization: 60, expectedValue: 600 },
  },
  {
    name: 'TestReplicaCalcScaleUpContainerIgnoresFailedPods',
    currentReplicas: 2,
    expectedReplicas: 4,
    podReadiness: ['T', 'T', 'F', 'F'],
    podPhase: [R, R, F, F],
    container: 'container2',
    resource: { name: 'cpu', requests: ones(4), levels: [[1000, 500], [9000, 700]], targetUtilization: 30, expectedUtilization: 60, expectedValue: 600 },
  },
  {
    name: 'TestReplicaCalcScaleUpIgnoresDeletionPods',
    currentReplicas: 2,
    expectedReplicas: 4,
    podReadiness: ['T', 'T', 'F', 'F'],
    podPhase: [R, R, R, R],
    podDeletionTimestamp: [false, false, true, true],
    resource: { name: 'cpu', requests: ones(4), levels: mk(500, 700), targetUtilization: 30, expectedUtilization: 60, expectedValue: NC * 600 },
  },
  {
    name: 'TestReplicaCalcScaleUpContainerIgnoresDeletionPods',
    currentReplicas: 2,
    expectedReplicas: 4,
    podReadiness: ['T', 'T', 'F', 'F'],
    podPhase: [R, R, R, R],
    podDeletionTimestamp: [false, false, true, true],
    container: 'container1',
    resource: { name: 'cpu', requests: ones(4), levels: mk(500, 700), targetUtilization: 30, expectedUtilization: 60, expectedValue: 600 },
  },
  { name: 'TestReplicaCalcScaleUpCM', currentReplicas: 3, expectedReplicas: 4, metric: { name: 'qps', levels: [20000, 10000, 30000], targetUsage: 15000, expectedUsage: 20000, metricType: 'pod' } },
  {
    name: 'TestReplicaCalcScaleUpCMUnreadyHotCpuNoLessScale',
    currentReplicas: 3,
    expectedReplicas: 6,
    podReadiness: ['T', 'T', 'F'],
    podStartTime: [COOL, COOL, HOT],
    metric: { name: 'qps', levels: [50000, 10000, 30000], targetUsage: 15000, expectedUsage: 30000, metricType: 'pod' },
  },
  {
    name: 'TestReplicaCalcScaleUpCMUnreadyHotCpuScaleWouldScaleDown',
    currentReplicas: 3,
    expectedReplicas: 7,
    podReadiness: ['F', 'T', 'F'],
    podStartTime: [HOT, COOL, HOT],
    metric: { name: 'qps', levels: [50000, 15000, 30000], targetUsage: 15000, expectedUsage: 31666, metricType: 'pod' },
  },
  { name: 'TestReplicaCalcScaleUpCMObject', currentReplicas: 3, expectedReplicas: 4, metric: { name: 'qps', levels: [20000], targetUsage: 15000, expectedUsage: 20000, metricType: 'object' } },
  { name: 'TestReplicaCalcScaleUpCMPerPodObject', currentReplicas: 3, expectedReplicas: 4, metric: { name: 'qps', levels: [20000], perPodTargetUsage: 5000, expectedUsage: 6667, metricType: 'objectPerPod' } },
  {
    name: 'TestReplicaCalcScaleUpCMObjectIgnoresUnreadyPods',
    currentReplicas: 3,
    expectedReplicas: 5,
    podReadiness: ['F', 'T', 'F'],
    metric: { name: 'qps', levels: [50000], targetUsage: 10000, expectedUsage: 50000, metricType: 'object' },
  },
  // upstream runs this one (and ...NoLabels) as a podMetric: GetMetricReplicas on one pod's 8600m
  { name: 'TestReplicaCalcScaleUpCMExternal', currentReplicas: 1, expectedReplicas: 2, metric: { name: 'qps', levels: [8600], targetUsage: 4400, expectedUsage: 8600, metricType: 'pod' } },
  {
    name: 'TestReplicaCalcScaleUpCMExternalIgnoresUnreadyPods',
    currentReplicas: 3,
    expectedReplicas: 2,
    podReadiness: ['F', 'T', 'F'],
    metric: { name: 'qps', levels: [8600], targetUsage: 4400, expectedUsage: 8600, metricType: 'external' },
  },
  { name: 'TestReplicaCalcScaleUpCMExternalNoLabels', currentReplicas: 1, expectedReplicas: 2, metric: { name: 'qps', levels: [8600], targetUsage: 4400, expectedUsage: 8600, metricType: 'pod' } },
  { name: 'TestReplicaCalcScaleUpPerPodCMExternal', currentReplicas: 3, expectedReplicas: 4, metric: { name: 'qps', levels: [8600], perPodTargetUsage: 2150, expectedUsage: 2867, metricType: 'externalPerPod' } },
  { name: 'TestReplicaCalcScaleDown', currentReplicas: 5, expectedReplicas: 3, resource: { name: 'cpu', requests: ones(5), levels: mk(100, 300, 500, 250, 250), targetUtilization: 50, expectedUtilization: 28, expectedValue: NC * 280 } },
  {
    name: 'TestReplicaCalcContainerScaleDown',
    currentReplicas: 5,
    expectedReplicas: 3,
    container: 'container2',
    resource: { name: 'cpu', requests: ones(5), levels: [[1000, 100], [1000, 300], [1000, 500], [1000, 250], [1000, 250]], targetUtilization: 50, expectedUtilization: 28, expectedValue: 280 },
  },
  { name: 'TestReplicaCalcScaleDownCM', currentReplicas: 5, expectedReplicas: 3, metric: { name: 'qps', levels: [12000, 12000, 12000, 12000, 12000], targetUsage: 20000, expectedUsage: 12000, metricType: 'pod' } },
  { name: 'TestReplicaCalcScaleDownPerPodCMObject', currentReplicas: 5, expectedReplicas: 3, metric: { name: 'qps', levels: [6000], perPodTargetUsage: 2000, expectedUsage: 1200, metricType: 'objectPerPod' } },
  { name: 'TestReplicaCalcScaleDownCMObject', currentReplicas: 5, expectedReplicas: 3, metric: { name: 'qps', levels: [12000], targetUsage: 20000, expectedUsage: 12000, metricType: 'object' } },
  { name: 'TestReplicaCalcScaleDownCMExternal', currentReplicas: 5, expectedReplicas: 3, metric: { name: 'qps', levels: [8600], targetUsage: 14334, expectedUsage: 8600, metricType: 'external' } },
  { name: 'TestReplicaCalcScaleDownPerPodCMExternal', currentReplicas: 5, expectedReplicas: 3, metric: { name: 'qps', levels: [8600], perPodTargetUsage: 2867, expectedUsage: 1720, metricType: 'externalPerPod' } },
  {
    name: 'TestReplicaCalcScaleDownExcludeUnreadyPods',
    currentReplicas: 5,
    expectedReplicas: 2,
    podReadiness: ['T', 'T', 'T', 'F', 'F'],
    resource: { name: 'cpu', requests: ones(5), levels: mk(100, 300, 500, 250, 250), targetUtilization: 50, expectedUtilization: 30, expectedValue: NC * 300 },
  },
  {
    name: 'TestReplicaCalcScaleDownContainerExcludeUnreadyPods',
    currentReplicas: 5,
    expectedReplicas: 2,
    podReadiness: ['T', 'T', 'T', 'F', 'F'],
    container: 'container2',
    resource: { name: 'cpu', requests: ones(5), levels: [[1000, 100], [1000, 300], [1000, 500], [1000, 250], [1000, 250]], targetUtilization: 50, expectedUtilization: 30, expectedValue: 300 },
  },
  {
    name: 'TestReplicaCalcScaleDownExcludeUnscheduledPods',
    currentReplicas: 5,
    expectedReplicas: 1,
    podReadiness: ['T', 'F', 'F', 'F', 'F'],
    podPhase: [R, P, P, P, P],
    resource: { name: 'cpu', requests: ones(5), levels: mk(100), targetUtilization: 50, expectedUtilization: 10, expectedValue: NC * 100 },
  },
  {
    name: 'TestReplicaCalcScaleDownContainerExcludeUnscheduledPods',
    currentReplicas: 5,
    expectedReplicas: 1,
    podReadiness: ['T', 'F', 'F', 'F', 'F'],
    podPhase: [R, P, P, P, P],
    container: 'container2',
    resource: { name: 'cpu', requests: ones(5), levels: [[1000, 100], [1000, 300], [1000, 500], [1000, 250], [1000, 250]], targetUtilization: 50, expectedUtilization: 10, expectedValue: 100 },
  },
  {
    name: 'TestReplicaCalcScaleDownIgnoreHotCpuPods',
    currentReplicas: 5,
    expectedReplicas: 2,
    podStartTime: [COOL, COOL, COOL, HOT, HOT],
    resource: { name: 'cpu', requests: ones(5), levels: mk(100, 300, 500, 250, 250), targetUtilization: 50, expectedUtilization: 30, expectedValue: NC * 300 },
  },
  {
    name: 'TestReplicaCalcScaleDownContainerIgnoreHotCpuPods',
    currentReplicas: 5,
    expectedReplicas: 2,
    podStartTime: [COOL, COOL, COOL, HOT, HOT],
    container: 'container2',
    resource: { name: 'cpu', requests: ones(5), levels: [[1000, 100], [1000, 300], [1000, 500], [1000, 1000], [1000, 1000]], targetUtilization: 50, expectedUtilization: 30, expectedValue: 300 },
  },
  {
    name: 'TestReplicaCalcScaleDownIgnoresFailedPods',
    currentReplicas: 5,
    expectedReplicas: 3,
    podReadiness: ['T', 'T', 'T', 'T', 'T', 'F', 'F'],
    podPhase: [R, R, R, R, R, F, F],
    resource: { name: 'cpu', requests: ones(7), levels: mk(100, 300, 500, 250, 250), targetUtilization: 50, expectedUtilization: 28, expectedValue: NC * 280 },
  },
  {
    name: 'TestReplicaCalcScaleDownContainerIgnoresFailedPods',
    currentReplicas: 5,
    expectedReplicas: 3,
    podReadiness: ['T', 'T', 'T', 'T', 'T', 'F', 'F'],
    podPhase: [R, R, R, R, R, F, F],
    container: 'container2',
    resource: { name: 'cpu', requests: ones(7), levels: [[1000, 100], [1000, 300], [1000, 500], [1000, 250], [1000, 250]], targetUtilization: 50, expectedUtilization: 28, expectedValue: 280 },
  },
  {
    name: 'TestReplicaCalcScaleDownIgnoresDeletionPods',
    currentReplicas: 5,
    expectedReplicas: 3,
    podReadiness: ['T', 'T', 'T', 'T', 'T', 'F', 'F'],
    podPhase: [R, R, R, R, R, R, R],
    podDeletionTimestamp: [false, false, false, false, false, true, true],
    resource: { name: 'cpu', requests: ones(7), levels: mk(100, 300, 500, 250, 250), targetUtilization: 50, expectedUtilization: 28, expectedValue: NC * 280 },
  },
  {
    name: 'TestReplicaCalcScaleDownIgnoresDeletionPods_StillRunning',
    currentReplicas: 5,
    expectedReplicas: 3,
    podReadiness: ['T', 'T', 'T', 'T', 'T', 'F', 'F'],
    podPhase: [R, R, R, R, R, R, R],
    podDeletionTimestamp: [false, false, false, false, false, true, true],
    container: 'container2',
    resource: { name: 'cpu', requests: ones(7), levels: [[1000, 100], [1000, 300], [1000, 500], [1000, 250], [1000, 250]], targetUtilization: 50, expectedUtilization: 28, expectedValue: 280 },
  },
  {
    name: 'TestReplicaCalcTolerance',
    currentReplicas: 3,
    expectedReplicas: 3,
    resource: { name: 'cpu', requests: ['0.9', '1.0', '1.1'], levels: mk(1010, 1030, 1020), targetUtilization: 100, expectedUtilization: 102, expectedValue: NC * 1020 },
  },
  { name: 'TestReplicaCalcToleranceCM', currentReplicas: 3, expectedReplicas: 3, metric: { name: 'qps', levels: [20000, 21000, 21000], targetUsage: 20000, expectedUsage: 20666, metricType: 'pod' } },
  { name: 'TestReplicaCalcToleranceCMObject', currentReplicas: 3, expectedReplicas: 3, metric: { name: 'qps', levels: [20666], targetUsage: 20000, expectedUsage: 20666, metricType: 'object' } },
  { name: 'TestReplicaCalcTolerancePerPodCMObject', currentReplicas: 4, expectedReplicas: 4, metric: { name: 'qps', levels: [20166], perPodTargetUsage: 5000, expectedUsage: 5042, metricType: 'objectPerPod' } },
  { name: 'TestReplicaCalcToleranceCMExternal', currentReplicas: 3, expectedReplicas: 3, metric: { name: 'qps', levels: [8600], targetUsage: 8888, expectedUsage: 8600, metricType: 'external' } },
  { name: 'TestReplicaCalcTolerancePerPodCMExternal', currentReplicas: 3, expectedReplicas: 3, metric: { name: 'qps', levels: [8600], perPodTargetUsage: 2900, expectedUsage: 2867, metricType: 'externalPerPod' } },
  {
    name: 'TestReplicaCalcConfigurableTolerance "Outside of a 0% tolerance"',
    tolerances: [0, 0],
    currentReplicas: 3,
    expectedReplicas: 4,
    resource: { name: 'cpu', requests: ['0.9', '1.0', '1.1'], levels: mk(909, 1010, 1111), targetUtilization: 100, expectedUtilization: 101, expectedValue: NC * 1010 },
  },
  {
    name: 'TestReplicaCalcConfigurableTolerance "Within a 200% scale-up tolerance"',
    tolerances: [DEFAULT_TOLERANCE, 2],
    currentReplicas: 3,
    expectedReplicas: 3,
    resource: { name: 'cpu', requests: ['0.9', '1.0', '1.1'], levels: mk(1890, 1910, 1900), targetUtilization: 100, expectedUtilization: 190, expectedValue: NC * 1900 },
  },
  {
    name: 'TestReplicaCalcConfigurableTolerance "Outside 8% scale-up tolerance (and superfuous scale-down tolerance)"',
    tolerances: [2, 0.08],
    currentReplicas: 3,
    expectedReplicas: 4,
    resource: { name: 'cpu', requests: ['0.9', '1.0', '1.1'], levels: mk(1100, 1080, 1090), targetUtilization: 100, expectedUtilization: 109, expectedValue: NC * 1090 },
  },
  {
    name: 'TestReplicaCalcConfigurableTolerance "Within a 36% scale-down tolerance"',
    tolerances: [0.36, DEFAULT_TOLERANCE],
    currentReplicas: 3,
    expectedReplicas: 3,
    resource: { name: 'cpu', requests: ['0.9', '1.0', '1.1'], levels: mk(660, 640, 650), targetUtilization: 100, expectedUtilization: 65, expectedValue: NC * 650 },
  },
  {
    name: 'TestReplicaCalcConfigurableTolerance "Outside a 34% scale-down tolerance"',
    tolerances: [0.34, DEFAULT_TOLERANCE],
    currentReplicas: 3,
    expectedReplicas: 2,
    resource: { name: 'cpu', requests: ['0.9', '1.0', '1.1'], levels: mk(660, 640, 650), targetUtilization: 100, expectedUtilization: 65, expectedValue: NC * 650 },
  },
  {
    name: 'TestReplicaCalcConfigurableToleranceCM',
    tolerances: [DEFAULT_TOLERANCE, 0.01],
    currentReplicas: 3,
    expectedReplicas: 4,
    metric: { name: 'qps', levels: [20000, 21000, 21000], targetUsage: 20000, expectedUsage: 20666, metricType: 'pod' },
  },
  {
    name: 'TestReplicaCalcConfigurableToleranceCMObject',
    tolerances: [DEFAULT_TOLERANCE, 0.01],
    currentReplicas: 3,
    expectedReplicas: 4,
    metric: { name: 'qps', levels: [20666], targetUsage: 20000, expectedUsage: 20666, metricType: 'object' },
  },
  {
    name: 'TestReplicaCalcConfigurableTolerancePerPodCMObject',
    tolerances: [DEFAULT_TOLERANCE, 0.01],
    currentReplicas: 4,
    expectedReplicas: 5,
    metric: { name: 'qps', levels: [20208], perPodTargetUsage: 5000, expectedUsage: 5052, metricType: 'objectPerPod' },
  },
  {
    name: 'TestReplicaCalcConfigurableToleranceCMExternal',
    tolerances: [DEFAULT_TOLERANCE, 0.01],
    currentReplicas: 3,
    expectedReplicas: 4,
    metric: { name: 'qps', levels: [8900], targetUsage: 8800, expectedUsage: 8900, metricType: 'external' },
  },
  {
    name: 'TestReplicaCalcConfigurableTolerancePerPodCMExternal',
    tolerances: [DEFAULT_TOLERANCE, 0.01],
    currentReplicas: 3,
    expectedReplicas: 4,
    metric: { name: 'qps', levels: [8600], perPodTargetUsage: 2800, expectedUsage: 2867, metricType: 'externalPerPod' },
  },
  {
    name: 'TestReplicaCalcSuperfluousMetrics',
    currentReplicas: 4,
    expectedReplicas: 24,
    resource: { name: 'cpu', requests: ones(4), levels: mk(4000, 9500, 3000, 7000, 3200, 2000), targetUtilization: 100, expectedUtilization: 587, expectedValue: NC * 5875 },
  },
  { name: 'TestReplicaCalcMissingMetrics', currentReplicas: 4, expectedReplicas: 3, resource: { name: 'cpu', requests: ones(4), levels: mk(400, 95), targetUtilization: 100, expectedUtilization: 24, expectedValue: 495 } },
  {
    name: 'TestReplicaCalcEmptyMetrics',
    currentReplicas: 4,
    expectedError: 'unable to get metrics for resource cpu: no metrics returned from resource metrics API',
    resource: { name: 'cpu', requests: ones(3), levels: mk(), targetUtilization: 100 },
  },
  { name: 'TestReplicaCalcEmptyCPURequest', currentReplicas: 1, expectedError: 'missing request for', resource: { name: 'cpu', requests: [], levels: mk(200), targetUtilization: 100 } },
  {
    name: 'TestPlainMetricReplicaCalcMissingMetricsNoChangeEq',
    currentReplicas: 5,
    expectedReplicas: 5,
    metric: { name: 'qps', levels: [20000, 19000, 21000], targetUsage: 20000, expectedUsage: 20000, metricType: 'pod' },
  },
  {
    name: 'TestReplicaCalcMissingMetricsNoChangeEq',
    currentReplicas: 2,
    expectedReplicas: 2,
    resource: { name: 'cpu', requests: ones(2), levels: mk(1000), targetUtilization: 100, expectedUtilization: 100, expectedValue: NC * 1000 },
  },
  {
    name: 'TestReplicaCalcMissingMetricsNoChangeGt',
    currentReplicas: 2,
    expectedReplicas: 2,
    resource: { name: 'cpu', requests: ones(2), levels: mk(1900), targetUtilization: 100, expectedUtilization: 190, expectedValue: NC * 1900 },
  },
  {
    name: 'TestReplicaCalcMissingMetricsNoChangeLt',
    currentReplicas: 2,
    expectedReplicas: 2,
    resource: { name: 'cpu', requests: ones(2), levels: mk(600), targetUtilization: 100, expectedUtilization: 60, expectedValue: NC * 600 },
  },
  {
    name: 'TestReplicaCalcMissingMetricsUnreadyChange',
    currentReplicas: 3,
    expectedReplicas: 3,
    podReadiness: ['F', 'T', 'T'],
    resource: { name: 'cpu', requests: ones(3), levels: mk(100, 450), targetUtilization: 50, expectedUtilization: 45, expectedValue: NC * 450 },
  },
  {
    name: 'TestReplicaCalcMissingMetricsHotCpuNoChange',
    currentReplicas: 3,
    expectedReplicas: 3,
    podStartTime: [HOT, COOL, COOL],
    resource: { name: 'cpu', requests: ones(3), levels: mk(100, 450), targetUtilization: 50, expectedUtilization: 45, expectedValue: NC * 450 },
  },
  {
    name: 'TestReplicaCalcMissingMetricsUnreadyScaleUp',
    currentReplicas: 3,
    expectedReplicas: 4,
    podReadiness: ['F', 'T', 'T'],
    resource: { name: 'cpu', requests: ones(3), levels: mk(100, 2000), targetUtilization: 50, expectedUtilization: 200, expectedValue: NC * 2000 },
  },
  {
    name: 'TestReplicaCalcMissingMetricsHotCpuScaleUp',
    currentReplicas: 3,
    expectedReplicas: 4,
    podReadiness: ['F', 'T', 'T'],
    podStartTime: [HOT, COOL, COOL],
    resource: { name: 'cpu', requests: ones(3), levels: mk(100, 2000), targetUtilization: 50, expectedUtilization: 200, expectedValue: NC * 2000 },
  },
  {
    name: 'TestReplicaCalcMissingMetricsUnreadyScaleDown',
    currentReplicas: 4,
    expectedReplicas: 3,
    podReadiness: ['F', 'T', 'T', 'T'],
    resource: { name: 'cpu', requests: ones(4), levels: mk(100, 100, 100), targetUtilization: 50, expectedUtilization: 10, expectedValue: NC * 100 },
  },
  {
    name: 'TestReplicaCalcMissingMetricsScaleDownTargetOver100',
    currentReplicas: 4,
    expectedReplicas: 2,
    podReadiness: ['F', 'T', 'T', 'T'],
    resource: { name: 'cpu', requests: ['1.0', '1.0', '2.0', '2.0'], levels: mk(200, 100, 100), targetUtilization: 300, expectedUtilization: 6, expectedValue: NC * 100 },
  },
  {
    name: 'TestReplicaCalcDuringRollingUpdateWithMaxSurge',
    currentReplicas: 2,
    expectedReplicas: 2,
    podPhase: [R, R, R],
    resource: { name: 'cpu', requests: ones(3), levels: mk(100, 100), targetUtilization: 50, expectedUtilization: 10, expectedValue: NC * 100 },
  },
  {
    name: 'TestReplicaCalcDuringRollingUpdateWithMaxSurgeCM',
    currentReplicas: 2,
    expectedReplicas: 2,
    podPhase: [R, R, R],
    metric: { name: 'qps', levels: [10000, 10000], targetUsage: 17000, expectedUsage: 10000, metricType: 'pod' },
  },
  ...computedTolerance,
  {
    name: 'TestReplicaCalcScaleUpOverflow (1.35; 1.37: TestReplicaCalcObjectMetric "scale up: very large metric saturates replicas to MaxInt32")',
    currentReplicas: 3,
    expectedReplicas: MAX_INT32,
    metric: { name: 'qps', levels: [MAX_INT64], targetUsage: 1, metricType: 'object', expectedUsage: MAX_INT64 },
    // not an upstream case in 1.34: what its int32(math.Ceil(...)) gives on amd64
    earlier: { minors: ['1.34'], expectedReplicas: MIN_INT32 },
  },
  {
    name: 'TestReplicaCalcExternalMetricUsageOverflow (1.35; 1.37: TestReplicaCalcExternalMetric "usage overflow caps at MaxInt64")',
    currentReplicas: 3,
    expectedReplicas: 3,
    metric: { name: 'qps', levels: [2 ** 62, 2 ** 62], targetUsage: MAX_INT64, metricType: 'external', expectedUsage: MAX_INT64 },
    // not an upstream case in 1.34: its plain int64 sum wraps to MinInt64, a ratio of -1, ceil(-1 × 3)
    earlier: { minors: ['1.34'], expectedReplicas: -3, expectedUsage: -(2 ** 63) },
  },
];

describe.each(KUBERNETES_VERSIONS)('replica_calculator_test.go (v1.34.4 and later changes), translated, on %s', (version) => {
  it.each(cases.map((tc) => [tc.name, tc] as const))('%s', (_name, tc) => {
    if (tc.expectedError !== undefined) {
      expect(() => run(tc, version)).toThrow(tc.expectedError);
      return;
    }
    const earlier = tc.earlier?.minors.includes(version) ? tc.earlier : undefined;
    const out = run(tc, version)!;
    expect(out.replicas).toBe(earlier?.expectedReplicas ?? tc.expectedReplicas);
    if (tc.resource) {
      const res = out as { utilization: number; raw: number };
      expect(res.utilization).toBe(tc.resource.expectedUtilization);
      expect(res.raw).toBe(tc.resource.expectedValue);
    } else {
      expect((out as { usage: number }).usage).toBe(earlier?.expectedUsage ?? tc.metric!.expectedUsage);
    }
  });

  it('TestCalculatePodRequestsFromContainers_NonExistentContainer (1.35): a pod without the container is an error (1.34: requests 0)', () => {
    const pod: PodInfo = { name: 'test-pod', containerRequests: { container1: { cpu: '100m' } } };
    if (atLeast(version, '1.35')) expect(() => calculateRequests([pod], 'non-existent-container', 'cpu', version)).toThrow(/^container non-existent-container not found in Pod test-pod$/);
    else expect(calculateRequests([pod], 'non-existent-container', 'cpu', version).get('test-pod')).toBe(0);
  });
});

describe('replica_calculator_test.go TestGroupPods (v1.34.4, unchanged through v1.37.2), translated', () => {
  const min = 60;
  interface GroupCase {
    name: string;
    pods: PodInfo[];
    metrics: [string, { value: number; timestamp?: number; window?: number }][];
    resource: string;
    ready: number;
    unready: string[];
    missing: string[];
    ignored: string[];
  }
  const S = 'Succeeded' as const;
  const groupCases: GroupCase[] = [
    { name: 'void', pods: [], metrics: [], resource: 'cpu', ready: 0, unready: [], missing: [], ignored: [] },
    {
      name: 'count in a ready pod - memory',
      pods: [{ name: 'bentham', phase: S, ready: null }],
      metrics: [['bentham', { value: 1, timestamp: NOW, window: min }]],
      resource: 'memory',
      ready: 1,
      unready: [],
      missing: [],
      ignored: [],
    },
    {
      name: 'unready a pod without ready condition - CPU',
      pods: [{ name: 'lucretius', phase: S, startTimeS: NOW, ready: null }],
      metrics: [['lucretius', { value: 1 }]],
      resource: 'cpu',
      ready: 0,
      unready: ['lucretius'],
      missing: [],
      ignored: [],
    },
    {
      name: 'count in a ready pod with fresh metrics during initialization period - CPU',
      pods: [{ name: 'bentham', phase: S, startTimeS: NOW - min, ready: true, readySinceS: NOW - 30 }],
      metrics: [['bentham', { value: 1, timestamp: NOW, window: 30 }]],
      resource: 'cpu',
      ready: 1,
      unready: [],
      missing: [],
      ignored: [],
    },
    {
      name: 'unready a ready pod without fresh metrics during initialization period - CPU',
      pods: [{ name: 'bentham', phase: S, startTimeS: NOW - min, ready: true, readySinceS: NOW - 30 }],
      metrics: [['bentham', { value: 1, timestamp: NOW, window: 60 }]],
      resource: 'cpu',
      ready: 0,
      unready: ['bentham'],
      missing: [],
      ignored: [],
    },
    {
      name: 'unready an unready pod during initialization period - CPU',
      pods: [{ name: 'lucretius', phase: S, startTimeS: NOW - 10 * min, ready: false, readySinceS: NOW - 9 * min - 54 }],
      metrics: [['lucretius', { value: 1 }]],
      resource: 'cpu',
      ready: 0,
      unready: ['lucretius'],
      missing: [],
      ignored: [],
    },
    {
      name: 'count in a ready pod without fresh metrics after initialization period - CPU',
      pods: [{ name: 'bentham', phase: S, startTimeS: NOW - 3 * min, ready: true, readySinceS: NOW - 3 * min }],
      metrics: [['bentham', { value: 1, timestamp: NOW - 2 * min, window: min }]],
      resource: 'cpu',
      ready: 1,
      unready: [],
      missing: [],
      ignored: [],
    },
    {
      name: 'count in an unready pod that was ready after initialization period - CPU',
      pods: [{ name: 'lucretius', phase: S, startTimeS: NOW - 10 * min, ready: false, readySinceS: NOW - 9 * min }],
      metrics: [['lucretius', { value: 1 }]],
      resource: 'cpu',
      ready: 1,
      unready: [],
      missing: [],
      ignored: [],
    },
    {
      name: 'unready pod that has never been ready after initialization period - CPU',
      pods: [{ name: 'lucretius', phase: S, startTimeS: NOW - 10 * min, ready: false, readySinceS: NOW - 9 * min - 50 }],
      metrics: [['lucretius', { value: 1 }]],
      resource: 'cpu',
      ready: 1,
      unready: [],
      missing: [],
      ignored: [],
    },
    {
      name: 'a missing pod',
      pods: [{ name: 'epicurus', phase: S, startTimeS: NOW - 3 * min, ready: null }],
      metrics: [],
      resource: 'cpu',
      ready: 0,
      unready: [],
      missing: ['epicurus'],
      ignored: [],
    },
    {
      name: 'several pods',
      pods: [
        { name: 'lucretius', phase: S, startTimeS: NOW, ready: null },
        { name: 'niccolo', phase: S, startTimeS: NOW - 3 * min, ready: true, readySinceS: NOW - 3 * min },
        { name: 'epicurus', phase: S, startTimeS: NOW - 3 * min, ready: null },
      ],
      metrics: [
        ['lucretius', { value: 1 }],
        ['niccolo', { value: 1 }],
      ],
      resource: 'cpu',
      ready: 1,
      unready: ['lucretius'],
      missing: ['epicurus'],
      ignored: [],
    },
    { name: 'pending pods are unreadied', pods: [{ name: 'unscheduled', phase: P, ready: null }], metrics: [], resource: 'cpu', ready: 0, unready: ['unscheduled'], missing: [], ignored: [] },
    {
      name: 'ignore pods with deletion timestamps',
      pods: [{ name: 'deleted', phase: P, deleting: true, ready: null }],
      metrics: [['deleted', { value: 1 }]],
      resource: 'cpu',
      ready: 0,
      unready: [],
      missing: [],
      ignored: ['deleted'],
    },
    { name: 'ignore pods in a failed state', pods: [{ name: 'failed', phase: F, ready: null }], metrics: [['failed', { value: 1 }]], resource: 'cpu', ready: 0, unready: [], missing: [], ignored: ['failed'] },
  ];

  it.each(groupCases.map((tc) => [tc.name, tc] as const))('%s', (_name, tc) => {
    const metrics: PodMetrics = new Map(tc.metrics.map(([name, m]) => [name, { value: m.value, timestamp: m.timestamp ?? 0, window: m.window ?? 0 }]));
    const groups = groupPods(tc.pods, metrics, tc.resource, 120, 10, NOW);
    expect(groups.readyPodCount).toBe(tc.ready);
    expect([...groups.unreadyPods].sort()).toEqual(tc.unready);
    expect([...groups.missingPods].sort()).toEqual(tc.missing);
    expect([...groups.ignoredPods].sort()).toEqual(tc.ignored);
  });
});

