import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LoadRun } from '@podscale/cli/load/engine.ts';
import { ArrivalSchedule, constantRate } from '@podscale/cli/load/schedule.ts';
import { closedModelCapacity } from '../../bench/soak.ts';
import { loadConfig } from '@podscale/service/config.ts';
import { loadLabKit } from '@podscale/cli/lab/kit.ts';
import { spawnService, type StartedService } from '../helpers/child.ts';
import { probeTiming } from '@podscale/kube-local/probe.ts';

let service: StartedService;
beforeAll(async () => {
  // The shipped threshold (the test helpers turn shedding off for every other test).
  service = await spawnService({ SHUTDOWN_DELAY_MS: '0', OVERLOAD_MAX_EVENT_LOOP_DELAY_MS: String(loadConfig({ POD_NAME: 'overload' }).overloadMaxEventLoopDelayMs) });
});
afterAll(() => service.process.stop());

const PROBER = fileURLToPath(new URL('../fixtures/prober.mjs', import.meta.url));

interface ProbeResult {
  /** When the probe was sent (the prober's clock, ms). */
  t: number;
  status: number;
  ms: number;
}

/** Probes like kubelet does, from a process of its own: a GET with a timeout, every periodMs. */
async function probe(url: string, periodMs: number, timeoutMs: number, durationMs: number): Promise<ProbeResult[]> {
  const { stdout } = await promisify(execFile)(process.execPath, [PROBER, url, String(periodMs), String(timeoutMs), String(durationMs)]);
  return JSON.parse(stdout) as ProbeResult[];
}

/**
 * How long the probe kept failing, at its longest: from the first to the last send of a run of
 * consecutive failures (ms). Kubelet acts after failureThreshold failures in a row at its period,
 * so only a stretch of at least (failureThreshold - 1) periods could make it act.
 */
function longestFailureStretchMs(results: ProbeResult[]): number {
  const bySend = [...results].sort((a, b) => a.t - b.t);
  let longest = 0;
  let runStart: number | undefined;
  for (const result of bySend) {
    if (result.status === 200) runStart = undefined;
    else {
      runStart ??= result.t;
      longest = Math.max(longest, result.t - runStart);
    }
  }
  return longest;
}

describe('overload', () => {
  it('at 3× capacity on a CPU-bound route: sheds with 503 + Retry-After, keeps serving, liveness and readiness stay 200', { timeout: 60_000 }, async () => {
    // /api/work?ms=5 costs 5 ms on one event loop: ~200 req/s on an idle machine, less on a busy
    // one. Capacity is measured here, in the same run, and everything below is relative to it.
    const route = `${service.url}/api/work?ms=5`;
    const capacity = await closedModelCapacity(route, 2);
    const seconds = 6;
    const periodMs = 250;
    const kitProbes = loadLabKit().probes;
    const [live, ready] = [probeTiming(kitProbes.liveness), probeTiming(kitProbes.readiness)];
    const probing = Promise.all([
      probe(`${service.url}/healthz`, periodMs, live.timeoutMs, seconds * 1000),
      probe(`${service.url}/readyz`, periodMs, ready.timeoutMs, seconds * 1000),
    ]);
    const run = new LoadRun({
      targets: [{ url: new URL(route), method: 'GET', headers: {}, weight: 1 }],
      schedule: new ArrivalSchedule(constantRate(Math.round(capacity * 3), seconds)),
      maxInFlight: 5000,
      connections: 400, // many clients, as in front of a real pod
      timeoutMs: 10_000,
    });
    const summary = await run.run();
    const [liveness, readiness] = await probing;
    const served = summary.counts.status['2xx'];
    const shed = summary.counts.status['5xx'];
    const worstLiveness = Math.max(...liveness.map((r) => r.ms));
    console.info(
      `overload at 3 × ${Math.round(capacity)} req/s for ${seconds} s: ${served} served (${Math.round(served / seconds)}/s), ${shed} shed with 503, ` +
        `timeouts ${summary.counts.errors.timeout}, p50 ${summary.latency.p50.toFixed(0)} ms, p99 ${summary.latency.p99.toFixed(0)} ms; ` +
        `liveness ${liveness.filter((r) => r.status === 200).length}/${liveness.length} ok (worst ${worstLiveness.toFixed(0)} ms), ` +
        `readiness ${readiness.filter((r) => r.status === 200).length}/${readiness.length} ok (worst ${Math.max(...readiness.map((r) => r.ms)).toFixed(0)} ms)`,
    );
    expect(liveness.length).toBeGreaterThanOrEqual((seconds * 1000) / periodMs - 1);
    // A probe fails when it is not answered 200 within the shipped timeout. Kubelet marks a pod
    // unready (or restarts it) only after failureThreshold failures in a row at its period: ours
    // probe every 250 ms, so kubelet would have acted only if a stretch of failures lasted
    // (failureThreshold - 1) periods (readiness: 2 s; liveness: 20 s). Counting 250 ms probes
    // against the threshold instead failed on two timeouts 250 ms apart under a CPU burner.
    const stretch = { liveness: longestFailureStretchMs(liveness), readiness: longestFailureStretchMs(readiness) };
    console.info(`longest failing stretch: liveness ${Math.round(stretch.liveness)} ms, readiness ${Math.round(stretch.readiness)} ms`);
    expect(stretch.liveness).toBeLessThan((live.failureThreshold - 1) * live.periodMs);
    expect(stretch.readiness).toBeLessThan((ready.failureThreshold - 1) * ready.periodMs);
    expect(shed).toBeGreaterThan(0);
    // Shedding keeps the service doing useful work: at least half its capacity is still served.
    expect(served).toBeGreaterThan(capacity * seconds * 0.5);
    expect(summary.counts.errors.refused + summary.counts.errors.reset).toBe(0);
  });

  it('a shed request gets 503 JSON with Retry-After, while the probes answer', { timeout: 30_000 }, async () => {
    // A request that blocks the loop for a second pushes the measured lag over the threshold.
    let shed: Awaited<ReturnType<typeof request>> | undefined;
    for (let i = 0; i < 10 && !shed; i += 1) {
      const response = await request(`${service.url}/api/work?ms=1000`);
      if (response.statusCode === 503) shed = response;
      else await response.body.dump();
    }
    expect(shed).toBeDefined();
    expect(shed!.headers['retry-after']).toBe('1');
    expect(await shed!.body.json()).toMatchObject({ statusCode: 503, code: 'PODSCALE_OVERLOADED', message: expect.stringMatching(/overloaded/) });
    expect((await request(`${service.url}/healthz`)).statusCode).toBe(200);
    // Shed requests are counted under their route: the HPA sees the load the pod turned away.
    const scrape = await (await request(`${service.url}/metrics`)).body.text();
    expect(scrape).toMatch(/^http_requests_total\{method="GET",path="\/api\/work",code="503"\} [1-9]/m);
  });
});
