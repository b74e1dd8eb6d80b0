import { describe, expect, it } from 'vitest';
import { decidePolicy, type PolicyInput } from '@podscale/operator/decide.ts';
import type { PolicySpec } from '@podscale/operator/policy.ts';
import { specProblems } from '@podscale/operator/policy.ts';

const now = Date.parse('2026-01-10T12:00:00Z');
const query = 'sum(kafka_consumergroup_lag{group="orders"})';
const pods = (n: number) => Array.from({ length: n }, (_, i) => ({ name: `p${i}`, requests: { cpu: '100m' } }));
const perPod = (n: number, value: string) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`p${i}`, value]));

function run(spec: Partial<PolicySpec>, input: Partial<PolicyInput> = {}) {
  return decidePolicy({ spec: { deploymentName: 'd', metrics: [], ...spec }, now, currentReplicas: 2, pods: pods(2), ...input });
}

describe('policy decision: the HPA arithmetic per metric', () => {
  it('Prometheus is External AverageValue: within tolerance 0.1 holds, else ceil(value / threshold)', () => {
    const spec = { metrics: [{ type: 'Prometheus' as const, query, threshold: 1000 }] };
    expect(run(spec, { values: { prometheus: { [query]: 2100 } } })).toMatchObject({ desiredReplicas: 2, write: false }); // ratio 1.05
    expect(run(spec, { values: { prometheus: { [query]: 2300 } } })).toMatchObject({ desiredReplicas: 3, write: true }); // ratio 1.15
    expect(run(spec, { values: { prometheus: { [query]: 5000 } } }).desiredReplicas).toBe(5);
    expect(run(spec, { values: { prometheus: { [query]: 500 } } }).desiredReplicas).toBe(1);
    expect(run(spec, { values: { prometheus: { [query]: 0 } } }).desiredReplicas).toBe(0);
  });

  it('CPU is Utilization of the pods requests; Pods is AverageValue with missing pods as the HPA counts them', () => {
    expect(run({ metrics: [{ type: 'CPU', threshold: 70 }] }, { values: { cpu: perPod(2, '140m') } }).desiredReplicas).toBe(4); // 140 % / 70 % × 2
    expect(run({ metrics: [{ type: 'CPU', threshold: 70 }] }, { values: { cpu: perPod(2, '75m') } }).desiredReplicas).toBe(2); // ratio 1.07: tolerance
    // p1 has no sample: scale-up treats it as 0 → (300 + 0) / 2 = 150 per pod vs 100 → 3.
    expect(run({ metrics: [{ type: 'Pods', name: 'rps', threshold: 100 }] }, { values: { pods: { rps: { p0: '300' } } } }).desiredReplicas).toBe(3);
    // A Pending pod is unready: scale-up with it counted as 0.
    const withPending = [...pods(2), { name: 'p2', phase: 'Pending' as const, requests: { cpu: '100m' } }];
    expect(run({ metrics: [{ type: 'Pods', name: 'rps', threshold: 100 }] }, { currentReplicas: 3, pods: withPending, values: { pods: { rps: { p0: '300', p1: '300' } } } }).desiredReplicas).toBe(6);
  });
});

describe('policy decision: combination', () => {
  const spec: Partial<PolicySpec> = {
    minReplicas: 2,
    maxReplicas: 10,
    metrics: [
      { type: 'CPU', threshold: 70 },
      { type: 'Prometheus', query, threshold: 1000 },
    ],
    schedule: [
      { time: '09:00', replicas: 6 },
      { time: '22:00', replicas: 1 },
    ],
  };

  it('takes the highest proposal, then the schedule floor, then min/max', () => {
    const high = run(spec, { values: { cpu: perPod(2, '140m'), prometheus: { [query]: 8000 } } });
    expect(high).toMatchObject({ desiredReplicas: 8, limit: undefined });
    expect(high.metrics.map((m) => m.proposal)).toEqual([4, 8]);
    expect(run(spec, { values: { cpu: perPod(2, '10m'), prometheus: { [query]: 500 } } })).toMatchObject({ desiredReplicas: 6, limit: 'ScheduleFloor' });
    expect(run(spec, { values: { cpu: perPod(2, '10m'), prometheus: { [query]: 50_000 } } })).toMatchObject({ desiredReplicas: 10, limit: 'TooManyReplicas' });
    const night = Date.parse('2026-01-10T23:00:00Z');
    expect(run(spec, { now: night, currentReplicas: 3, pods: pods(3), values: { cpu: perPod(3, '10m'), prometheus: { [query]: 100 } } })).toMatchObject({ desiredReplicas: 2, limit: 'TooFewReplicas' });
  });

  it('never lowers replicas for a metric it cannot read; the others, the floor and min may raise', () => {
    const errors = { errors: { [query]: 'Prometheus unreachable' } };
    const night = Date.parse('2026-01-10T23:00:00Z');
    const held = run(spec, { now: night, currentReplicas: 5, pods: pods(5), values: { cpu: perPod(5, '10m'), ...errors } });
    expect(held).toMatchObject({ desiredReplicas: 5, write: false, metricErrors: 1 });
    expect(held.reason).toMatch(/not lowered/);
    expect(held.metrics[1]).toMatchObject({ error: 'Prometheus unreachable' });
    expect(run(spec, { now: night, currentReplicas: 2, values: { cpu: perPod(2, '140m'), ...errors } }).desiredReplicas).toBe(4);
    expect(run(spec, { currentReplicas: 3, pods: pods(3), values: { ...errors } }).desiredReplicas).toBe(6); // all unreadable: floor raises
    expect(run({ ...spec, schedule: [] }, { currentReplicas: 1, pods: pods(1), values: { ...errors } }).desiredReplicas).toBe(2); // min raises
    // An empty answer is not zero (KEDA #3065).
    expect(run(spec, { now: night, currentReplicas: 5, pods: pods(5), values: { cpu: perPod(5, '10m'), prometheus: {} } }).desiredReplicas).toBe(5);
  });

  it('a schedule-only policy follows its entries', () => {
    const only = { metrics: [], schedule: spec.schedule };
    expect(run(only, { currentReplicas: 2 }).desiredReplicas).toBe(6);
    expect(run(only, { now: Date.parse('2026-01-10T23:00:00Z'), currentReplicas: 6 }).desiredReplicas).toBe(1);
  });
});

describe('policy decision: cooldown', () => {
  const spec: Partial<PolicySpec> = { cooldownSeconds: 120, metrics: [{ type: 'Prometheus', query, threshold: 1000 }] };
  const values = { prometheus: { [query]: 5000 } };

  it('writes at most once per cooldown, counted from status.lastScaleTime', () => {
    expect(run(spec, { values, lastScaleTime: now - 60_000 })).toMatchObject({ desiredReplicas: 5, write: false, cooldown: { active: true, until: now + 60_000 } });
    expect(run(spec, { values, lastScaleTime: now - 120_000 })).toMatchObject({ write: true, cooldown: { active: false } });
    expect(run(spec, { values })).toMatchObject({ write: true });
  });

  it('raises cooldownSeconds to --min-cooldown', () => {
    expect(run({ ...spec, cooldownSeconds: 10 }, { values, lastScaleTime: now - 60_000 }).cooldown).toMatchObject({ seconds: 120, active: true });
    expect(run({ ...spec, cooldownSeconds: 10 }, { values, lastScaleTime: now - 60_000, minCooldownSeconds: 5 }).cooldown).toMatchObject({ seconds: 10, active: false });
  });

  it('applies a schedule window that started after the last scale at once', () => {
    const scheduled = { ...spec, schedule: [{ time: '11:59', replicas: 8 }] };
    // The window began at 11:59; the last scale was at 11:58:30: the floor goes on at once.
    expect(run(scheduled, { values, lastScaleTime: now - 90_000 })).toMatchObject({ desiredReplicas: 8, write: true, cooldown: { active: true, bypassed: true } });
    // The last scale was within this window already: the cooldown holds.
    expect(run(scheduled, { values, lastScaleTime: now - 30_000 })).toMatchObject({ write: false, cooldown: { bypassed: false } });
  });
});

describe('policy decision: KafkaLag', () => {
  const lagMetric = { type: 'KafkaLag' as const, bootstrapServers: ['127.0.0.1:9092'], consumerGroup: 'orders', topic: 'orders', threshold: 100 };
  const label = 'orders@orders';
  const lag = (value: number, partitions = 12) => ({ kafka: { [label]: { lag: value, partitions } } });

  it('is the same External AverageValue arithmetic as a query: ceil(lag / threshold) outside the tolerance', () => {
    const spec = { metrics: [lagMetric] };
    expect(run(spec, { values: lag(210) })).toMatchObject({ desiredReplicas: 2, write: false }); // ratio 1.05
    expect(run(spec, { values: lag(230) })).toMatchObject({ desiredReplicas: 3, write: true });
    expect(run(spec, { values: lag(750) }).desiredReplicas).toBe(8);
    expect(run(spec, { values: lag(0) }).desiredReplicas).toBe(0);
    // …exactly what a Prometheus query with the same value proposes (one implementation).
    for (const value of [0, 99, 150, 230, 750, 1199]) {
      const viaQuery = run({ metrics: [{ type: 'Prometheus', query, threshold: 100 }] }, { values: { prometheus: { [query]: value } } }).desiredReplicas;
      expect(run(spec, { values: lag(value) }).desiredReplicas, `lag ${value}`).toBe(viaQuery);
    }
    expect(run(spec, { values: lag(750) }).metrics[0]).toMatchObject({ type: 'KafkaLag', name: label, current: '750', threshold: '100', proposal: 8, partitions: 12 });
  });

  it("caps at the topic's partition count, says so, and allowIdleConsumers lifts the cap", () => {
    const capped = run({ metrics: [lagMetric] }, { values: lag(900, 4) });
    expect(capped).toMatchObject({ desiredReplicas: 4, limit: 'PartitionCount' });
    expect(capped.metrics[0]).toMatchObject({ proposal: 4, partitions: 4, limited: expect.stringMatching(/^capped at the topic's 4 partitions \(9 proposed\)/) });
    expect(capped.reason).toMatch(/capped at the topic's 4 partitions/);
    const idle = run({ metrics: [{ ...lagMetric, allowIdleConsumers: true }] }, { values: lag(900, 4) });
    expect(idle).toMatchObject({ desiredReplicas: 9, limit: undefined });
    expect(idle.metrics[0]).toMatchObject({ proposal: 9, partitions: 4, limited: '9 replicas for 4 partitions: 5 get no partition and sit idle (allowIdleConsumers)' });
    // maxReplicas still applies after the cap; another metric above the cap wins as usual.
    expect(run({ metrics: [lagMetric], maxReplicas: 3 }, { values: lag(900, 4) })).toMatchObject({ desiredReplicas: 3, limit: 'TooManyReplicas' });
    expect(run({ metrics: [lagMetric, { type: 'Prometheus', query, threshold: 100 }] }, { values: { ...lag(900, 4), prometheus: { [query]: 600 } } })).toMatchObject({ desiredReplicas: 6, limit: undefined });
  });

  it('holds replicas when the brokers cannot be read', () => {
    const held = run({ metrics: [lagMetric] }, { currentReplicas: 5, pods: pods(5), values: { errors: { [label]: 'Connection error: connect ECONNREFUSED 127.0.0.1:9092' } } });
    expect(held).toMatchObject({ desiredReplicas: 5, write: false, metricErrors: 1 });
    expect(held.reason).toMatch(/could not be read .*ECONNREFUSED/);
  });
});

describe('spec checks (the CRD rules, for explain)', () => {
  it('names each problem', () => {
    expect(specProblems({ deploymentName: 'd', metrics: [{ type: 'KafkaLag', threshold: 1 }] })).toEqual([
      'metrics[0]: a KafkaLag metric needs bootstrapServers: a non-empty list of host:port',
      'metrics[0]: a KafkaLag metric needs a consumerGroup',
      'metrics[0]: a KafkaLag metric needs a topic (at most 249 letters, digits, ".", "_" or "-")',
    ]);
    const kafka = { type: 'KafkaLag', bootstrapServers: ['kafka-0.kafka:9092', '[::1]:9093'], consumerGroup: 'orders', topic: 'orders.v1', threshold: 100 };
    expect(specProblems({ deploymentName: 'd', metrics: [kafka] })).toEqual([]);
    expect(specProblems({ deploymentName: 'd', metrics: [{ ...kafka, bootstrapServers: [] }] })).toEqual(['metrics[0]: a KafkaLag metric needs bootstrapServers: a non-empty list of host:port']);
    expect(specProblems({ deploymentName: 'd', metrics: [{ ...kafka, bootstrapServers: ['kafka:9092', 'kafka'] }] })).toEqual(['metrics[0]: bootstrapServers must each be host:port']);
    expect(specProblems({ deploymentName: 'd', metrics: [{ ...kafka, threshold: 0 }] })).toEqual(['metrics[0]: threshold must be greater than 0']);
    expect(specProblems({ deploymentName: 'd', metrics: [{ type: 'Memory', threshold: 1 }] })).toEqual(['metrics[0]: unknown metric type: must be one of CPU, Pods, Prometheus, KafkaLag']);
    expect(specProblems({ deploymentName: 'd', metrics: [{ type: 'CPU', threshold: 0 }] })).toEqual(['metrics[0]: threshold must be greater than 0']);
    expect(specProblems({ deploymentName: 'd', metrics: [{ type: 'Prometheus', threshold: 1 }] })).toEqual(['metrics[0]: a Prometheus metric needs a query']);
    expect(specProblems({ deploymentName: 'd', metrics: [], schedule: [{ time: '24:00', replicas: 1 }] })).toEqual(['schedule[0]: time must be 24-hour HH:MM from 00:00 to 23:59']);
    expect(specProblems({ deploymentName: 'd', metrics: [], minReplicas: 5, maxReplicas: 2 })).toContain('minReplicas must not be greater than maxReplicas');
    expect(specProblems({ deploymentName: 'd', metrics: [], schedule: [{ time: '08:00', replicas: 1 }], timeZone: 'Mars/Olympus' })).toEqual([expect.stringMatching(/unknown time zone/)]);
    expect(specProblems({ deploymentName: 'd' })).toEqual(['a policy needs at least one metric or one schedule entry']);
    expect(specProblems({ deploymentName: 'd', schedule: [{ time: '08:00', replicas: 1 }] })).toEqual([]);
  });
});
