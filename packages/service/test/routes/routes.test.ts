import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp, type RunningApp } from '../../../../test/helpers/app.ts';

let running: RunningApp;
beforeAll(async () => {
  running = await startApp({ WORK_MAX_MS: '200', DELAY_MAX_MS: '500', BODY_LIMIT_BYTES: '1024', POD_NAMESPACE: 'demo' });
});
afterAll(() => running.close());

async function get(path: string) {
  const response = await request(`${running.url}${path}`);
  return { status: response.statusCode, headers: response.headers, body: (await response.body.json()) as Record<string, unknown> };
}

async function post(path: string, body: string, contentType = 'application/json') {
  const response = await request(`${running.url}${path}`, { method: 'POST', body, headers: { 'content-type': contentType } });
  return { status: response.statusCode, body: (await response.body.json()) as Record<string, unknown> };
}

function expectClientError(result: { status: number; body: Record<string, unknown> }, status: number, message: RegExp) {
  expect(result.status).toBe(status);
  expect(result.body).toMatchObject({ statusCode: status, error: expect.any(String), code: expect.any(String) });
  expect(result.body.message).toMatch(message);
}

describe('GET /', () => {
  it('names the service, version, pod and namespace', async () => {
    const { status, headers, body } = await get('/');
    expect(status).toBe(200);
    expect(body).toMatchObject({ service: 'podscale', version: expect.stringMatching(/^\d+\.\d+\.\d+/), pod: 'test-pod', namespace: 'demo' });
    expect(body.uptimeSeconds).toBeGreaterThanOrEqual(0);
    expect(headers['x-served-by']).toBe('test-pod');
  });
});

describe('GET /api/work', () => {
  it('burns CPU for about the requested time', async () => {
    const started = performance.now();
    const { status, body } = await get('/api/work?ms=50');
    expect(status).toBe(200);
    expect(body.requestedMs).toBe(50);
    expect(body.tookMs).toBeGreaterThanOrEqual(50);
    expect(performance.now() - started).toBeGreaterThanOrEqual(50);
  });

  it('defaults to 10 ms', async () => {
    expect((await get('/api/work')).body.requestedMs).toBe(10);
  });

  it.each([
    ['ms=0', /querystring\/ms must be >= 1/],
    ['ms=201', /querystring\/ms must be <= 200/],
    ['ms=abc', /querystring\/ms must be integer/],
    ['ms=1.5', /querystring\/ms must be integer/],
    ['ms=1e400', /querystring\/ms must be a finite integer/],
    ['ms=-1e400', /querystring\/ms must be (a finite integer|>= 1)/],
  ])('rejects %s with a 400 naming the parameter', async (query, message) => {
    expectClientError(await get(`/api/work?${query}`), 400, message);
  });
});

describe('GET /api/delay', () => {
  it('waits the requested time', async () => {
    const started = performance.now();
    const { status, body } = await get('/api/delay?ms=120');
    expect(status).toBe(200);
    expect(body).toEqual({ delayedMs: 120 });
    expect(performance.now() - started).toBeGreaterThanOrEqual(115);
  });

  it('accepts 0', async () => {
    expect((await get('/api/delay?ms=0')).body).toEqual({ delayedMs: 0 });
  });

  it.each([
    ['ms=-1', /querystring\/ms must be >= 0/],
    ['ms=501', /querystring\/ms must be <= 500/],
    ['ms=', /querystring\/ms must be integer/],
    ['ms=1e400', /querystring\/ms must be a finite integer/],
  ])('rejects %s with a 400 naming the parameter', async (query, message) => {
    expectClientError(await get(`/api/delay?${query}`), 400, message);
  });
});

describe('POST /api/echo', () => {
  it('echoes a JSON body', async () => {
    const { status, body } = await post('/api/echo', JSON.stringify({ hello: ['world', 1, null] }));
    expect(status).toBe(200);
    expect(body).toEqual({ received: { hello: ['world', 1, null] }, bytes: 26 });
  });

  it('refuses a body over BODY_LIMIT_BYTES with 413', async () => {
    expectClientError(await post('/api/echo', JSON.stringify({ pad: 'x'.repeat(2000) })), 413, /too large/i);
  });

  it('refuses a non-JSON content type with 415', async () => {
    expectClientError(await post('/api/echo', '<a/>', 'application/xml'), 415, /unsupported media type/i);
  });

  it('refuses malformed JSON with 400', async () => {
    expectClientError(await post('/api/echo', '{"a":'), 400, /not valid JSON/i);
  });

  it('refuses __proto__ and constructor.prototype keys with 400', async () => {
    expectClientError(await post('/api/echo', '{"__proto__":{"polluted":true}}'), 400, /JSON/);
    expectClientError(await post('/api/echo', '{"constructor":{"prototype":{"polluted":true}}}'), 400, /JSON/);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('refuses documents nested deeper than 64 levels with 400', async () => {
    expectClientError(await post('/api/echo', `${'['.repeat(200)}${']'.repeat(200)}`), 400, /nested at most 64/);
    expect((await post('/api/echo', `${'['.repeat(60)}${']'.repeat(60)}`)).status).toBe(200);
  });
});

describe('unknown routes', () => {
  it('answer 404 in JSON', async () => {
    expectClientError(await get('/no/such/route'), 404, /no route for GET \/no\/such\/route/);
  });

  it('do not echo an unbounded URL back', async () => {
    const { body } = await get(`/${'a'.repeat(5000)}`);
    expect(String(body.message).length).toBeLessThan(300);
  });

  it('answer a wrong method on a known path with 404 JSON', async () => {
    expectClientError(await post('/api/work', '{}'), 404, /no route for POST \/api\/work/);
  });
});
