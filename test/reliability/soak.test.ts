import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runSoak } from '../../bench/soak.ts';
import { spawnService, type StartedService } from '../helpers/child.ts';

let service: StartedService;
beforeAll(async () => {
  // Load shedding is off: it reacts to event-loop lag, which a busy machine causes on its own (the
  // pod waits to be scheduled: 100–400 ms p99 measured here at a paced 365 req/s with other jobs
  // running), and the soak is about errors, leaks and trends; shedding has its own test.
  service = await spawnService({ SHUTDOWN_DELAY_MS: '0', OVERLOAD_MAX_EVENT_LOOP_DELAY_MS: '0' });
});
afterAll(() => service.process.stop());

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
};

describe('soak (short; `npm run soak` for the long one)', () => {
  it('20 s at 70 % of capacity: no errors, no growth in RSS or in CPU per request', { timeout: 90_000 }, async () => {
    const seconds = 20;
    const sampleEverySeconds = 2;
    // Paced, not open-model: on a machine shared with other jobs the capacity measured at the start
    // can halve a minute later, and an open-model load would then queue and drop requests that say
    // nothing about the service (`npm run soak` is the open-model run for a machine of one's own).
    const result = await runSoak({ url: service.url, pid: service.process.child.pid!, seconds, sampleEverySeconds, pacing: 'paced' });
    const first = result.samples[0]!;
    const last = result.samples.at(-1)!;
    console.info(
      `soak: ${result.requests} requests at ${result.rate}/s (capacity ${Math.round(result.capacityRps)}), ${result.failed} failed; RSS ${first.rssMiB} → ${last.rssMiB} MiB, slope ${result.rssSlopeMiBPerMin.toFixed(1)} MiB/min; ` +
        `lag p99 per sample ${result.samples.map((s) => s.eventLoopLagP99Ms.toFixed(0)).join(' ')} ms`,
    );
    // Every request answered 200 within the client's 5 s timeout: an error, a shed request or a hang would count.
    expect(result.failed).toBe(0);
    // The pacing held the load at or below 70 % of capacity (16 clients: one request of slack each).
    expect(result.requests).toBeGreaterThan(0);
    expect(result.requests).toBeLessThanOrEqual(result.rate * seconds + 16);
    // Sampling is timer-driven, so the count follows from the periods whatever the machine's speed.
    expect(result.samples.length).toBeGreaterThanOrEqual(Math.floor(seconds / sampleEverySeconds) - 2);
    // Warm-up growth is allowed; in the second half memory must not keep climbing.
    expect(result.rssSlopeMiBPerMin).toBeLessThan(30);
    expect(last.rssMiB).toBeLessThan(150);
    // No growth in the work per request: the service's CPU time per response, sample to sample,
    // must not be twice as high in the second half as in the first. CPU time, because the lag and
    // latency of a process on a machine shared with other jobs are mostly its wait to be scheduled
    // (lag p99 swung 24 → 170 ms within one 20 s run here as neighbours came and went), while a
    // leak or a growing structure shows as more CPU per request. The sample at t = 0 covers the
    // capacity probe, not the soak, and is the baseline only.
    const perRequest = result.samples
      .slice(1)
      .map((s, i) => ({ t: s.t, cpuMsPerRequest: (s.cpuMs - result.samples[i]!.cpuMs) / (s.completed - result.samples[i]!.completed) }))
      .filter((s) => s.t <= seconds && Number.isFinite(s.cpuMsPerRequest));
    console.info(`soak: CPU ms per request per sample ${perRequest.map((s) => s.cpuMsPerRequest.toFixed(2)).join(' ')}`);
    const firstHalf = perRequest.filter((s) => s.t <= seconds / 2).map((s) => s.cpuMsPerRequest);
    const secondHalf = perRequest.filter((s) => s.t > seconds / 2).map((s) => s.cpuMsPerRequest);
    expect(firstHalf.length).toBeGreaterThanOrEqual(2);
    expect(secondHalf.length).toBeGreaterThanOrEqual(2);
    expect(median(secondHalf)).toBeLessThan(2 * median(firstHalf));
  });
});
