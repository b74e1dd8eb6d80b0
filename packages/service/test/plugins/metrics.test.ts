import { Pool, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DURATION_BUCKETS, UNMATCHED_PATH } from '@podscale/fastify/metrics/request-metrics.ts';
import { startApp, type RunningApp } from '../../../../test/helpers/app.ts';
import { OPENMETRICS_ACCEPT, promtoolCheckMetrics, requestCount, scrape, scrapeParsed, seriesCount } from '../../../../test/helpers/metrics.ts';

let running: RunningApp;
beforeAll(async () => {
  running = await startApp();
});
afterAll(() => running.close());

async function hit(path: string, times: number, method: 'GET' | 'POST' = 'GET'): Promise<void> {
  for (let i = 0; i < times; i += 1) {
    const response = await request(`${running.url}${path}`, { method, ...(method === 'POST' ? { body: '{}', headers: { 'content-type': 'application/json' } } : {}) });
    await response.body.dump();
  }
}

describe('http_requests_total', () => {
  it('counts by method, route template and status code', async () => {
    const before = await scrapeParsed(running.url);
    await hit('/api/delay?ms=1', 3);
    await hit('/api/delay?ms=1&x=2', 2); // same template whatever the query string
    await hit('/api/work?ms=0', 4); // 400
    await hit('/api/echo', 2, 'POST');
    await hit('/nowhere', 1);
    const after = await scrapeParsed(running.url);
    const delta = (method: string, path: string, code: string) =>
      requestCount(after, { method, path, code }) - requestCount(before, { method, path, code });
    expect(delta('GET', '/api/delay', '200')).toBe(5);
    expect(delta('GET', '/api/work', '400')).toBe(4);
    expect(delta('POST', '/api/echo', '200')).toBe(2);
    expect(delta('GET', UNMATCHED_PATH, '404')).toBe(1);
  });

  it('does not count probes or scrapes', async () => {
    await hit('/', 1);
    const before = await scrapeParsed(running.url);
    await hit('/healthz', 20);
    await hit('/readyz', 20);
    await hit('/metrics', 5);
    const after = await scrapeParsed(running.url);
    for (const family of ['http_requests_total', 'http_request_duration_seconds']) {
      expect(seriesCount(after, family)).toBe(seriesCount(before, family));
    }
    const paths = after.find((f) => f.name === 'http_requests_total')!.metrics.map((m) => m.labels?.path);
    expect(paths).not.toContain('/healthz');
    expect(paths).not.toContain('/readyz');
    expect(paths).not.toContain('/metrics');
    expect(requestCount(after, { method: 'GET', path: '/', code: '200' })).toBe(requestCount(before, { method: 'GET', path: '/', code: '200' }));
  });

  it('keeps the series count constant under 10 000 distinct random unknown paths', async () => {
    await hit('/seed-the-unmatched-series', 1);
    const before = await scrapeParsed(running.url);
    const pool = new Pool(running.url, { connections: 16 });
    try {
      const total = 10_000;
      let next = 0;
      const worker = async () => {
        while (next < total) {
          next += 1;
          const path = `/${Math.random().toString(36).slice(2)}/${next}?q=${Math.random()}`;
          const response = await pool.request({ path, method: 'GET' });
          await response.body.dump();
        }
      };
      await Promise.all(Array.from({ length: 16 }, worker));
    } finally {
      await pool.close();
    }
    const after = await scrapeParsed(running.url);
    expect(seriesCount(after, 'http_requests_total')).toBe(seriesCount(before, 'http_requests_total'));
    expect(seriesCount(after, 'http_request_duration_seconds')).toBe(seriesCount(before, 'http_request_duration_seconds'));
    expect(requestCount(after, { method: 'GET', path: UNMATCHED_PATH, code: '404' }) - requestCount(before, { method: 'GET', path: UNMATCHED_PATH, code: '404' })).toBe(10_000);
  });
});

describe('counting outside the server', () => {
  it('serves inject() requests without counting them: they do not go through the server response', async () => {
    const before = await scrapeParsed(running.url);
    const injected = await running.app.inject({ url: '/' });
    expect(injected.statusCode).toBe(200);
    expect((await running.app.inject({ url: '/nowhere' })).statusCode).toBe(404);
    const after = await scrapeParsed(running.url);
    expect(requestCount(after, { method: 'GET', path: '/', code: '200' })).toBe(requestCount(before, { method: 'GET', path: '/', code: '200' }));
  });
});

describe('http_request_duration_seconds', () => {
  // parse-prometheus-text-format mangles labelled histograms, so the bucket lines are read one by
  // one; promtool validates the whole exposition below.
  it('has cumulative buckets, +Inf equal to the count, and the sum of the durations', async () => {
    await hit('/api/delay?ms=30', 3);
    const { body } = await scrape(running.url);
    const labels = 'method="GET",path="/api/delay",code="200"';
    const value = (line: string) => Number(line.slice(line.lastIndexOf(' ') + 1));
    const bucketLines = body.split('\n').filter((line) => line.startsWith(`http_request_duration_seconds_bucket{${labels},le=`));
    const buckets = bucketLines.map((line) => [/le="([^"]+)"/.exec(line)![1]!, value(line)] as const);
    const count = value(body.split('\n').find((line) => line.startsWith(`http_request_duration_seconds_count{${labels}}`))!);
    const sum = value(body.split('\n').find((line) => line.startsWith(`http_request_duration_seconds_sum{${labels}}`))!);
    expect(buckets.map(([le]) => le)).toEqual([...DURATION_BUCKETS.map(String), '+Inf']);
    for (let i = 1; i < buckets.length; i += 1) expect(buckets[i]![1]).toBeGreaterThanOrEqual(buckets[i - 1]![1]);
    expect(buckets.at(-1)![1]).toBe(count);
    expect(count).toBe(requestCount(await scrapeParsed(running.url), { method: 'GET', path: '/api/delay', code: '200' }));
    // the three 30 ms requests fall above the 25 ms bound
    expect(count - buckets.find(([le]) => le === '0.025')![1]).toBeGreaterThanOrEqual(3);
    expect(sum).toBeGreaterThanOrEqual(0.09);
  });

  it('escapes label values', async () => {
    const { escapeLabel } = await import('@podscale/fastify/metrics/request-metrics.ts');
    expect(escapeLabel('a"b\\c\nd')).toBe('a\\"b\\\\c\\nd');
  });
});

describe('/metrics exposition', () => {
  it('includes process and runtime metrics', async () => {
    const names = (await scrapeParsed(running.url)).map((f) => f.name);
    for (const name of ['process_cpu_seconds_total', 'process_resident_memory_bytes', 'nodejs_eventloop_lag_seconds', 'nodejs_gc_duration_seconds']) {
      expect(names).toContain(name);
    }
  });

  it('passes promtool check metrics', async () => {
    await hit('/', 1);
    const { contentType, body } = await scrape(running.url);
    expect(contentType).toBe('text/plain; version=0.0.4; charset=utf-8');
    const result = await promtoolCheckMetrics(body);
    expect(result.output).toBe('');
    expect(result.ok).toBe(true);
  });

  it('negotiates OpenMetrics and keeps both formats exact in any order', async () => {
    await hit('/', 1);
    for (const accept of [OPENMETRICS_ACCEPT, undefined, OPENMETRICS_ACCEPT, 'text/plain', OPENMETRICS_ACCEPT]) {
      const { contentType, body } = await scrape(running.url, accept);
      expect(body).not.toMatch(/_total_total/);
      expect(body).toMatch(/^http_requests_total\{method="GET",path="\/",code="200"\} \d+$/m);
      if (accept === OPENMETRICS_ACCEPT) {
        expect(contentType).toBe('application/openmetrics-text; version=1.0.0; charset=utf-8');
        expect(body).toMatch(/^# TYPE http_requests counter$/m);
        expect(body.endsWith('# EOF\n')).toBe(true);
      } else {
        expect(contentType).toMatch(/^text\/plain; version=0\.0\.4/);
        expect(body).toMatch(/^# TYPE http_requests_total counter$/m);
        expect(body).toMatch(/^# TYPE process_cpu_seconds_total counter$/m);
        expect((await promtoolCheckMetrics(body)).ok).toBe(true);
      }
    }
  });
});
