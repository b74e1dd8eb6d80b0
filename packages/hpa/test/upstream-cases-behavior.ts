/** Cases transcribed from horizontal_test.go (Kubernetes v1.34.4, unchanged through v1.37.2): recommendations through behavior policies. */
import { behaviorCase, cpu, pol, NOW, type Case } from './upstream-cases-fixtures.ts';

export const behaviorCases: Case[] = [
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
