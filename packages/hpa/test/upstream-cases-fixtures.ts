/**
 * What the transcribed upstream cases share: upstream's test settings (a 2 min CPU initialization
 * period, a 10 s readiness delay, pods started an hour before `now`, a 0.1 tolerance) and the
 * builders of a replica-calculator case and of a behavior (normalization) case.
 */
import type { History, MetricSpec, PodInfo, Situation } from '@podscale/hpa/types.ts';

export const NOW = 10_000;
export const HOUR_AGO = NOW - 3600;

export const cpu = (averageUtilization: number): MetricSpec => ({ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization } } });
export const podsMetric = (averageValue: string): MetricSpec => ({ type: 'Pods', pods: { metric: { name: 'qps' }, target: { type: 'AverageValue', averageValue } } });

export function pods(count: number, overrides: Partial<PodInfo>[] = [], request = '1'): PodInfo[] {
  return Array.from({ length: count }, (_, i) => ({ name: `p${i}`, startTimeS: HOUR_AGO, readySinceS: HOUR_AGO, requests: { cpu: request }, ...overrides[i] }));
}

export function milliMap(values: number[]): Record<string, string> {
  return Object.fromEntries(values.map((value, i) => [`p${i}`, `${value}m`]));
}

/** A replica-calculator case: no behavior limits in the way (min 1, max 1000, policies wide open). */
export function calc(situation: Omit<Situation, 'now' | 'spec'> & { metric: MetricSpec }): Situation {
  const { metric, ...rest } = situation;
  return {
    spec: { minReplicas: 1, maxReplicas: 1000, metrics: [metric], behavior: { scaleUp: { policies: [{ type: 'Pods', value: 1000, periodSeconds: 15 }] }, scaleDown: { stabilizationWindowSeconds: 0 } } },
    now: NOW,
    cpuInitializationPeriod: 120,
    delayOfInitialReadinessStatus: 10,
    ...rest,
  };
}

export interface Case {
  source: string;
  situation: Situation;
  desired: number;
  current?: string | null;
}

/** horizontal_test.go normalization cases: a recommendation pushed through behavior policies. */
export function behaviorCase(args: {
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

export const pol = (type: 'Pods' | 'Percent', value: number, periodSeconds: number) => ({ type, value, periodSeconds });
