/**
 * Upstream's behavior table tests, translated: pkg/controller/podautoscaler/horizontal_test.go of
 * Kubernetes v1.34.4 (TestConvertDesiredReplicasWithRules, TestCalculateScaleUpLimitWithScalingRules,
 * TestCalculateScaleDownLimitWithBehaviors, TestNormalizeDesiredReplicas, TestScalingWithRules,
 * TestStoreScaleEvents, TestNormalizeDesiredReplicasWithBehavior), run through the port's
 * functions of the same names. Upstream's time.Now() is NOW. The functions and these tests are
 * the same in v1.35.4, v1.36.3 and v1.37.2, so they run once, for every minor; 1.37 dropped two
 * TestScalingWithRules rows, one it never ran (testThis) and a duplicate of "scaleDown with spec
 * MinReplicas limitation with large pod policy", which stay here.
 */
import { describe, expect, it } from 'vitest';
import {
  calculateScaleDownLimitWithBehaviors,
  calculateScaleUpLimit,
  calculateScaleUpLimitWithScalingRules,
  convertDesiredReplicasWithBehaviorRate,
  convertDesiredReplicasWithRules,
  getReplicasChangePerPeriod,
  recordRecommendation,
  recordRecommendationWithBehaviors,
  scaleDownRules,
  scaleUpRules,
  stabilizeRecommendation,
  stabilizeRecommendationWithBehaviors,
  storeScaleEvent,
  type Recommendation,
} from '@podscale/hpa/behavior.ts';
import type { ScaleEvent, ScalingRules } from '@podscale/hpa/types.ts';

const NOW = 1_000_000;
const MIN = 60;

/** generateScalingRules: Max of a Pods and a Percent policy (each only when non-zero); no policies → defaults. */
function generateScalingRules(pods: number, podsPeriod: number, percent: number, percentPeriod: number, stabilizationWindow: number): ScalingRules {
  const policies: ScalingRules['policies'] = [];
  if (pods !== 0) policies.push({ type: 'Pods', value: pods, periodSeconds: podsPeriod });
  if (percent !== 0) policies.push({ type: 'Percent', value: percent, periodSeconds: percentPeriod });
  return { stabilizationWindowSeconds: stabilizationWindow, selectPolicy: 'Max', ...(policies.length > 0 ? { policies } : {}) };
}

/** generateEventsUniformDistribution: events centred in equal segments of the last period (whole seconds, as time.Duration truncates). */
function generateEventsUniformDistribution(rawEvents: number[], periodSeconds: number): ScaleEvent[] {
  const segment = periodSeconds / rawEvents.length;
  return rawEvents.map((change, idx) => ({ change, time: NOW - Math.trunc(periodSeconds - segment * (idx + 1) + segment / 2) }));
}

describe('horizontal_test.go TestConvertDesiredReplicasWithRules (v1.34.4)', () => {
  const cases = [
    { current: 5, desired: 7, min: 3, max: 8, expected: 7, condition: 'DesiredWithinRange', annotation: 'prenormalized desired replicas within range' },
    { current: 3, desired: 1, min: 2, max: 8, expected: 2, condition: 'TooFewReplicas', annotation: 'prenormalized desired replicas < minReplicas' },
    { current: 1, desired: 0, min: 0, max: 10, expected: 0, condition: 'DesiredWithinRange', annotation: 'prenormalized desired zeroed replicas within range' },
    { current: 20, desired: 1000, min: 1, max: 10, expected: 10, condition: 'TooManyReplicas', annotation: 'maxReplicas is the limit because maxReplicas < scaleUpLimit' },
    { current: 3, desired: 1000, min: 1, max: 2000, expected: calculateScaleUpLimit(3), condition: 'ScaleUpLimit', annotation: 'scaleUpLimit is the limit because scaleUpLimit < maxReplicas' },
  ];
  it.each(cases.map((c) => [c.annotation, c] as const))('%s', (_name, c) => {
    expect(convertDesiredReplicasWithRules(c.current, c.desired, c.min, c.max)).toEqual({ replicas: c.expected, reason: c.condition });
  });
  it('calculateScaleUpLimit(3) is max(2 × 3, 4) = 6', () => expect(calculateScaleUpLimit(3)).toBe(6));
});

describe('horizontal_test.go TestCalculateScale{Up,Down}Limit* (v1.34.4)', () => {
  const rules = { stabilizationWindowSeconds: 300, selectPolicy: 'Min' as const, policies: [{ type: 'Pods' as const, value: 2, periodSeconds: 60 }, { type: 'Percent' as const, value: 50, periodSeconds: 60 }] };
  it('TestCalculateScaleUpLimitWithScalingRules: Min of +2 pods and +50 % from 1 is 2', () => {
    expect(calculateScaleUpLimitWithScalingRules(NOW, 1, [], [], rules)).toBe(2);
  });
  it('TestCalculateScaleDownLimitWithBehaviors: Min of −2 pods and −50 % from 5 is 3', () => {
    expect(calculateScaleDownLimitWithBehaviors(NOW, 5, [], [], rules)).toBe(3);
  });
});

describe('horizontal_test.go TestNormalizeDesiredReplicas (v1.34.4): stabilizeRecommendation, 5 min window', () => {
  const cases: { name: string; recs: Recommendation[]; desired: number; stabilized: number; logLength: number }[] = [
    { name: 'empty log', recs: [], desired: 5, stabilized: 5, logLength: 1 },
    { name: 'stabilize', recs: [{ replicas: 4, time: NOW - 2 * MIN }, { replicas: 5, time: NOW - MIN }], desired: 3, stabilized: 5, logLength: 3 },
    { name: 'no stabilize', recs: [{ replicas: 1, time: NOW - 2 * MIN }, { replicas: 2, time: NOW - MIN }], desired: 3, stabilized: 3, logLength: 3 },
    { name: 'no stabilize - old recommendations', recs: [{ replicas: 10, time: NOW - 10 * MIN }, { replicas: 9, time: NOW - 9 * MIN }], desired: 3, stabilized: 3, logLength: 2 },
    {
      name: 'stabilize - old recommendations',
      recs: [
        { replicas: 10, time: NOW - 10 * MIN },
        { replicas: 4, time: NOW - MIN },
        { replicas: 5, time: NOW - 2 * MIN },
        { replicas: 9, time: NOW - 9 * MIN },
      ],
      desired: 3,
      stabilized: 5,
      logLength: 4,
    },
  ];
  it.each(cases.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    expect(stabilizeRecommendation(NOW, c.recs, 5 * MIN, c.desired)).toBe(c.stabilized);
    expect(recordRecommendation(c.recs, { time: NOW, replicas: c.desired }, 5 * MIN)).toHaveLength(c.logLength);
  });
});

describe('horizontal_test.go TestScalingWithRules (v1.34.4): convertDesiredReplicasWithBehaviorRate', () => {
  interface Case {
    name: string;
    scaleUpEvents?: ScaleEvent[];
    scaleDownEvents?: ScaleEvent[];
    min: number;
    max: number;
    up?: ScalingRules;
    down?: ScalingRules;
    current: number;
    desired: number;
    expected: number;
    condition: string;
  }
  const g = generateScalingRules;
  const ev = generateEventsUniformDistribution;
  const cases: Case[] = [
    { name: 'prenormalized desired replicas within range', current: 5, desired: 7, min: 3, max: 8, expected: 7, condition: 'DesiredWithinRange' },
    { name: 'prenormalized desired replicas < minReplicas', current: 3, desired: 1, min: 2, max: 8, expected: 2, condition: 'TooFewReplicas' },
    { name: 'prenormalized desired replicas within range when minReplicas is 0', current: 1, desired: 0, min: 0, max: 10, expected: 0, condition: 'DesiredWithinRange' },
    { name: 'maxReplicas is the limit because maxReplicas < scaleUpLimit', current: 20, desired: 1000, min: 1, max: 10, expected: 10, condition: 'TooManyReplicas' },
    { name: 'desired replica count is more than the maximum replica count', current: 100, desired: 1000, min: 100, max: 150, expected: 150, condition: 'TooManyReplicas' },
    { name: 'scaleUpLimit is the limit because scaleUpLimit < maxReplicas with user policies', current: 3, desired: 1000, min: 1, max: 2000, up: g(0, 0, 1, 60, 0), expected: 4, condition: 'ScaleUpLimit' },
    {
      name: 'scaleDownLimit is the limit because scaleDownLimit > minReplicas with user defined policies (skipped upstream: testThis)',
      current: 1000,
      desired: 3,
      min: 3,
      max: 2000,
      down: g(20, 60, 0, 0, 0),
      expected: 980,
      condition: 'ScaleDownLimit',
    },
    { name: 'scaleUp with default behavior', min: 1, max: 1000, current: 10, desired: 50, expected: 20, condition: 'ScaleUpLimit' },
    { name: 'scaleUp with pods policy larger than percent policy', min: 1, max: 1000, up: g(100, 60, 100, 60, 0), current: 10, desired: 500, expected: 110, condition: 'ScaleUpLimit' },
    { name: 'scaleUp with percent policy larger than pods policy', min: 1, max: 1000, up: g(2, 60, 100, 60, 0), current: 10, desired: 500, expected: 20, condition: 'ScaleUpLimit' },
    { name: 'scaleUp with spec MaxReplicas limitation with large pod policy', min: 1, max: 1000, up: g(100, 60, 0, 0, 0), current: 10, desired: 50, expected: 50, condition: 'DesiredWithinRange' },
    { name: 'scaleUp with spec MaxReplicas limitation with large percent policy', min: 1, max: 1000, up: g(10000, 60, 0, 0, 0), current: 10, desired: 50, expected: 50, condition: 'DesiredWithinRange' },
    { name: 'scaleUp with pod policy limitation', min: 1, max: 1000, up: g(30, 60, 0, 0, 0), current: 10, desired: 50, expected: 40, condition: 'ScaleUpLimit' },
    { name: 'scaleUp with percent policy limitation', min: 1, max: 1000, up: g(0, 0, 200, 60, 0), current: 10, desired: 50, expected: 30, condition: 'ScaleUpLimit' },
    { name: 'scaleDown with percent policy larger than pod policy', min: 1, max: 1000, down: g(20, 60, 1, 60, 300), current: 100, desired: 2, expected: 80, condition: 'ScaleDownLimit' },
    { name: 'scaleDown with pod policy larger than percent policy', min: 1, max: 1000, down: g(2, 60, 1, 60, 300), current: 100, desired: 2, expected: 98, condition: 'ScaleDownLimit' },
    { name: 'scaleDown with spec MinReplicas=nil limitation with large pod policy', min: 1, max: 1000, down: g(100, 60, 0, 0, 300), current: 10, desired: 0, expected: 1, condition: 'TooFewReplicas' },
    { name: 'scaleDown with spec MinReplicas limitation with large pod policy', min: 1, max: 1000, down: g(100, 60, 0, 0, 300), current: 10, desired: 0, expected: 1, condition: 'TooFewReplicas' },
    { name: 'scaleDown with spec MinReplicas limitation with large percent policy', min: 5, max: 1000, down: g(0, 0, 100, 60, 300), current: 10, desired: 2, expected: 5, condition: 'TooFewReplicas' },
    { name: 'scaleDown with pod policy limitation', min: 1, max: 1000, down: g(5, 60, 0, 0, 300), current: 10, desired: 2, expected: 5, condition: 'ScaleDownLimit' },
    { name: 'scaleDown with percent policy limitation', min: 1, max: 1000, down: g(0, 0, 50, 60, 300), current: 10, desired: 5, expected: 5, condition: 'DesiredWithinRange' },
    {
      name: 'scaleUp with spec MaxReplicas limitation with large pod policy and events',
      scaleUpEvents: ev([1, 5, 9], 120),
      min: 1,
      max: 200,
      up: g(300, 60, 0, 0, 0),
      current: 100,
      desired: 500,
      expected: 200,
      condition: 'TooManyReplicas',
    },
    {
      name: 'scaleUp with spec MaxReplicas limitation with large percent policy and events',
      scaleUpEvents: ev([1, 5, 9], 120),
      min: 1,
      max: 200,
      up: g(0, 0, 10000, 60, 0),
      current: 100,
      desired: 500,
      expected: 200,
      condition: 'TooManyReplicas',
    },
    {
      name: 'scaleUp with currentReplicas limitation with rate.PeriodSeconds with a lot of recent scale up events',
      scaleUpEvents: ev([1, 5, 9], 120),
      min: 1,
      max: 1000,
      up: g(5, 120, 0, 0, 0),
      current: 100,
      desired: 500,
      expected: 100,
      condition: 'ScaleUpLimit',
    },
    { name: 'scaleUp with pod policy and previous scale up events', scaleUpEvents: ev([1, 5, 9], 120), min: 1, max: 1000, up: g(150, 120, 0, 0, 0), current: 100, desired: 500, expected: 235, condition: 'ScaleUpLimit' },
    { name: 'scaleUp with percent policy and previous scale up events', scaleUpEvents: ev([1, 5, 9], 120), min: 1, max: 1000, up: g(0, 0, 200, 120, 0), current: 100, desired: 500, expected: 255, condition: 'ScaleUpLimit' },
    {
      name: 'scaleUp with percent policy and previous scale up and down events',
      scaleUpEvents: ev([4], 120),
      scaleDownEvents: ev([2], 120),
      min: 1,
      max: 1000,
      up: g(0, 0, 300, 300, 0),
      current: 6,
      desired: 24,
      expected: 16,
      condition: 'ScaleUpLimit',
    },
    { name: 'scaleDown with default policy and previous events', scaleDownEvents: ev([1, 5, 9], 120), min: 1, max: 1000, current: 10, desired: 5, expected: 5, condition: 'DesiredWithinRange' },
    {
      name: 'scaleDown with spec MinReplicas=nil limitation with large pod policy and previous events',
      scaleDownEvents: ev([1, 5, 9], 120),
      min: 1,
      max: 1000,
      down: g(115, 120, 0, 0, 300),
      current: 100,
      desired: 0,
      expected: 1,
      condition: 'TooFewReplicas',
    },
    {
      name: 'scaleDown with spec MinReplicas limitation with large pod policy and previous events',
      scaleDownEvents: ev([1, 5, 9], 120),
      min: 5,
      max: 1000,
      down: g(130, 120, 0, 0, 300),
      current: 100,
      desired: 0,
      expected: 5,
      condition: 'TooFewReplicas',
    },
    {
      name: 'scaleDown with spec MinReplicas limitation with large percent policy and previous events',
      scaleDownEvents: ev([1, 5, 9], 120),
      min: 5,
      max: 1000,
      down: g(0, 0, 100, 120, 300),
      current: 100,
      desired: 2,
      expected: 5,
      condition: 'TooFewReplicas',
    },
    { name: 'scaleDown with pod policy limitation and previous events', scaleDownEvents: ev([1, 5, 9], 120), min: 1, max: 1000, down: g(5, 120, 0, 0, 300), current: 100, desired: 2, expected: 100, condition: 'ScaleDownLimit' },
    { name: 'scaleDown with percent policy limitation and previous events', scaleDownEvents: ev([2, 4, 6], 120), min: 1, max: 1000, down: g(0, 0, 50, 120, 300), current: 100, desired: 0, expected: 56, condition: 'ScaleDownLimit' },
    {
      name: 'scaleDown with percent policy and previous scale up and down events',
      scaleUpEvents: ev([2], 120),
      scaleDownEvents: ev([4], 120),
      min: 1,
      max: 1000,
      down: g(0, 0, 50, 180, 0),
      current: 10,
      desired: 1,
      expected: 6,
      condition: 'ScaleDownLimit',
    },
    { name: 'scaleDown with previous events preventing further scale down', scaleDownEvents: ev([10, 10, 10], 120), min: 1, max: 1000, down: g(0, 0, 10, 120, 300), current: 100, desired: 0, expected: 100, condition: 'ScaleDownLimit' },
    { name: 'scaleDown with with previous events still allowing more scale down', scaleDownEvents: ev([10, 10, 10], 120), min: 1, max: 1000, down: g(0, 0, 1000, 120, 300), current: 10, desired: 5, expected: 5, condition: 'DesiredWithinRange' },
    { name: "check 'outdated' flag for events for one behavior for up", scaleUpEvents: ev([8, 12, 9, 11], 120), min: 1, max: 1000, up: g(1000, 60, 0, 0, 0), current: 100, desired: 200, expected: 200, condition: 'DesiredWithinRange' },
    {
      name: "check that events were not marked 'outdated' for two different policies in the behavior for up",
      scaleUpEvents: ev([8, 12, 9, 11], 120),
      min: 1,
      max: 1000,
      up: g(1000, 120, 100, 60, 0),
      current: 100,
      desired: 200,
      expected: 200,
      condition: 'DesiredWithinRange',
    },
    {
      name: "check that events were marked 'outdated' for two different policies in the behavior for up",
      scaleUpEvents: ev([8, 12, 9, 11], 120),
      min: 1,
      max: 1000,
      up: g(1000, 30, 100, 60, 0),
      current: 100,
      desired: 200,
      expected: 200,
      condition: 'DesiredWithinRange',
    },
    { name: "check 'outdated' flag for events for one behavior for down", scaleDownEvents: ev([8, 12, 9, 11], 120), min: 1, max: 1000, down: g(1000, 60, 0, 0, 300), current: 100, desired: 5, expected: 5, condition: 'DesiredWithinRange' },
    {
      name: "check that events were not marked 'outdated' for two different policies in the behavior for down",
      scaleDownEvents: ev([8, 12, 9, 11], 120),
      min: 1,
      max: 1000,
      down: g(1000, 120, 100, 60, 300),
      current: 100,
      desired: 5,
      expected: 5,
      condition: 'DesiredWithinRange',
    },
    {
      name: "check that events were marked 'outdated' for two different policies in the behavior for down",
      scaleDownEvents: ev([8, 12, 9, 11], 120),
      min: 1,
      max: 1000,
      down: g(1000, 30, 100, 60, 300),
      current: 100,
      desired: 5,
      expected: 5,
      condition: 'DesiredWithinRange',
    },
  ];
  it.each(cases.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const result = convertDesiredReplicasWithBehaviorRate({
      now: NOW,
      currentReplicas: c.current,
      desiredReplicas: c.desired,
      minReplicas: c.min,
      maxReplicas: c.max,
      scaleUpEvents: c.scaleUpEvents ?? [],
      scaleDownEvents: c.scaleDownEvents ?? [],
      scaleUp: scaleUpRules(c.up),
      scaleDown: scaleDownRules(c.down, 300),
    });
    expect(result.replicas).toBe(c.expected);
    expect(result.reason).toBe(c.condition);
  });
});

describe('horizontal_test.go TestStoreScaleEvents (v1.34.4): getReplicasChangePerPeriod and storeScaleEvent', () => {
  const g = generateScalingRules;
  const cases: { name: string; replicaChange: number; prev: ScaleEvent[]; next: number[]; rules?: ScalingRules; expectedReplicasChange: number }[] = [
    { name: 'empty entries with default behavior', replicaChange: 5, prev: [], next: [], expectedReplicasChange: 0 },
    { name: 'empty entries with two-policy-behavior', replicaChange: 5, prev: [], next: [5], rules: g(10, 60, 100, 60, 0), expectedReplicasChange: 0 },
    { name: 'one outdated entry to be kept untouched without behavior', replicaChange: 5, prev: [{ change: 7, time: NOW - 61 }], next: [7], expectedReplicasChange: 0 },
    { name: 'one outdated entry to be replaced with behavior', replicaChange: 5, prev: [{ change: 7, time: NOW - 61 }], next: [5], rules: g(10, 60, 100, 60, 0), expectedReplicasChange: 0 },
    { name: 'one actual entry to be not touched with behavior', replicaChange: 5, prev: [{ change: 7, time: NOW - 58 }], next: [7, 5], rules: g(10, 60, 100, 60, 0), expectedReplicasChange: 7 },
    {
      name: 'two entries, one of them to be replaced',
      replicaChange: 5,
      prev: [
        { change: 7, time: NOW - 61 },
        { change: 6, time: NOW - 59 },
      ],
      next: [5, 6],
      rules: g(10, 60, 0, 0, 0),
      expectedReplicasChange: 6,
    },
    {
      name: 'replace one entry, use policies with different periods',
      replicaChange: 5,
      prev: [
        { change: 8, time: NOW - 29 },
        { change: 6, time: NOW - 59 },
        { change: 7, time: NOW - 61 },
        { change: 9, time: NOW - 61 },
      ],
      next: [8, 6, 7, 5],
      rules: g(10, 60, 100, 30, 0),
      expectedReplicasChange: 14,
    },
    {
      name: 'two entries, both actual',
      replicaChange: 5,
      prev: [
        { change: 7, time: NOW - 58 },
        { change: 6, time: NOW - 59 },
      ],
      next: [7, 6, 5],
      rules: g(10, 120, 100, 30, 0),
      expectedReplicasChange: 13,
    },
  ];
  it.each(cases.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    for (const direction of ['up', 'down'] as const) {
      const history = { scaleUpEvents: direction === 'up' ? [...c.prev] : [], scaleDownEvents: direction === 'down' ? [...c.prev] : [] };
      const events = direction === 'up' ? history.scaleUpEvents : history.scaleDownEvents;
      expect(getReplicasChangePerPeriod(NOW, 60, events)).toBe(c.expectedReplicasChange);
      const behavior = c.rules ? { scaleUp: scaleUpRules(c.rules), scaleDown: scaleDownRules(c.rules, 300) } : null;
      storeScaleEvent(history, NOW, behavior, 10, direction === 'up' ? 10 + c.replicaChange : 10 - c.replicaChange);
      expect(events.map((event) => event.change)).toEqual(c.next);
    }
  });
});

describe('horizontal_test.go TestNormalizeDesiredReplicasWithBehavior (v1.34.4): stabilizeRecommendationWithBehaviors', () => {
  const cases: { name: string; recs: Recommendation[]; current: number; desired: number; stabilized: number; stored?: number[]; up?: number; down?: number }[] = [
    { name: 'empty recommendations for scaling down', recs: [], current: 100, desired: 5, stabilized: 5, stored: [5] },
    {
      name: 'simple scale down stabilization',
      recs: [
        { replicas: 4, time: NOW - 2 * MIN },
        { replicas: 5, time: NOW - MIN },
      ],
      current: 100,
      desired: 3,
      stabilized: 5,
      stored: [4, 5, 3],
      down: 3 * MIN,
    },
    {
      name: 'simple scale up stabilization',
      recs: [
        { replicas: 4, time: NOW - 2 * MIN },
        { replicas: 5, time: NOW - MIN },
      ],
      current: 1,
      desired: 7,
      stabilized: 4,
      stored: [4, 5, 7],
      up: 5 * MIN,
    },
    {
      name: 'no scale down stabilization',
      recs: [
        { replicas: 1, time: NOW - 2 * MIN },
        { replicas: 2, time: NOW - MIN },
      ],
      current: 100,
      desired: 3,
      stabilized: 3,
      stored: [1, 2, 3],
      up: 5 * MIN,
    },
    {
      name: 'no scale up stabilization',
      recs: [
        { replicas: 4, time: NOW - 2 * MIN },
        { replicas: 5, time: NOW - MIN },
      ],
      current: 1,
      desired: 3,
      stabilized: 3,
      stored: [4, 5, 3],
      down: 5 * MIN,
    },
    {
      name: 'no scale down stabilization, reuse recommendation element',
      recs: [
        { replicas: 10, time: NOW - 10 * MIN },
        { replicas: 9, time: NOW - 9 * MIN },
      ],
      current: 100,
      desired: 3,
      stabilized: 3,
      stored: [10, 3],
    },
    {
      name: 'no scale up stabilization, reuse recommendation element',
      recs: [
        { replicas: 10, time: NOW - 10 * MIN },
        { replicas: 9, time: NOW - 9 * MIN },
      ],
      current: 1,
      desired: 100,
      stabilized: 100,
      stored: [10, 100],
    },
    {
      name: 'scale down stabilization, reuse one of obsolete recommendation element',
      recs: [
        { replicas: 10, time: NOW - 10 * MIN },
        { replicas: 4, time: NOW - MIN },
        { replicas: 5, time: NOW - 2 * MIN },
        { replicas: 9, time: NOW - 9 * MIN },
      ],
      current: 100,
      desired: 3,
      stabilized: 5,
      stored: [10, 4, 5, 3],
      down: 3 * MIN,
    },
    {
      name: 'scale up stabilization, reuse one of obsolete recommendation element',
      recs: [
        { replicas: 10, time: NOW - 100 * MIN },
        { replicas: 6, time: NOW - MIN },
        { replicas: 5, time: NOW - 2 * MIN },
        { replicas: 9, time: NOW - 3 * MIN },
      ],
      current: 1,
      desired: 100,
      stabilized: 5,
      stored: [100, 6, 5, 9],
      up: 300,
    },
    {
      name: 'scale up and down stabilization, do not scale up when prenormalized rec goes down',
      recs: [
        { replicas: 2, time: NOW - 100 * MIN },
        { replicas: 3, time: NOW - 3 * MIN },
      ],
      current: 2,
      desired: 1,
      stabilized: 2,
      up: 300,
      down: 300,
    },
    {
      name: 'scale up and down stabilization, do not scale down when prenormalized rec goes up',
      recs: [
        { replicas: 2, time: NOW - 100 * MIN },
        { replicas: 1, time: NOW - 3 * MIN },
      ],
      current: 2,
      desired: 3,
      stabilized: 2,
      up: 300,
      down: 300,
    },
  ];
  it.each(cases.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const args = { now: NOW, currentReplicas: c.current, desiredReplicas: c.desired, recommendations: c.recs, scaleUpWindowSeconds: c.up ?? 0, scaleDownWindowSeconds: c.down ?? 0 };
    expect(stabilizeRecommendationWithBehaviors(args).replicas).toBe(c.stabilized);
    if (c.stored) {
      expect(recordRecommendationWithBehaviors(c.recs, { time: NOW, replicas: c.desired }, c.up ?? 0, c.down ?? 0).map((rec) => rec.replicas)).toEqual(c.stored);
    }
  });
});
