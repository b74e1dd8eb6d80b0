import { existsSync } from 'node:fs';
import { cp, mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serviceEnv, SERVICE_DIR } from '../../../scripts/service-bundle.ts';
import { ROOT, spawnService, type StartedService } from '../../../test/helpers/child.ts';
import { OPENMETRICS_ACCEPT, promtoolCheckMetrics, requestCount, scrape, scrapeParsed } from '../../../test/helpers/metrics.ts';

// What the Dockerfile's final stage holds: dist/service/ (the esbuild bundle, its source map and
// its compile cache), nothing else: no package.json, no node_modules.
let dir: string;
let service: StartedService;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'podscale-bundle-'));
  await cp(join(ROOT, SERVICE_DIR), dir, { recursive: true });
  service = await spawnService({ SHUTDOWN_DELAY_MS: '200', ...serviceEnv(dir) }, [], join(dir, 'server.mjs'));
});
afterAll(async () => {
  await service?.process.stop();
  await rm(dir, { recursive: true, force: true });
});

async function get(path: string, headers: Record<string, string> = {}) {
  const response = await request(`${service.url}${path}`, { headers });
  return { status: response.statusCode, headers: response.headers, text: await response.body.text() };
}

async function sizeOf(path: string): Promise<number> {
  const info = await stat(path);
  if (!info.isDirectory()) return info.size;
  let total = 0;
  for (const entry of await readdir(path)) total += await sizeOf(join(path, entry));
  return total;
}

describe('the service bundle, run with no node_modules', () => {
  it('has no node_modules or package.json to fall back on, and fits in 5 MiB', async () => {
    for (let at = dir; ; at = dirname(at)) {
      expect(existsSync(join(at, 'node_modules')), `${at}/node_modules`).toBe(false);
      if (dirname(at) === at) break;
    }
    expect(existsSync(join(dir, 'package.json'))).toBe(false);
    expect(await sizeOf(dir)).toBeLessThanOrEqual(5 * 2 ** 20);
  });

  it('starts and serves every route', async () => {
    expect((await get('/readyz')).status).toBe(200);
    expect((await get('/healthz')).status).toBe(200);
    const root = await get('/');
    expect(root.status).toBe(200);
    expect(root.headers['x-served-by']).toBe('child-pod');
    expect(JSON.parse(root.text)).toMatchObject({ service: 'podscale', version: expect.stringMatching(/^\d+\.\d+\.\d+/), pod: 'child-pod', namespace: null });
    expect(JSON.parse((await get('/api/delay?ms=1')).text)).toEqual({ delayedMs: 1 });
    expect((await get('/api/work?ms=0')).status).toBe(400);
    expect((await get('/nowhere')).status).toBe(404);
  });

  it('counts requests by route template and passes promtool, in both exposition formats', async () => {
    const before = await scrapeParsed(service.url);
    for (let i = 0; i < 3; i += 1) await get('/api/delay?ms=1');
    await get('/api/work?ms=0');
    await get('/nowhere/else');
    const after = await scrapeParsed(service.url);
    const delta = (method: string, path: string, code: string) => requestCount(after, { method, path, code }) - requestCount(before, { method, path, code });
    expect(delta('GET', '/api/delay', '200')).toBe(3);
    expect(delta('GET', '/api/work', '400')).toBe(1);
    expect(delta('GET', 'unmatched', '404')).toBe(1);
    const text = await scrape(service.url);
    expect(text.contentType).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(text.body).toMatch(/^process_cpu_seconds_total /m); // prom-client's default metrics are bundled too
    const check = await promtoolCheckMetrics(text.body);
    expect(check.ok, check.output).toBe(true);
    const openMetrics = await scrape(service.url, OPENMETRICS_ACCEPT);
    expect(openMetrics.contentType).toMatch(/^application\/openmetrics-text/);
    expect(openMetrics.body.trimEnd().endsWith('# EOF')).toBe(true);
  });

  it('drains on SIGTERM and exits 0', async () => {
    service.process.child.kill('SIGTERM');
    await service.process.waitFor((line) => line.phase === 'drain');
    const draining = await get('/readyz');
    expect(draining.status).toBe(503);
    const served = await get('/');
    expect(served.status).toBe(200);
    expect(served.headers.connection).toBe('close');
    const { code } = await service.process.exited;
    expect(code).toBe(0);
    expect(service.process.lines.map((line) => line.phase).filter(Boolean)).toEqual(['drain', 'close', 'exit']);
    expect(service.process.stderr.join('\n')).toBe('');
  });
});
