/**
 * Soak: the built service at ~70 % of its capacity for a bounded time, sampling RSS and event-loop
 * lag, to show there is no growth trend and no error. `npm run soak` runs 3 minutes and writes
 * bench/results/soak.json; the test suite runs a 20-second version.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import pidusage from 'pidusage';
import { Pool, request } from 'undici';
import { LoadRun } from '@podscale/cli/load/engine.ts';
import { ArrivalSchedule, constantRate } from '@podscale/cli/load/schedule.ts';
import { failures } from '@podscale/cli/load/stats.ts';

export interface SoakOptions {
  url: string;
  pid: number;
  seconds: number;
  sampleEverySeconds: number;
  path?: string;
  /**
   * open (default): requests leave on schedule whatever the service does, as users would send them.
   * paced: a few clients, each with at most one request out and at most one per clients/rate
   * seconds; when the machine slows (a shared CI box), the load slows with it instead of queueing,
   * so that what is left to see is the service's own errors and trends.
   */
  pacing?: 'open' | 'paced';
}

export interface SoakSample {
  t: number;
  rssMiB: number;
  eventLoopLagP99Ms: number;
  /** The service's CPU time so far (user + system), and the responses it had given by then. */
  cpuMs: number;
  completed: number;
}

export interface SoakResult {
  capacityRps: number;
  rate: number;
  seconds: number;
  requests: number;
  failed: number;
  p99Ms: number;
  samples: SoakSample[];
  /** Least-squares slope over the second half of the run (after warm-up). */
  rssSlopeMiBPerMin: number;
  lagSlopeMsPerMin: number;
}

function slope(points: [number, number][]): number {
  const n = points.length;
  if (n < 2) return 0;
  const mx = points.reduce((s, [x]) => s + x, 0) / n;
  const my = points.reduce((s, [, y]) => s + y, 0) / n;
  const num = points.reduce((s, [x, y]) => s + (x - mx) * (y - my), 0);
  const den = points.reduce((s, [x]) => s + (x - mx) ** 2, 0);
  return den === 0 ? 0 : num / den;
}

async function lagP99Ms(url: string): Promise<number> {
  const text = await (await request(`${url}/metrics`)).body.text();
  const family = parsePrometheusTextFormat(text).find((f) => f.name === 'nodejs_eventloop_lag_p99_seconds');
  return Number(family?.metrics[0]?.value ?? 0) * 1000;
}

function loadRun(url: string, rate: number, seconds: number): LoadRun {
  return new LoadRun({ targets: [{ url: new URL(url), method: 'GET', headers: {}, weight: 1 }], schedule: new ArrivalSchedule(constantRate(rate, seconds)), maxInFlight: 256, connections: 64, timeoutMs: 5000 });
}

/**
 * Capacity: successful responses per second from a few clients sending back to back. An open-model
 * probe far above capacity would trip the overload shedding, and its fast 503s would count as
 * throughput (it measured 1 242/s for a route that serves ~900/s, and the soak at "70 %" then shed).
 */
export async function closedModelCapacity(url: string, seconds: number, clients = 8): Promise<number> {
  const pool = new Pool(new URL(url).origin, { connections: clients });
  const { pathname, search } = new URL(url);
  const until = performance.now() + seconds * 1000;
  let ok = 0;
  try {
    await Promise.all(
      Array.from({ length: clients }, async () => {
        while (performance.now() < until) {
          const response = await pool.request({ path: pathname + search, method: 'GET' });
          await response.body.dump();
          if (response.statusCode === 200) ok += 1;
        }
      }),
    );
  } finally {
    await pool.close();
  }
  return ok / seconds;
}

async function pacedLoad(url: string, rate: number, seconds: number, onResponse: () => void, clients = 16): Promise<{ requests: number; failed: number; p99Ms: number }> {
  const pool = new Pool(new URL(url).origin, { connections: clients });
  const { pathname, search } = new URL(url);
  const gapMs = (clients / rate) * 1000;
  const startedAt = performance.now();
  const endAt = startedAt + seconds * 1000;
  const latencies: number[] = [];
  let failed = 0;
  try {
    await Promise.all(
      Array.from({ length: clients }, async (_, client) => {
        // Staggered, so that the clients' requests spread over each gap.
        let due = startedAt + (client * gapMs) / clients;
        while (due < endAt) {
          const wait = due - performance.now();
          if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
          const sentAt = performance.now();
          try {
            const response = await pool.request({ path: pathname + search, method: 'GET', headersTimeout: 5000, bodyTimeout: 5000 });
            await response.body.dump();
            if (response.statusCode !== 200) failed += 1;
          } catch {
            failed += 1;
          }
          latencies.push(performance.now() - sentAt);
          onResponse();
          due = Math.max(due + gapMs, performance.now());
        }
      }),
    );
  } finally {
    await pool.close();
  }
  latencies.sort((a, b) => a - b);
  return { requests: latencies.length, failed, p99Ms: latencies[Math.floor(latencies.length * 0.99)] ?? 0 };
}

export async function runSoak(options: SoakOptions): Promise<SoakResult> {
  const target = `${options.url}${options.path ?? '/api/work?ms=1'}`;
  const capacityRps = await closedModelCapacity(target, 4);
  const rate = Math.round(capacityRps * 0.7);
  const samples: SoakSample[] = [];
  const startedAt = performance.now();
  let completed = 0;
  const sample = async () => {
    const t = (performance.now() - startedAt) / 1000;
    const done = completed;
    const usage = await pidusage(options.pid);
    samples.push({ t, rssMiB: usage.memory / 2 ** 20, eventLoopLagP99Ms: await lagP99Ms(options.url), cpuMs: usage.ctime, completed: done });
  };
  await sample();
  const timer = setInterval(() => void sample(), options.sampleEverySeconds * 1000);
  const outcome =
    options.pacing === 'paced'
      ? await pacedLoad(target, rate, options.seconds, () => (completed += 1))
      : await (() => {
          const run = loadRun(target, rate, options.seconds);
          run.on('interval', (report) => (completed += report.counts.completed));
          return run.run();
        })()
          .then((summary) => ({ requests: summary.counts.offered, failed: failures(summary.counts), p99Ms: summary.latency.p99 }));
  clearInterval(timer);
  await sample();
  const late = samples.filter((s) => s.t >= options.seconds / 2);
  return {
    capacityRps,
    rate,
    seconds: options.seconds,
    ...outcome,
    samples: samples.map((s) => ({ ...s, t: Math.round(s.t * 10) / 10, rssMiB: Math.round(s.rssMiB * 10) / 10, eventLoopLagP99Ms: Math.round(s.eventLoopLagP99Ms * 100) / 100 })),
    rssSlopeMiBPerMin: slope(late.map((s) => [s.t / 60, s.rssMiB])),
    lagSlopeMsPerMin: slope(late.map((s) => [s.t / 60, s.eventLoopLagP99Ms])),
  };
}

// `node bench/soak.ts [seconds]`
if (import.meta.url === `file://${process.argv[1]}`) {
  const { spawnService } = await import('../test/helpers/child.ts');
  const seconds = Number(process.argv[2] ?? 180);
  const service = await spawnService({ SHUTDOWN_DELAY_MS: '0' });
  try {
    const result = await runSoak({ url: service.url, pid: service.process.child.pid!, seconds, sampleEverySeconds: 5 });
    const dir = fileURLToPath(new URL('./results/', import.meta.url));
    await mkdir(dir, { recursive: true });
    await writeFile(`${dir}soak.json`, `${JSON.stringify({ date: new Date().toISOString(), ...result }, null, 2)}\n`);
    const first = result.samples[0]!;
    const last = result.samples.at(-1)!;
    console.log(
      `soak ${seconds}s at ${result.rate} req/s (70 % of ${Math.round(result.capacityRps)}): ${result.requests} requests, ${result.failed} failed, p99 ${result.p99Ms.toFixed(1)} ms; ` +
        `RSS ${first.rssMiB} → ${last.rssMiB} MiB (slope ${result.rssSlopeMiBPerMin.toFixed(2)} MiB/min), lag p99 ${first.eventLoopLagP99Ms} → ${last.eventLoopLagP99Ms} ms`,
    );
  } finally {
    await service.process.stop();
  }
}
