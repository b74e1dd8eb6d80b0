/**
 * `npm run bench`: podscale against bare Fastify and its peers, as ratios to a baseline measured in
 * the same run (the machine is shared and noisy; absolute numbers drift, ratios much less). Each
 * ratio is the median of the per-round ratios (baseline and podscale interleaved within a round),
 * printed with its spread over the rounds (min–max). Server pinned to core 0, load generator to
 * core 1 (taskset). podscale runs as the image runs it: the service bundle with its compile cache.
 * Writes bench/results/latest.json and prints a markdown table (also written to latest.md).
 *
 * `node bench/run.ts --smoke`: every measurement once and briefly (~20 s), nothing written: checks
 * that the bench runs (CI), not how fast anything is.
 *
 * This file is the sequence; the servers are in peers.ts, the load generators in load.ts, the
 * measurements in measurements.ts, the table in report.ts, durations and rounds in settings.ts.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { run } from './load.ts';
import { generatorRate, imageContents, memory, scrapeTime, startupAndFirstRequests, throughputAndLatency } from './measurements.ts';
import { buildPeers } from './peers.ts';
import { report } from './report.ts';
import { ROOT, ROUNDS, SECONDS, SMOKE, THROUGHPUT_ROUNDS, THROUGHPUT_SECONDS } from './settings.ts';
import { round } from './stats.ts';

await buildPeers();

const startedAt = performance.now();
const { stdout: nodeVersion } = await run(process.execPath, ['--version']);
const machine = `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, Node ${nodeVersion.trim()}`;
console.error(`bench${SMOKE ? ' --smoke' : ''}: ${machine}; throughput ${THROUGHPUT_ROUNDS} rounds × ${THROUGHPUT_SECONDS}s, the rest ${ROUNDS} rounds × ${SECONDS}s per server`);
const throughput = await throughputAndLatency();
console.error('bench: throughput and latency done');
const scrape = await scrapeTime();
const startup = await startupAndFirstRequests();
console.error('bench: start-up done');
const rss = await memory();
console.error('bench: memory done');
const generator = SMOKE ? undefined : await generatorRate();
const image = await imageContents();
const results = { date: new Date().toISOString(), machine, rounds: ROUNDS, secondsPerRun: SECONDS, throughputRounds: THROUGHPUT_ROUNDS, throughputSecondsPerRun: THROUGHPUT_SECONDS, throughput, scrape, startup, rss, generator, image, totalSeconds: round((performance.now() - startedAt) / 1000, 0) };
if (!SMOKE) {
  await mkdir(join(ROOT, 'bench/results'), { recursive: true });
  await writeFile(join(ROOT, 'bench/results/latest.json'), `${JSON.stringify(results, null, 2)}\n`);
}

const markdown = report(results);
console.log(markdown);
if (!SMOKE) await writeFile(join(ROOT, 'bench/results/latest.md'), `${markdown}\n`);
