import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runSoak } from '../../bench/soak.ts';
import { spawnService, type StartedService } from '../helpers/child.ts';

let service: StartedService;
beforeAll(async () => {
  service = await spawnService({ SHUTDOWN_DELAY_MS: '0' });
});
afterAll(() => service.process.stop());

describe('soak (short; `npm run soak` for the long one)', () => {
  it('20 s at 70 % of capacity: no errors, no RSS or event-loop-lag growth trend', { timeout: 90_000 }, async () => {
    const result = await runSoak({ url: service.url, pid: service.process.child.pid!, seconds: 20, sampleEverySeconds: 2 });
    const first = result.samples[0]!;
    const last = result.samples.at(-1)!;
    console.info(`soak: ${result.requests} requests at ${result.rate}/s (capacity ${Math.round(result.capacityRps)}), ${result.failed} failed; RSS ${first.rssMiB} → ${last.rssMiB} MiB, slope ${result.rssSlopeMiBPerMin.toFixed(1)} MiB/min; lag p99 slope ${result.lagSlopeMsPerMin.toFixed(2)} ms/min`);
    expect(result.failed).toBe(0);
    expect(result.samples.length).toBeGreaterThanOrEqual(8);
    // Warm-up growth is allowed; in the second half memory must not keep climbing.
    expect(result.rssSlopeMiBPerMin).toBeLessThan(30);
    expect(last.rssMiB).toBeLessThan(150);
    expect(last.eventLoopLagP99Ms).toBeLessThan(100);
  });
});
