import { afterEach, describe, expect, it } from 'vitest';
import { loadLabKit } from '../../src/lab/kit.ts';
import { Lab, type LabOptions } from '../../src/lab/lab.ts';
import { until } from '../../src/lab/net.ts';
import { EmbeddedRateSource } from '../../src/lab/rates.ts';
import { LoadRun, type RunSummary } from '../../src/load/engine.ts';
import { ArrivalSchedule, parseStages } from '../../src/load/schedule.ts';
import { failures } from '../../src/load/stats.ts';

// Short periods so the tests take seconds, not minutes; everything else is as shipped.
const FAST: Partial<LabOptions> = { syncPeriodS: 2, scrapeIntervalS: 1, rateWindowS: 4, propagationDelayMs: 300, podEnv: { SHUTDOWN_DELAY_MS: '600' } };

const labs: Lab[] = [];
afterEach(async () => {
  await Promise.all(labs.splice(0).map((lab) => lab.stop()));
});

async function startLab(options: Partial<LabOptions> = {}): Promise<Lab> {
  const lab = await Lab.start({ kit: loadLabKit(), ...FAST, ...options });
  labs.push(lab);
  await lab.waitForReady(2);
  return lab;
}

function load(lab: Lab, path: string, stages: string, recycleEvery = 20): { run: LoadRun; done: Promise<RunSummary> } {
  const run = new LoadRun({
    targets: [{ url: new URL(`${lab.serviceUrl}${path}`), method: 'GET', headers: {}, weight: 1 }],
    schedule: new ArrivalSchedule(parseStages(stages)),
    maxInFlight: 2000,
    connections: 16,
    timeoutMs: 5000,
    maxRequestsPerConnection: recycleEvery,
  });
  return { run, done: run.run() };
}

const replicaTimeline = (lab: Lab) => lab.controller.syncs.map((s) => `${s.t.toFixed(0)}s:${s.from}→${s.decision.desiredReplicas}`).join(' ');

describe('podscale lab, end to end', () => {
  it('2 pods at 3× the QPS target scale up to 6, and scale down only after the stabilization window', { timeout: 120_000 }, async () => {
    const lab = await startLab({ hpa: { qpsTarget: 20, scaleDownWindowS: 8 } });
    const { done } = load(lab, '/api/delay?ms=10', '1ms:120,16s:120');
    await until(async () => lab.deployment.desired === 6, { timeoutMs: 30_000, what: 'the scale-up to 6' });
    const scaledUpAt = lab.controller.syncs.find((s) => s.decision.desiredReplicas === 6)!;
    expect(scaledUpAt.decision.reason).toMatch(/http_requests_per_second .* above target/);
    const summary = await done;
    expect(failures(summary.counts)).toBe(0);
    // Every pod of the 6 served traffic once connections recycled through the Service.
    expect(Object.keys(summary.counts.pods).length).toBe(6);

    const loadEnded = lab.clock();
    await until(async () => lab.deployment.desired < 6, { timeoutMs: 40_000, what: 'the scale-down' });
    const syncs = lab.controller.syncs;
    const lastHigh = syncs.filter((s) => s.decision.recommendation === 6 || (s.decision.recommendation ?? 0) > 6).at(-1)!;
    const firstDown = syncs.find((s) => s.t > loadEnded && s.decision.desiredReplicas < 6)!;
    console.info(`lab replicas: ${replicaTimeline(lab)}`);
    expect(firstDown.t - lastHigh.t).toBeGreaterThanOrEqual(8 - 0.01);
    expect(syncs.some((s) => s.t > loadEnded && s.decision.reason.includes('held at 6 by the scaleDown stabilization window'))).toBe(true);
  });

  it('a CPU-bound load scales on CPU', { timeout: 120_000 }, async () => {
    const lab = await startLab({ hpa: { qpsTarget: 10_000 } });
    // 30 req/s × 10 ms of CPU = 300 ms/s over two pods with 100m requests: ~150 % utilization.
    const { done } = load(lab, '/api/work?ms=10', '1ms:30,14s:30');
    await until(async () => lab.deployment.desired > 2, { timeoutMs: 30_000, what: 'a CPU scale-up' });
    const decision = lab.controller.syncs.find((s) => s.decision.desiredReplicas > 2)!.decision;
    expect(decision.reason).toMatch(/^cpu utilization \d+% vs target 60%: above target/);
    expect(Number(decision.metrics.find((m) => m.name === 'cpu')!.current)).toBeGreaterThan(90);
    await done;
  });

  it('without Prometheus, the embedded scraper reaches the same decision', { timeout: 120_000 }, async () => {
    const lab = await startLab({ prometheus: 'off', hpa: { qpsTarget: 20 } });
    expect(lab.rates.description).toMatch(/embedded/);
    const { done } = load(lab, '/api/delay?ms=10', '1ms:120,12s:120');
    await until(async () => lab.deployment.desired === 6, { timeoutMs: 30_000, what: 'the scale-up to 6' });
    expect(failures((await done).counts)).toBe(0);
  });

  it('Prometheus and the embedded scraper agree on per-pod rates within 10 %', { timeout: 120_000 }, async () => {
    // A 10 s window (10 scrapes) and connections recycled every 5 requests, so that both sources
    // read a steady per-pod rate rather than the phase of connection-level bursts.
    const lab = await startLab({ hpa: { qpsTarget: 10_000 }, rateWindowS: 10 });
    const embedded = new EmbeddedRateSource({ rule: lab.options.kit.adapterRule, series: 'http_requests_total', namespace: 'podscale', scrapeIntervalS: 1, windowS: 10 });
    try {
      await embedded.setTargets(lab.deployment.pods.map((pod) => ({ pod: pod.name, port: pod.port })));
      const { done } = load(lab, '/api/delay?ms=5', '1ms:80,18s:80', 5);
      await new Promise((resolve) => setTimeout(resolve, 12_000));
      const names = lab.deployment.pods.map((pod) => pod.name);
      // Three readings a second apart, averaged per pod: each source samples at its own phase.
      const fromPrometheus = new Map<string, number>();
      const fromEmbedded = new Map<string, number>();
      for (let i = 0; i < 3; i += 1) {
        const [p, e] = await Promise.all([lab.rates.perPodRate(names), embedded.perPodRate(names)]);
        for (const name of names) {
          fromPrometheus.set(name, (fromPrometheus.get(name) ?? 0) + p.get(name)! / 3);
          fromEmbedded.set(name, (fromEmbedded.get(name) ?? 0) + e.get(name)! / 3);
        }
        await new Promise((resolve) => setTimeout(resolve, 1000));
      }
      console.info(`per-pod rate, Prometheus vs embedded: ${JSON.stringify(Object.fromEntries(names.map((n) => [n, [fromPrometheus.get(n)?.toFixed(1), fromEmbedded.get(n)?.toFixed(1)]])))}`);
      for (const name of names) {
        const a = fromPrometheus.get(name)!;
        const b = fromEmbedded.get(name)!;
        expect(a).toBeGreaterThan(10);
        expect(Math.abs(a - b) / a).toBeLessThan(0.1);
      }
      await done;
    } finally {
      await embedded.stop();
    }
  });

  it('a rolling update under load loses no request', { timeout: 120_000 }, async () => {
    // The shipped drain (SHUTDOWN_DELAY_MS 5 s) against a 2 s endpoint propagation delay.
    const lab = await startLab({ propagationDelayMs: 2000, podEnv: {} });
    const oldPods = lab.deployment.pods.map((pod) => pod.name);
    const { run, done } = load(lab, '/api/delay?ms=20', '1ms:100,120s:100');
    await new Promise((resolve) => setTimeout(resolve, 2000));
    await lab.deployment.rollout();
    await until(async () => lab.deployment.pods.every((pod) => !oldPods.includes(pod.name)), { timeoutMs: 60_000, what: 'old pods to exit' });
    await new Promise((resolve) => setTimeout(resolve, 1000));
    run.stop();
    const summary = await done;
    console.info(`rollout under load: ${summary.counts.offered} requests, ${failures(summary.counts)} failed, pods served: ${Object.keys(summary.counts.pods).length}`);
    expect(summary.counts.offered).toBeGreaterThan(1000);
    expect(failures(summary.counts)).toBe(0);
    expect(lab.deployment.pods.map((pod) => pod.revision)).toEqual([2, 2]);
  });

  it('a SIGKILLed pod is replaced, and the failures while it was gone are reported', { timeout: 120_000 }, async () => {
    const lab = await startLab({ propagationDelayMs: 2000 });
    const { run, done } = load(lab, '/api/delay?ms=50', '1ms:100,60s:100', 10);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const victim = lab.deployment.pods[0]!;
    victim.kill('SIGKILL');
    await until(async () => lab.deployment.crashes === 1 && lab.deployment.readyCount === 2 && !lab.deployment.pods.includes(victim), { timeoutMs: 30_000, what: 'the replacement pod' });
    await new Promise((resolve) => setTimeout(resolve, 2500));
    run.stop();
    const summary = await done;
    const lost = failures(summary.counts);
    console.info(`SIGKILL: ${lost} failed of ${summary.counts.offered} (${JSON.stringify(summary.counts.errors)})`);
    expect(lost).toBeGreaterThan(0);
    expect(lab.deployment.events.some((e) => e.event === 'crashed' && e.pod === victim.name)).toBe(true);
  });
});
