import { Pool, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp, type RunningApp } from '../../../../test/helpers/app.ts';
import { scrapeParsed, seriesCount } from '../../../../test/helpers/metrics.ts';

let running: RunningApp;
beforeAll(async () => {
  running = await startApp({ OVERLOAD_MAX_EVENT_LOOP_DELAY_MS: '0' });
});
afterAll(() => running.close());

/**
 * The median CPU time of a scrape (this process serves and scrapes: the app runs in it). CPU time,
 * not wall time: on a machine shared with other jobs the wall time of a 1 ms scrape is mostly
 * waiting to be scheduled, and says nothing about the work the scrape does.
 */
async function scrapeMedianCpuMs(url: string): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < 21; i += 1) {
    const before = process.cpuUsage();
    await (await request(`${url}/metrics`)).body.text();
    const used = process.cpuUsage(before);
    times.push((used.user + used.system) / 1000);
  }
  return times.sort((a, b) => a - b)[10]!;
}

const METHODS = ['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD', 'PROPFIND', 'MKCOL', 'PURGE', 'LOCK', 'SEARCH'];

describe('metrics under attack', () => {
  it('100 000 distinct random paths and methods leave the series count constant; /metrics stays fast', { timeout: 120_000 }, async () => {
    // One request per method first, so every series the flood can create exists before "before".
    for (const method of METHODS) await (await request(`${running.url}/seed`, { method })).body.dump();
    const before = await scrapeParsed(running.url);
    await scrapeMedianCpuMs(running.url); // the first scrapes run cold (JIT): they would flatter "after"
    const scrapeMsBefore = await scrapeMedianCpuMs(running.url);
    const pool = new Pool(running.url, { connections: 32 });
    const total = 100_000;
    let next = 0;
    await Promise.all(
      Array.from({ length: 32 }, async () => {
        while (next < total) {
          const i = next++;
          const response = await pool.request({ path: `/${i.toString(36)}/${Math.random().toString(36).slice(2)}?${i}`, method: METHODS[i % METHODS.length] as 'GET' });
          await response.body.dump();
        }
      }),
    );
    await pool.close();
    const after = await scrapeParsed(running.url);
    const scrapeMsAfter = await scrapeMedianCpuMs(running.url);
    const beforeSeries = seriesCount(before, 'http_requests_total');
    const afterSeries = seriesCount(after, 'http_requests_total');
    console.info(`metrics attack: ${total} random paths × ${METHODS.length} methods: series ${beforeSeries} → ${afterSeries}; /metrics median CPU ${scrapeMsBefore.toFixed(2)} → ${scrapeMsAfter.toFixed(2)} ms`);
    expect(afterSeries).toBe(beforeSeries);
    expect(seriesCount(after, 'http_request_duration_seconds')).toBe(seriesCount(before, 'http_request_duration_seconds'));
    // The same series, so the same work per scrape: compared with itself before the flood, not
    // with what a scrape takes on some machine.
    expect(scrapeMsAfter).toBeLessThan(3 * scrapeMsBefore);
  });
});
