import { describe, expect, it } from 'vitest';
import { scenarioStages } from '../../src/cli/lab-command.ts';
import { deletionOrder } from '../../src/lab/deployment.ts';
import { loadLabKit } from '../../src/lab/kit.ts';
import { applyOverrides } from '../../src/lab/lab.ts';
import type { LabPod } from '../../src/lab/pod.ts';
import { extrapolatedRate } from '../../src/lab/rates.ts';
import { parseStages } from '../../src/load/schedule.ts';

describe('the lab reads the shipped kit', () => {
  it('takes replicas, CPU request, probes, strategy, grace period, HPA and adapter rule from k8s/', () => {
    const kit = loadLabKit();
    expect(kit).toMatchObject({ replicas: 2, cpuRequestMilli: 100, maxSurge: 1, maxUnavailable: 0, terminationGracePeriodSeconds: 30 });
    expect(kit.probes.readiness).toMatchObject({ path: '/readyz', periodSeconds: 2, failureThreshold: 2, timeoutSeconds: 2 });
    expect(kit.hpa).toMatchObject({ minReplicas: 2, maxReplicas: 10 });
    expect(kit.adapterRule.metricsQuery).toContain('rate(<<.Series>>{<<.LabelMatchers>>}[1m])');
    expect(kit.env.SHUTDOWN_DELAY_MS).toBe('5000');
  });

  it('describes every override it applies to the HPA', () => {
    const { spec, described } = applyOverrides(loadLabKit().hpa, { qpsTarget: 20, cpuTarget: 50, minReplicas: 1, maxReplicas: 4, scaleDownWindowS: 30 });
    expect(described).toEqual([
      'minReplicas 2 → 1',
      'maxReplicas 10 → 4',
      'cpu utilization target 60% → 50%',
      'http_requests_per_second target 100 → 20',
      'scaleDown stabilization 300s → 30s',
    ]);
    expect(spec.behavior?.scaleDown?.policies).toEqual(loadLabKit().hpa.behavior?.scaleDown?.policies);
  });
});

describe('scenarios', () => {
  it.each(['ramp', 'spike', 'steady'] as const)('%s is a valid load shape sized from the QPS target', (scenario) => {
    const stages = parseStages(scenarioStages(scenario, 100));
    expect(Math.max(...stages.map((s) => s.to))).toBeGreaterThanOrEqual(300);
  });
});

describe('ReplicaSet deletion order', () => {
  const pod = (name: string, fields: Partial<LabPod>) => ({ name, phase: 'Running', ready: true, readySince: 0, startTime: 0, ...fields }) as LabPod;
  it('removes pending pods first, then not-ready ones, then the most recently ready', () => {
    const order = deletionOrder([
      pod('old-ready', { readySince: 10 }),
      pod('new-ready', { readySince: 50 }),
      pod('not-ready', { ready: false, readySince: 5 }),
      pod('pending', { phase: 'Pending', ready: null }),
    ]).map((p) => p.name);
    expect(order).toEqual(['pending', 'not-ready', 'new-ready', 'old-ready']);
  });
});

describe("the embedded scraper's rate()", () => {
  it('matches Prometheus extrapolation on a steady counter', () => {
    // 10 req/s, scraped every second, window 4 s: samples at 1.5, 2.5, 3.5, 4.5 within (0.5, 4.5].
    const samples = [0.5, 1.5, 2.5, 3.5, 4.5].map((t) => ({ t, v: 100 + t * 10 }));
    expect(extrapolatedRate(samples, 0.5, 4.5)).toBeCloseTo(10, 6);
  });

  it('reads a series younger than the window low, as Prometheus does', () => {
    const samples = [3, 4, 5].map((t) => ({ t, v: (t - 2) * 10 }));
    expect(extrapolatedRate(samples, 1, 5)).toBeLessThan(10);
  });

  it('needs two samples', () => {
    expect(extrapolatedRate([{ t: 1, v: 5 }], 0, 4)).toBeUndefined();
  });
});
