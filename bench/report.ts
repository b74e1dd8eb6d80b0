/**
 * The bench's report: one markdown row per figure with its ratio and the goal it is held to, so
 * that one table (printed, and kept in bench/results/latest.md) says where podscale stands.
 * test/bench-smoke.test.ts checks that every row is printed.
 */
import { SERVICE_DIR } from '../scripts/service-bundle.ts';
import type { generatorRate, imageContents, memory, scrapeTime, startupAndFirstRequests, throughputAndLatency } from './measurements.ts';
import { BARE, PODSCALE, THROUGHPUT_SERVERS } from './peers.ts';
import { LOADED_SECONDS, ROUNDS, SMOKE, STARTUP_ROUNDS, THROUGHPUT_ROUNDS } from './settings.ts';
import { median, round, show } from './stats.ts';

export interface Results {
  date: string;
  machine: string;
  totalSeconds: number;
  throughput: Awaited<ReturnType<typeof throughputAndLatency>>;
  scrape: Awaited<ReturnType<typeof scrapeTime>>;
  startup: Awaited<ReturnType<typeof startupAndFirstRequests>>;
  rss: Awaited<ReturnType<typeof memory>>;
  generator: Awaited<ReturnType<typeof generatorRate>> | undefined;
  image: Awaited<ReturnType<typeof imageContents>>;
}

/** The report: a line naming the run, then the table. */
export function report({ date, machine, totalSeconds, throughput, scrape, startup, rss, generator, image }: Results): string {
  const rows: string[][] = [['measure', 'value', `ratio (median of the rounds, min–max: max req/s ${THROUGHPUT_ROUNDS}, start-up ${STARTUP_ROUNDS}, the rest ${ROUNDS})`, 'goal']];
  for (const kind of THROUGHPUT_SERVERS) {
    rows.push([`max req/s, ${kind.name}`, String(Math.round(throughput.maxRps[kind.name]!)), `${show(throughput.ratios[kind.name]!)} bare Fastify`, kind.name === PODSCALE ? '≥ 0.95×' : '']);
  }
  for (const name of [BARE, PODSCALE]) {
    const l = throughput.latency[name]!;
    rows.push([`p50 / p99 at ${throughput.fixedRate} req/s, ${name}`, `${round(median(l.p50))} / ${round(median(l.p99))} ms`, name === PODSCALE ? `p99 ${show(throughput.p99Ratio)} bare` : '', name === PODSCALE ? 'p99 ≤ 1.1×' : '']);
  }
  rows.push([`/metrics render, ${scrape.labelSets} label sets`, `${round(scrape.renderMs)} ms (over HTTP ${round(scrape.httpScrapeMs)} ms)`, `${show(scrape.renderRatio)} prom-client (${round(scrape.promClientRenderMs)} ms)`, '≤ 0.35×']);
  rows.push([`start-up to first /readyz 200, podscale (median of ${STARTUP_ROUNDS})`, `${Math.round(startup.startupMs[PODSCALE]!)} ms`, `${show(startup.startupRatio)} bare (${Math.round(startup.startupMs[BARE]!)} ms)`, '≤ 1.3×']);
  for (const name of [BARE, PODSCALE]) {
    rows.push([`first 100 requests after /readyz 200: p99 vs steady state, ${name}`, `${round(startup.firstP99Ms[name]!)} vs ${round(startup.steadyP99Ms[name]!)} ms`, show(startup.firstVsSteady[name]!), name === PODSCALE ? '≤ 3×' : '']);
  }
  rows.push(['RSS idle, podscale', `${rss.idleMiB[PODSCALE]} MiB`, `${show(rss.idleRatio)} bare (${rss.idleMiB[BARE]} MiB)`, '≤ 1.05×']);
  rows.push([`RSS peak during ${LOADED_SECONDS} s of max load, podscale`, `${rss.loadedMiB[PODSCALE]} MiB`, `${show(rss.loadedRatio)} bare (${rss.loadedMiB[BARE]} MiB)`, '≤ 1.10×']);
  rows.push(['service image, final stage', `${SERVICE_DIR}/: ${image.files.length} files, ${image.MiB} MiB`, image.nodeModules ? 'has node_modules' : 'no node_modules', '≤ 5 MiB, no node_modules']);
  if (generator) rows.push(['load generator max rate, podscale load (one core)', `${Math.round(generator.podscale)} req/s`, `${show(generator.ratio)} autocannon (${Math.round(generator.autocannon)} req/s)`, '≥ 0.8×']);
  const table = rows.map((r, i) => `| ${r.join(' | ')} |${i === 0 ? `\n|${r.map(() => '---').join('|')}|` : ''}`).join('\n');
  return `${date.slice(0, 10)} · ${machine} · ${totalSeconds} s${SMOKE ? ' · smoke run: not a measurement' : ''}\n\n${table}`;
}
