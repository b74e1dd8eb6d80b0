import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LoadRun } from '../../src/load/engine.ts';
import { ArrivalSchedule, constantRate } from '../../src/load/schedule.ts';
import { spawnService, type StartedService } from '../helpers/child.ts';

let service: StartedService;
beforeAll(async () => {
  service = await spawnService({ SHUTDOWN_DELAY_MS: '0' });
});
afterAll(() => service.process.stop());

/** Probes like kubelet does: a GET with a timeout, every periodMs, until stopped. */
function probe(url: string, periodMs: number, timeoutMs: number) {
  const results: { status: number; ms: number }[] = [];
  const timer = setInterval(async () => {
    const t = performance.now();
    try {
      const response = await request(url, { headersTimeout: timeoutMs, bodyTimeout: timeoutMs, reset: true });
      await response.body.dump();
      results.push({ status: response.statusCode, ms: performance.now() - t });
    } catch {
      results.push({ status: 0, ms: performance.now() - t });
    }
  }, periodMs);
  return { results, stop: () => clearInterval(timer) };
}

describe('overload', () => {
  it('at 3× capacity on a CPU-bound route: sheds with 503 + Retry-After, keeps serving, liveness and readiness stay 200', { timeout: 60_000 }, async () => {
    // /api/work?ms=5 costs 5 ms of CPU on one event loop: capacity is ~200 req/s.
    const capacity = 200;
    const liveness = probe(`${service.url}/healthz`, 250, 3000); // the shipped liveness timeout is 3 s
    const readiness = probe(`${service.url}/readyz`, 250, 2000); // the shipped readiness timeout is 2 s
    const run = new LoadRun({
      targets: [{ url: new URL(`${service.url}/api/work?ms=5`), method: 'GET', headers: {}, weight: 1 }],
      schedule: new ArrivalSchedule(constantRate(capacity * 3, 6)),
      maxInFlight: 5000,
      connections: 400, // many clients, as in front of a real pod
      timeoutMs: 10_000,
    });
    const summary = await run.run();
    liveness.stop();
    readiness.stop();
    const served = summary.counts.status['2xx'];
    const shed = summary.counts.status['5xx'];
    const worstLiveness = Math.max(...liveness.results.map((r) => r.ms));
    console.info(
      `overload at ${capacity * 3} req/s for 6 s: ${served} served (${Math.round(served / 6)}/s), ${shed} shed with 503, ` +
        `timeouts ${summary.counts.errors.timeout}, p50 ${summary.latency.p50.toFixed(0)} ms, p99 ${summary.latency.p99.toFixed(0)} ms; ` +
        `liveness ${liveness.results.filter((r) => r.status === 200).length}/${liveness.results.length} ok (worst ${worstLiveness.toFixed(0)} ms), ` +
        `readiness ${readiness.results.filter((r) => r.status === 200).length}/${readiness.results.length} ok`,
    );
    expect(liveness.results.length).toBeGreaterThan(10);
    expect(liveness.results.every((r) => r.status === 200)).toBe(true);
    expect(readiness.results.every((r) => r.status === 200)).toBe(true);
    expect(shed).toBeGreaterThan(0);
    expect(served).toBeGreaterThan(capacity * 6 * 0.5);
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
  });
});
