/**
 * What the bench measures, each against a baseline in the same run (bare Fastify, prom-client,
 * autocannon), baseline and podscale interleaved within each round so that drift on the machine
 * hits both alike. Each returns its raw rounds with the ratios; bench/report.ts prints them.
 */
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import pidusage from 'pidusage';
import { Histogram, Counter, Registry, collectDefaultMetrics } from 'prom-client';
import { request } from 'undici';
import { buildApp } from '@podscale/service/app.ts';
import { loadConfig } from '@podscale/service/config.ts';
import { negotiate } from '@podscale/fastify/metrics/exposition.ts';
import { SERVICE_DIR } from '../scripts/service-bundle.ts';
import { hundredRequestsP99, podscaleLoad, run, wrk } from './load.ts';
import { BARE, bareKind, PODSCALE, podscaleKind, startServer, THROUGHPUT_SERVERS } from './peers.ts';
import { CLIENT_CORE, GENERATOR_SAFE_RATE, LOADED_SECONDS, ROOT, ROUNDS, SECONDS, SMOKE, STARTUP_ROUNDS, THROUGHPUT_ROUNDS, THROUGHPUT_SECONDS, WARM_UP_SECONDS } from './settings.ts';
import { median, perRound, ratio, round, type Ratio } from './stats.ts';

export async function throughputAndLatency() {
  const rps: Record<string, number[]> = Object.fromEntries(THROUGHPUT_SERVERS.map((s) => [s.name, []]));
  for (let r = 0; r < THROUGHPUT_ROUNDS; r += 1) {
    // Servers interleaved within each round, so drift on the machine hits them all alike.
    for (const kind of THROUGHPUT_SERVERS) {
      const server = await startServer(kind);
      await wrk(server.url, WARM_UP_SECONDS); // warm-up: JIT, connections
      rps[kind.name]!.push((await wrk(server.url, THROUGHPUT_SECONDS)).rps);
      await server.stop();
    }
  }
  const maxRps = Object.fromEntries(Object.entries(rps).map(([name, values]) => [name, median(values)]));
  const ratios = Object.fromEntries(Object.entries(rps).map(([name, values]) => [name, perRound(values, rps[BARE]!)]));
  // Half of bare Fastify's maximum, but never more than the generator sustains with room to spare
  // (podscale load tops out near 30 000 req/s on one core here): a saturated generator would
  // measure itself, not the servers.
  const fixedRate = Math.min(Math.round(maxRps[BARE]! / 2), GENERATOR_SAFE_RATE);
  const latency: Record<string, { p50: number[]; p99: number[] }> = { [BARE]: { p50: [], p99: [] }, [PODSCALE]: { p50: [], p99: [] } };
  for (let r = 0; r < ROUNDS; r += 1) {
    for (const kind of [bareKind, podscaleKind]) {
      const server = await startServer(kind);
      await wrk(server.url, WARM_UP_SECONDS);
      const record = await podscaleLoad(`${server.url}/`, ['--rate', String(fixedRate), '--duration', `${SECONDS}s`, '--connections', '64']);
      latency[kind.name]!.p50.push(record.summary.latency.p50);
      latency[kind.name]!.p99.push(record.summary.latency.p99);
      await server.stop();
    }
  }
  const p99Ratio = perRound(latency[PODSCALE]!.p99, latency[BARE]!.p99);
  return { rounds: rps, maxRps, ratios, fixedRate, latency, p99Ratio };
}

export async function scrapeTime() {
  const labelSets = 200;
  const iterations = SMOKE ? 20 : 200;
  // podscale: 200 label sets in its own counters, scraped over HTTP.
  const app = await buildApp(loadConfig({ POD_NAME: 'bench' }));
  for (let i = 0; i < labelSets / 2; i += 1) {
    app.metrics.requests.route(`/route/${i}`).record('GET', 200, 0.01);
    app.metrics.requests.route(`/route/${i}`).record('GET', 500, 0.2);
  }
  await app.listen({ port: 0, host: '127.0.0.1' });
  const url = `http://127.0.0.1:${(app.server.address() as { port: number }).port}/metrics`;
  const times: number[] = [];
  for (let i = 0; i < iterations + 20; i += 1) {
    const started = performance.now();
    await (await request(url)).body.text();
    if (i >= 20) times.push(performance.now() - started);
  }
  await app.close();
  // Baseline: the same label sets through prom-client's own Counter and Histogram.
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const counter = new Counter({ name: 'http_requests_total', help: 'h', labelNames: ['method', 'path', 'code'], registers: [registry] });
  const histogram = new Histogram({ name: 'http_request_duration_seconds', help: 'h', labelNames: ['method', 'path', 'code'], buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10], registers: [registry] });
  for (let i = 0; i < labelSets / 2; i += 1) {
    for (const code of ['200', '500']) {
      counter.inc({ method: 'GET', path: `/route/${i}`, code });
      histogram.observe({ method: 'GET', path: `/route/${i}`, code }, 0.01);
    }
  }
  const baseline: number[] = [];
  const ours: number[] = [];
  const app2 = await buildApp(loadConfig({ POD_NAME: 'bench' }));
  for (let i = 0; i < labelSets / 2; i += 1) {
    app2.metrics.requests.route(`/route/${i}`).record('GET', 200, 0.01);
    app2.metrics.requests.route(`/route/${i}`).record('GET', 500, 0.2);
  }
  for (let i = 0; i < iterations + 20; i += 1) {
    let started = performance.now();
    await registry.metrics();
    if (i >= 20) baseline.push(performance.now() - started);
    started = performance.now();
    await negotiate(app2.metrics.requests, app2.metrics.registries, undefined).render();
    if (i >= 20) ours.push(performance.now() - started);
  }
  await app2.close();
  // Spread: the ratio of medians over 5 blocks of consecutive renders.
  const blocks = 5;
  const size = Math.floor(ours.length / blocks);
  const blockRatios = Array.from({ length: blocks }, (_, b) => median(ours.slice(b * size, (b + 1) * size)) / median(baseline.slice(b * size, (b + 1) * size)));
  return { labelSets, httpScrapeMs: median(times), renderMs: median(ours), promClientRenderMs: median(baseline), renderRatio: ratio(blockRatios) };
}

/**
 * Start-up (spawn → first /readyz 200), then at once 100 requests: their p99 against the p99 of
 * the same 100 requests once the server has been warmed by a few seconds of load. Readiness must
 * mean "serves at full speed", not "will, once it has compiled its routes".
 */
export async function startupAndFirstRequests() {
  const startup: Record<string, number[]> = { [BARE]: [], [PODSCALE]: [] };
  const first: Record<string, number[]> = { [BARE]: [], [PODSCALE]: [] };
  const steady: Record<string, number[]> = { [BARE]: [], [PODSCALE]: [] };
  for (let i = 0; i < STARTUP_ROUNDS; i += 1) {
    for (const kind of [bareKind, podscaleKind]) {
      const server = await startServer(kind);
      startup[kind.name]!.push(server.startupMs);
      first[kind.name]!.push(await hundredRequestsP99(server.url));
      await wrk(server.url, WARM_UP_SECONDS);
      steady[kind.name]!.push(await hundredRequestsP99(server.url));
      await server.stop();
    }
  }
  const firstVsSteady = (name: string) => ratio(first[name]!.map((p99, i) => p99 / steady[name]![i]!));
  return {
    startupMs: Object.fromEntries(Object.entries(startup).map(([name, values]) => [name, median(values)])),
    startupRatio: perRound(startup[PODSCALE]!, startup[BARE]!),
    startupRounds: startup,
    firstP99Ms: Object.fromEntries(Object.entries(first).map(([name, values]) => [name, median(values)])),
    steadyP99Ms: Object.fromEntries(Object.entries(steady).map(([name, values]) => [name, median(values)])),
    firstVsSteady: { [BARE]: firstVsSteady(BARE), [PODSCALE]: firstVsSteady(PODSCALE) } as Record<string, Ratio>,
  };
}

export async function memory() {
  const idle: Record<string, number[]> = { [BARE]: [], [PODSCALE]: [] };
  const loaded: Record<string, number[]> = { [BARE]: [], [PODSCALE]: [] };
  for (let r = 0; r < ROUNDS; r += 1) {
    for (const kind of [bareKind, podscaleKind]) {
      const server = await startServer(kind);
      await new Promise((resolve) => setTimeout(resolve, SMOKE ? 200 : 2000));
      const idleBytes = (await pidusage(server.pid)).memory;
      let peak = idleBytes;
      const sampler = setInterval(() => void pidusage(server.pid).then((s) => (peak = Math.max(peak, s.memory))), 1000);
      await wrk(server.url, LOADED_SECONDS);
      clearInterval(sampler);
      peak = Math.max(peak, (await pidusage(server.pid)).memory);
      idle[kind.name]!.push(idleBytes / 2 ** 20);
      loaded[kind.name]!.push(peak / 2 ** 20);
      await server.stop();
    }
  }
  const mib = (values: number[]) => round(median(values), 1);
  return {
    idleMiB: { [BARE]: mib(idle[BARE]!), [PODSCALE]: mib(idle[PODSCALE]!) },
    loadedMiB: { [BARE]: mib(loaded[BARE]!), [PODSCALE]: mib(loaded[PODSCALE]!) },
    idleRatio: perRound(idle[PODSCALE]!, idle[BARE]!),
    loadedRatio: perRound(loaded[PODSCALE]!, loaded[BARE]!),
  };
}

export async function generatorRate() {
  const server = await startServer(bareKind);
  await wrk(server.url, 2);
  const rates: { podscale: number[]; autocannon: number[] } = { podscale: [], autocannon: [] };
  for (let i = 0; i < 2; i += 1) {
    const { stdout } = await run('taskset', ['-c', CLIENT_CORE, process.execPath, join(ROOT, 'node_modules/autocannon/autocannon.js'), '-c', '64', '-d', String(SECONDS), '--json', `${server.url}/`], { maxBuffer: 64 * 1024 * 1024 });
    const result = JSON.parse(stdout) as { requests: { total: number }; duration: number };
    rates.autocannon.push(result.requests.total / result.duration);
    // Open model offered 20 % more than autocannon managed, same 64 connections, room for a queue:
    // what completes per second is the generator's sustained ceiling. (With --max-in-flight 64
    // every slot freed between two scheduler ticks would sit idle and understate it.)
    const offered = Math.ceil((result.requests.total / result.duration) * 1.2);
    const record = await podscaleLoad(`${server.url}/`, ['--rate', String(offered), '--duration', `${SECONDS}s`, '--connections', '64', '--max-in-flight', '2000']);
    rates.podscale.push(record.summary.achievedRate);
  }
  await server.stop();
  return { podscale: median(rates.podscale), autocannon: median(rates.autocannon), ratio: perRound(rates.podscale, rates.autocannon) };
}

/** What the service image's final stage copies: dist/service/, as `npm run build` wrote it. */
export async function imageContents() {
  const files: { path: string; bytes: number }[] = [];
  const walk = async (dir: string): Promise<void> => {
    for (const entry of await readdir(join(ROOT, dir), { withFileTypes: true })) {
      const path = `${dir}/${entry.name}`;
      if (entry.isDirectory()) await walk(path);
      else files.push({ path, bytes: (await stat(join(ROOT, path))).size });
    }
  };
  await walk(SERVICE_DIR);
  const bytes = files.reduce((sum, f) => sum + f.bytes, 0);
  return { files, MiB: round(bytes / 2 ** 20), nodeModules: files.some((f) => f.path.includes('node_modules')) };
}
