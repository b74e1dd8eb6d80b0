import fc from 'fast-check';
import pidusage from 'pidusage';
import { Pool } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnService, type StartedService } from '../../../../test/helpers/child.ts';
import { rawRequest } from '../../../../test/helpers/raw-http.ts';
import { scrapeParsed, seriesCount } from '../../../../test/helpers/metrics.ts';

let service: StartedService;
let pool: Pool;
beforeAll(async () => {
  service = await spawnService({ SHUTDOWN_DELAY_MS: '0', BODY_LIMIT_BYTES: '16384' });
  pool = new Pool(service.url, { connections: 8 });
});
afterAll(async () => {
  await pool.close();
  await service.process.stop();
});

const figures = { cases: 0, status: {} as Record<number, number>, fiveXX: 0 };

function record(status: number): void {
  figures.cases += 1;
  figures.status[status] = (figures.status[status] ?? 0) + 1;
  if (status >= 500) figures.fiveXX += 1;
}

function expectJsonError(status: number, body: string, what: string): void {
  expect(status, what).toBeGreaterThanOrEqual(400);
  expect(status, what).toBeLessThan(500);
  const parsed = JSON.parse(body) as { message?: unknown; statusCode?: unknown };
  expect(typeof parsed.message, what).toBe('string');
  expect(String(parsed.message).length, what).toBeGreaterThan(3);
}

const nasty = fc.oneof(
  fc.string(),
  fc.string({ unit: 'binary' }),
  fc.constantFrom('-1', '1e309', 'NaN', 'Infinity', '0x10', '１２', '9'.repeat(400), '[]', '{}', 'null', '__proto__', '%00', '%'),
);

// Requests an HTTP client can express: odd query strings, bodies, content types, paths, methods.
const clientRequest = fc.oneof(
  fc.record({
    kind: fc.constant('query' as const),
    path: fc.constantFrom('/api/work', '/api/delay', '/'),
    params: fc.array(fc.tuple(fc.constantFrom('ms', 'MS', 'ms[]', 'x', '__proto__', 'constructor'), nasty), { maxLength: 4 }),
  }),
  fc.record({
    kind: fc.constant('body' as const),
    body: fc.oneof(
      fc.jsonValue().map((v) => JSON.stringify(v)),
      fc.string({ maxLength: 300 }),
      fc.integer({ min: 65, max: 6000 }).map((depth) => `${'['.repeat(depth)}${']'.repeat(depth)}`),
      fc.integer({ min: 65, max: 3000 }).map((depth) => `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`),
      fc.jsonValue().map((v) => `{"__proto__":${JSON.stringify(v)}}`),
      fc.jsonValue().map((v) => `{"constructor":{"prototype":${JSON.stringify(v) ?? 'null'}}}`),
      fc.integer({ min: 16_385, max: 200_000 }).map((n) => JSON.stringify({ pad: 'x'.repeat(n) })),
    ),
    contentType: fc.constantFrom('application/json', 'application/json; charset=utf-8', 'text/plain', 'application/xml', 'multipart/form-data; boundary=x', 'application/x-www-form-urlencoded', 'application/json; charset=latin1', ''),
    encoding: fc.constantFrom(undefined, 'gzip', 'br', 'identity', 'bogus'),
  }),
  fc.record({
    kind: fc.constant('path' as const),
    path: fc.oneof(
      fc.constantFrom('/../../etc/passwd', '/%2e%2e/%2e%2e/etc/passwd', '/api/../metrics', '/api/%00', '//api//work', '/api/work/', '/api/work%2F..', '/.env', '/%E0%A4%A', '/%'),
      fc.webPath().map((path) => (path.startsWith('/') ? path : `/${path}`)),
      fc.integer({ min: 1000, max: 16_000 }).map((n) => `/${'a'.repeat(n)}`),
    ),
    method: fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD'),
  }),
);

async function send(request: ClientRequest): Promise<{ status: number; body: string; method: string }> {
  const { path, method, body, headers } = describeRequest(request);
  const response = await pool.request({ path, method: method as 'GET', body: body ?? null, headers, headersTimeout: 5000, bodyTimeout: 5000 });
  return { status: response.statusCode, body: await response.body.text(), method };
}

type ClientRequest = typeof clientRequest extends fc.Arbitrary<infer T> ? T : never;

function describeRequest(request: ClientRequest): { path: string; method: string; body?: string; headers: Record<string, string> } {
  switch (request.kind) {
    case 'query':
      return { path: `${request.path}?${request.params.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&')}`, method: 'GET', headers: {} };
    case 'body':
      return {
        path: '/api/echo',
        method: 'POST',
        body: request.body,
        headers: { ...(request.contentType ? { 'content-type': request.contentType } : {}), ...(request.encoding ? { 'content-encoding': request.encoding } : {}) },
      };
    case 'path':
      return { path: request.path, method: request.method, headers: {} };
  }
}

describe('bad input fuzz (fast-check)', () => {
  it('1 000 generated malformed requests: never a 5xx, always a JSON error body', { timeout: 120_000 }, async () => {
    const rssBefore = (await pidusage(service.process.child.pid!)).memory;
    await fc.assert(
      fc.asyncProperty(clientRequest, async (request) => {
        const { status, body, method } = await send(request);
        record(status);
        expect(status).toBeLessThan(500);
        if (status >= 400 && method !== 'HEAD') expectJsonError(status, body, JSON.stringify(request).slice(0, 200));
      }),
      { numRuns: 1000, seed: 20261123, endOnFailure: true },
    );
    const rssAfter = (await pidusage(service.process.child.pid!)).memory;
    console.info(`fuzz: ${figures.cases} client requests, 5xx ${figures.fiveXX}, statuses ${JSON.stringify(figures.status)}, RSS ${Math.round(rssBefore / 2 ** 20)} → ${Math.round(rssAfter / 2 ** 20)} MiB`);
    expect(rssAfter - rssBefore).toBeLessThan(64 * 2 ** 20);
  });

  it('malformed requests no client would send: bad methods, header syntax, huge headers, bad versions', { timeout: 60_000 }, async () => {
    const raw = fc.oneof(
      fc.constantFrom('FOO / HTTP/1.1', 'G ET / HTTP/1.1', 'GET / HTTP/9.9', 'GET  HTTP/1.1', '\u0000GET / HTTP/1.1', 'GET /\u0001 HTTP/1.1').map((line) => `${line}\r\nHost: x\r\n\r\n`),
      fc.integer({ min: 17_000, max: 80_000 }).map((n) => `GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(n)}\r\n\r\n`),
      fc.string({ minLength: 1, maxLength: 40 }).map((junk) => `GET / HTTP/1.1\r\nHost: x\r\nBad Header${junk}\r\n\r\n`),
      fc.constantFrom('POST /api/echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n', 'POST /api/echo HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n'),
    );
    await fc.assert(
      fc.asyncProperty(raw, async (bytes) => {
        const response = await rawRequest(service.port, bytes);
        record(response.status || 400);
        // Node's parser rejects these before any route runs; Fastify answers them in JSON.
        expect(response.status, bytes.slice(0, 60)).toBeGreaterThanOrEqual(400);
        expect(response.status).toBeLessThan(500);
        if (response.body) expectJsonError(response.status, response.body, bytes.slice(0, 60));
      }),
      { numRuns: 200, seed: 7, endOnFailure: true },
    );
  });

  it('the process is still up, and the metric series stayed bounded', async () => {
    expect(service.process.child.exitCode).toBeNull();
    const families = await scrapeParsed(service.url);
    const series = seriesCount(families, 'http_requests_total');
    console.info(`fuzz: ${figures.cases} cases in all, ${figures.fiveXX} 5xx, http_requests_total series after fuzzing: ${series}`);
    // methods (8) × route templates (4 + unmatched) × the codes seen: a fixed ceiling.
    expect(series).toBeLessThan(8 * 5 * 8);
    expect(figures.cases).toBeGreaterThanOrEqual(1200);
    expect(figures.fiveXX).toBe(0);
  });
});
