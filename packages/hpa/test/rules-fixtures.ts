/**
 * What the rule tests (replica-calculator-rules.test.ts, horizontal-rules.test.ts) share: pods
 * started long before `now`, per-pod samples, and a sync whose policies are wide open, so a test
 * states only the rule it is about.
 */
import type { KubernetesVersion } from '@podscale/hpa/gates.ts';
import type { CalculatorContext, PodMetrics } from '@podscale/hpa/replica-calculator.ts';
import type { MetricSpec, PodInfo, Situation } from '@podscale/hpa/types.ts';

export const NOW = 100_000;
export const LONG_AGO = NOW - 3600;

export const cpu = (averageUtilization: number): MetricSpec => ({ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization } } });
export const qps = (averageValue: string): MetricSpec => ({ type: 'Pods', pods: { metric: { name: 'qps' }, target: { type: 'AverageValue', averageValue } } });
export const external = (target: { type: 'Value' | 'AverageValue'; value?: string; averageValue?: string }): MetricSpec => ({ type: 'External', external: { metric: { name: 'lag' }, target } });

export function pods(count: number, overrides: Partial<PodInfo>[] = []): PodInfo[] {
  return Array.from({ length: count }, (_, i) => ({ name: `p${i}`, startTimeS: LONG_AGO, readySinceS: LONG_AGO, requests: { cpu: '1' }, ...overrides[i] }));
}

/** milli-values per pod name; `undefined` leaves the pod without a sample */
export function samples(values: (number | undefined)[]): Record<string, string> {
  return Object.fromEntries(values.flatMap((value, i) => (value === undefined ? [] : [[`p${i}`, `${value}m`]])));
}

/** A sync with the policies wide open and no stabilization, so the proposal is what the HPA sets. */
export function sync(args: Omit<Situation, 'now' | 'spec'> & { metrics_: MetricSpec[]; min?: number; max?: number; behavior?: Situation['spec']['behavior'] }): Situation {
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

export function ctx(podList: PodInfo[], tolerance = 0.1, kubernetesVersion: KubernetesVersion = '1.37'): CalculatorContext {
  return { pods: podList, now: NOW, tolerances: { scaleUp: tolerance, scaleDown: tolerance }, cpuInitializationPeriod: 300, delayOfInitialReadinessStatus: 30, kubernetesVersion };
}

export const metricsOf = (values: (number | undefined)[]): PodMetrics =>
  new Map(values.flatMap((value, i) => (value === undefined ? [] : [[`p${i}`, { value, timestamp: NOW, window: 60 }] as const])));
