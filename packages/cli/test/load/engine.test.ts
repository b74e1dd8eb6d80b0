import { Agent, request } from 'undici';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { LoadRun, type IntervalReport, type LoadOptions } from '@podscale/cli/load/engine.ts';
import { ArrivalSchedule, constantRate, parseStages } from '@podscale/cli/load/schedule.ts';
import { freePort, spawnService, type StartedService } from '../../../../test/helpers/child.ts';
import { httpServer, resettingServer, type TestServer } from '../../../../test/helpers/servers.ts';

let service: StartedService;
beforeAll(async () => {
  service = await spawnService({ SHUTDOWN_DELAY_MS: '0' });
});
afterAll(() => service.process.stop());

const servers: TestServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

function load(url: string, overrides: Partial<LoadOptions> & { rate?: number; seconds?: number } = {}) {
  const { rate = 100, seconds = 1, ...options } = overrides;
  const run = new LoadRun({
    targets: [{ url: new URL(url), method: 'GET', headers: {}, weight: 1 }],
    schedule: new ArrivalSchedule(constantRate(rate, seconds)),
    maxInFlight: 1000,
    connections: 32,
    timeoutMs: 5000,
    ...options,
  });
  const intervals: IntervalReport[] = [];
  run.on('interval', (report) => intervals.push(report));
  return { run, intervals };
}

describe('arrival rate', () => {
  it('achieves 500 rps for 5 s against the real service within ±2 %', async () => {
    const { run } = load(`${service.url}/api/delay?ms=2`, { rate: 500, seconds: 5 });
    const summary = await run.run();
    console.info(`rate accuracy: offered ${summary.offeredRate}/s, achieved ${summary.achievedRate}/s, errors ${summary.errorRate}`);
    expect(summary.counts.offered).toBe(2500);
    expect(summary.achievedRate).toBeGreaterThanOrEqual(490);
    expect(summary.achievedRate).toBeLessThanOrEqual(510);
    expect(summary.errorRate).toBe(0);
    expect(summary.counts.pods).toEqual({ 'child-pod': 2500 });
  });

  it('follows a staged ramp second by second', async () => {
    const stages = parseStages('2s:200,2s:200,2s:0');
    const { run, intervals } = load(`${service.url}/`, { schedule: new ArrivalSchedule(stages), intervalMs: 1000 });
    const summary = await run.run();
    const schedule = new ArrivalSchedule(stages);
    // Each full interval offered what the schedule's integral says (0→200 ramp: 50, 150; flat: 200, 200; down: 150, 50).
    for (const interval of intervals.filter((i) => i.durationS > 0.9 && i.t <= 6.05)) {
      const expected = schedule.countAt(Math.min(interval.t, 6)) - schedule.countAt(interval.t - interval.durationS);
      expect(Math.abs(interval.counts.offered - expected), `interval ending ${interval.t}s`).toBeLessThanOrEqual(Math.max(3, expected * 0.05));
    }
    expect(summary.counts.offered).toBe(800);
  });
});

describe('coordinated omission', () => {
  it('a one-second stall shows in the p99 measured from due times, unlike a closed-model client', async () => {
    const stallMs = 1000;
    let stalled = false;
    let started = 0;
    const server = await httpServer((_req, res) => {
      if (started === 0) started = performance.now();
      if (!stalled && performance.now() - started > 1000) {
        stalled = true;
        const until = performance.now() + stallMs;
        while (performance.now() < until); // the whole process freezes, as in a GC pause
      }
      res.end('ok');
    });
    servers.push(server);
    const { run } = load(server.url, { rate: 200, seconds: 4 });
    const open = await run.run();

    // The same server, the same stall, measured the closed-model way: send, wait, send again.
    stalled = false;
    started = 0;
    const agent = new Agent({ connections: 1 });
    const closed: number[] = [];
    const until = performance.now() + 4000;
    while (performance.now() < until) {
      const sent = performance.now();
      await (await request(server.url, { dispatcher: agent })).body.dump();
      closed.push(performance.now() - sent);
    }
    await agent.close();
    closed.sort((a, b) => a - b);
    const closedP99 = closed[Math.floor(closed.length * 0.99)]!;
    console.info(`coordinated omission: open-model p99 ${open.latency.p99.toFixed(1)} ms, max ${open.latency.max.toFixed(0)} ms; closed-model p99 ${closedP99.toFixed(1)} ms over ${closed.length} requests`);

    expect(stalled).toBe(true);
    // ~200 requests fall due during the stall: a quarter of the run waits up to a second. Bounds
    // are fractions of the stall: the point is which client sees it, not how fast this machine is.
    expect(open.latency.p99).toBeGreaterThan(stallMs / 2);
    expect(open.latency.max).toBeGreaterThan(stallMs * 0.9);
    // One request saw the stall; the closed-model client sent nothing while it waited.
    expect(closedP99).toBeLessThan(stallMs / 10);
    expect(closed.at(-1)!).toBeGreaterThan(stallMs * 0.9);
  });
});

describe('errors by kind', () => {
  it('counts connection refused on a closed port', async () => {
    const port = await freePort();
    const { run } = load(`http://127.0.0.1:${port}/`, { rate: 50, seconds: 0.4 });
    const summary = await run.run();
    expect(summary.counts.errors.refused).toBe(20);
    expect(summary.errorRate).toBe(1);
  });

  it('counts resets from a server that resets sockets', async () => {
    const server = await resettingServer();
    servers.push(server);
    const { run } = load(server.url, { rate: 50, seconds: 0.4 });
    const summary = await run.run();
    expect(summary.counts.errors.reset).toBe(20);
  });

  it('counts timeouts when the handler is slower than --timeout', async () => {
    const handlerMs = 3000;
    const server = await httpServer((_req, res) => setTimeout(() => res.end('late'), handlerMs));
    servers.push(server);
    const { run } = load(server.url, { rate: 50, seconds: 0.4, timeoutMs: 200 });
    const summary = await run.run();
    expect(summary.counts.errors.timeout).toBe(20);
    // undici's timers are coarse (hundreds of ms), but the run ends before the handler would answer.
    expect(summary.durationS).toBeLessThan(handlerMs / 1000);
  });

  it('counts 503s as 5xx', async () => {
    const server = await httpServer((_req, res) => {
      res.statusCode = 503;
      res.end('busy');
    });
    servers.push(server);
    const { run } = load(server.url, { rate: 50, seconds: 0.4 });
    const summary = await run.run();
    expect(summary.counts.status['5xx']).toBe(20);
    expect(summary.errorRate).toBe(1);
  });

  it('drops requests that fall due while --max-in-flight are outstanding, never delaying them', async () => {
    const server = await httpServer((_req, res) => setTimeout(() => res.end('slow'), 500));
    servers.push(server);
    const { run } = load(server.url, { rate: 100, seconds: 1, maxInFlight: 10 });
    const summary = await run.run();
    expect(summary.counts.offered).toBe(100);
    // 10 go out at once; each slot frees after 500 ms, so about 10 more fit in the second half.
    expect(summary.counts.sent).toBeLessThanOrEqual(25);
    expect(summary.counts.dropped).toBe(summary.counts.offered - summary.counts.sent);
    expect(summary.counts.dropped).toBeGreaterThanOrEqual(75);
  });
});

describe('stop()', () => {
  it('stops scheduling early and still summarises what was sent', async () => {
    const rate = 100;
    const stopAfterMs = 500;
    const { run } = load(`${service.url}/`, { rate, seconds: 10 });
    setTimeout(() => run.stop(), stopAfterMs);
    const summary = await run.run();
    expect(summary.stoppedBy).toBe('interrupted');
    // What the schedule called for until the stop (which a busy machine may run late), not the 10 s.
    expect(summary.counts.offered).toBeGreaterThan((rate * stopAfterMs) / 1000 / 2);
    expect(summary.counts.offered).toBeLessThanOrEqual(Math.ceil(rate * summary.durationS));
    expect(summary.counts.completed).toBe(summary.counts.sent);
  });
});
