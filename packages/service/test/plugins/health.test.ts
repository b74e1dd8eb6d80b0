import { request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { buildApp } from '@podscale/service/app.ts';
import type { FastifyInstance } from 'fastify';
import { testConfig } from '../../../../test/helpers/app.ts';

let app: FastifyInstance | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

async function listen(instance: FastifyInstance): Promise<string> {
  const address = await instance.listen({ port: 0, host: '127.0.0.1' });
  return address;
}

describe('probes', () => {
  it('readiness is 503 before the app listens and 200 once it does', async () => {
    app = await buildApp(testConfig());
    const before = await app.inject({ url: '/readyz' });
    expect(before.statusCode).toBe(503);
    expect(before.json()).toEqual({ status: 'starting' });
    expect((await app.inject({ url: '/healthz' })).statusCode).toBe(200);

    const url = await listen(app);
    const after = await request(`${url}/readyz`);
    expect(after.statusCode).toBe(200);
    expect(await after.body.json()).toEqual({ status: 'ready' });
  });

  it('while draining: readiness 503, liveness 200, every response closes its connection', async () => {
    app = await buildApp(testConfig());
    const url = await listen(app);
    const ready = await request(`${url}/`);
    expect(ready.headers.connection).toBe('keep-alive');
    await ready.body.dump();

    app.lifecycle.beginDrain();
    const readyz = await request(`${url}/readyz`);
    expect(readyz.statusCode).toBe(503);
    expect(await readyz.body.json()).toEqual({ status: 'draining' });
    const healthz = await request(`${url}/healthz`);
    expect(healthz.statusCode).toBe(200);
    await healthz.body.dump();
    const served = await request(`${url}/api/delay?ms=1`);
    expect(served.statusCode).toBe(200);
    expect(served.headers.connection).toBe('close');
    await served.body.dump();
  });
});
