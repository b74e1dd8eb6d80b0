import { describe, expect, it } from 'vitest';
import { backlogStages, scenarioStages } from '@podscale/cli/lab/scenarios.ts';
import { deletionOrder } from '@podscale/cli/lab/deployment.ts';
import { loadLabKit } from '@podscale/cli/lab/kit.ts';
import type { MetricProposal } from '@podscale/hpa/types.ts';
import type { SyncRecord } from '@podscale/cli/lab/controller.ts';
import { applyOverrides } from '@podscale/cli/lab/lab.ts';
import type { LabPod } from '@podscale/cli/lab/pod.ts';
import { extrapolatedRate } from '@podscale/cli/lab/rates.ts';
import { scalingStory } from '@podscale/cli/lab/story.ts';
import { ArrivalSchedule, parseStages } from '@podscale/cli/load/schedule.ts';

describe('the lab reads the shipped kit', () => {
  it('takes replicas, CPU request, probes, strategy, grace period, HPA and adapter rule from k8s/', () => {
    const kit = loadLabKit();
    expect(kit).toMatchObject({ replicas: 2, cpuRequestMilli: 100, maxSurge: 1, maxUnavailable: 0, terminationGracePeriodSeconds: 30 });
    expect(kit.probes.readiness).toMatchObject({ httpGet: { path: '/readyz', port: 'http' }, periodSeconds: 2, failureThreshold: 2, timeoutSeconds: 2 });
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

  it('keeps only the metrics a test is about, and refuses a name the HPA does not have', () => {
    const { spec, described } = applyOverrides(loadLabKit().hpa, { onlyMetrics: ['cpu'] });
    expect(spec.metrics).toEqual([{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 60 } } }]);
    expect(described).toEqual(['metrics cpu, http_requests_per_second → cpu']);
    expect(() => applyOverrides(loadLabKit().hpa, { onlyMetrics: ['memory'] })).toThrow(/no metric memory \(it has cpu, http_requests_per_second\)/);
  });
});

describe('scenarios', () => {
  it.each(['ramp', 'spike', 'steady'] as const)('%s is a valid load shape sized from the QPS target', (scenario) => {
    const stages = parseStages(scenarioStages(scenario, 100));
    expect(Math.max(...stages.map((s) => s.to))).toBeGreaterThanOrEqual(300);
  });

  it("backlog's burst is twice what the partitions' workers carry at the threshold, so the policy is capped", () => {
    const schedule = new ArrivalSchedule(parseStages(backlogStages(200, 6)));
    expect(schedule.totalRequests).toBe(2 * 200 * 6);
    expect(Math.ceil(schedule.totalRequests / 200)).toBeGreaterThan(6);
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

describe('the story of a lab run, read from its decisions', () => {
  const proposal = (name: 'cpu' | 'http_requests_per_second', current: string, target: string, proposal: number | null): MetricProposal => ({ type: name === 'cpu' ? 'Resource' : 'Pods', name, current, target, proposal });
  const sync = (t: number, from: number, to: number, metrics: MetricProposal[], reason = 'r'): SyncRecord => ({
    t,
    from,
    decision: { desiredReplicas: to, metrics, reason, recommendation: Math.max(...metrics.map((m) => m.proposal ?? 0)) },
    pods: [],
  });

  it('names the metric that proposed each scale-up, with the values behind it', () => {
    const story = scalingStory([
      sync(2, 2, 2, [proposal('cpu', '20', '60', 1), proposal('http_requests_per_second', '50', '100', 1)]),
      sync(4, 2, 3, [proposal('cpu', '95', '60', 3), proposal('http_requests_per_second', '130500m', '100', 3)]),
      sync(6, 3, 5, [proposal('cpu', '150', '60', 5), proposal('http_requests_per_second', '120', '100', 4)]),
      sync(8, 5, 3, [proposal('cpu', '10', '60', 1), proposal('http_requests_per_second', '40', '100', 2)]),
    ]);
    expect(story).toEqual([
      'what drove the replicas (from the HPA decisions):',
      '     4s  2 → 3  cpu 95% vs 60% and http_requests_per_second 130.5 vs 100 proposed 3',
      '     6s  3 → 5  cpu 150% vs 60% proposed 5 (http_requests_per_second 120 vs 100 proposed 4)',
      '     8s  5 → 3  all metrics below target: cpu 10% vs 60% proposed 1, http_requests_per_second 40 vs 100 proposed 2',
      'scale-ups driven by cpu and http_requests_per_second ×1, cpu ×1; 1 scale-down(s)',
    ]);
  });

  it('says so when nothing changed, with the last reason', () => {
    expect(scalingStory([sync(2, 2, 2, [proposal('http_requests_per_second', '10', '100', 1)], 'no change: it is quiet')])).toEqual(['replicas stayed at 2; last decision: no change: it is quiet']);
  });
});
