import { fileURLToPath } from 'node:url';
import { Agent, Pool, request } from 'undici';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { spawnService, type StartedService } from '../../../test/helpers/child.ts';

const INJECT_FAILURE = fileURLToPath(new URL('../../../test/fixtures/inject-failure.mjs', import.meta.url));

const started: StartedService[] = [];
const clients: (Pool | Agent)[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((client) => client.destroy()));
  await Promise.all(started.splice(0).map((service) => service.process.stop()));
});

async function start(env: Record<string, string>, nodeArgs: string[] = []): Promise<StartedService> {
  const service = await spawnService(env, nodeArgs);
  started.push(service);
  return service;
}

/** A fresh connection per call, like a client that has just resolved the Service. */
async function fresh(url: string): Promise<{ status: number; connection: string | undefined }> {
  const agent = new Agent({ pipelining: 0 });
  clients.push(agent);
  const response = await request(url, { dispatcher: agent });
  await response.body.dump();
  return { status: response.statusCode, connection: response.headers.connection as string | undefined };
}

const phaseLine = (phase: string) => (line: { phase?: string }) => line.phase === phase;

describe('graceful shutdown of the real process', () => {
  it('SIGTERM with 120 in-flight keep-alive requests: all complete with 200, probes flip, exit 0 before the deadline', async () => {
    const delayMs = 1500;
    const timeoutMs = 5000;
    const service = await start({ SHUTDOWN_DELAY_MS: String(delayMs), SHUTDOWN_TIMEOUT_MS: String(timeoutMs) });
    const inFlight = 120;
    // Long enough that all 120 are in flight together, shorter than the drain delay plus deadline.
    const requestMs = 2000;
    const pool = new Pool(service.url, { connections: inFlight, keepAliveTimeout: 60_000 });
    clients.push(pool);

    const sentAt = performance.now();
    const responses = Array.from({ length: inFlight }, async () => {
      const response = await pool.request({ path: `/api/delay?ms=${requestMs}`, method: 'GET' });
      await response.body.dump();
      return response.statusCode;
    });
    // Past requestMs the first ones complete and "120 in flight" can no longer happen.
    await vi.waitFor(() => expect(pool.stats.running).toBe(inFlight), { timeout: requestMs, interval: 5 });
    expect(performance.now() - sentAt, 'all 120 in flight before the first could finish').toBeLessThan(requestMs);

    const signalledAt = performance.now();
    service.process.child.kill('SIGTERM');
    await service.process.waitFor(phaseLine('drain'));

    expect(await fresh(`${service.url}/readyz`)).toMatchObject({ status: 503 });
    expect(await fresh(`${service.url}/healthz`)).toMatchObject({ status: 200 });
    // A client that has not yet seen the endpoint removal still gets served, and told to reconnect.
    expect(await fresh(`${service.url}/api/delay?ms=10`)).toEqual({ status: 200, connection: 'close' });

    const statuses = await Promise.all(responses);
    const { code } = await service.process.exited;
    const drainMs = performance.now() - signalledAt;
    const failures = statuses.filter((status) => status !== 200).length;
    console.info(`shutdown: ${inFlight} in flight, ${failures} failed, exit ${code}, signal→exit ${Math.round(drainMs)} ms`);

    expect(failures).toBe(0);
    expect(code).toBe(0);
    expect(drainMs).toBeGreaterThanOrEqual(delayMs);
    expect(drainMs).toBeLessThan(delayMs + timeoutMs);
    const phases = service.process.lines.filter((line) => line.phase).map((line) => line.phase);
    expect(phases, JSON.stringify(service.process.lines)).toEqual(['drain', 'close', 'exit']);
  });

  it('SIGINT drains the same way', async () => {
    const service = await start({ SHUTDOWN_DELAY_MS: '100' });
    service.process.child.kill('SIGINT');
    expect((await service.process.waitFor(phaseLine('drain'))).signal).toBe('SIGINT');
    expect((await service.process.exited).code).toBe(0);
  });

  it('closes idle keep-alive sockets instead of waiting for them', async () => {
    const timeoutMs = 3000;
    const service = await start({ SHUTDOWN_DELAY_MS: '50', SHUTDOWN_TIMEOUT_MS: String(timeoutMs) });
    const pool = new Pool(service.url, { connections: 50, keepAliveTimeout: 60_000 });
    clients.push(pool);
    await Promise.all(Array.from({ length: 50 }, async () => (await pool.request({ path: '/', method: 'GET' })).body.dump()));
    expect(pool.stats.connected).toBeGreaterThan(1);
    const signalledAt = performance.now();
    service.process.child.kill('SIGTERM');
    expect((await service.process.exited).code).toBe(0);
    // Waiting for idle sockets would last until the keep-alive timeout, far past the deadline.
    expect(performance.now() - signalledAt).toBeLessThan(timeoutMs);
  });

  it('exits 1 when closing hangs past SHUTDOWN_TIMEOUT_MS', async () => {
    const timeoutMs = 400;
    const hangingMs = 5000;
    // Request logging on, to signal only once the service has the request: sent is not enough,
    // since a connection still in the listen backlog when the listener closes is never served.
    const service = await start({ SHUTDOWN_DELAY_MS: '100', SHUTDOWN_TIMEOUT_MS: String(timeoutMs), LOG_REQUESTS: 'true' });
    const pool = new Pool(service.url, { connections: 1 });
    clients.push(pool);
    const hanging = pool.request({ path: `/api/delay?ms=${hangingMs}`, method: 'GET' }).catch((error: unknown) => error);
    await service.process.waitFor((line) => line.msg === 'incoming request' && (line.req as { url?: string } | undefined)?.url === `/api/delay?ms=${hangingMs}`);
    const signalledAt = performance.now();
    service.process.child.kill('SIGTERM');
    const { code } = await service.process.exited;
    const elapsedMs = performance.now() - signalledAt;
    expect(code, `exit after ${Math.round(elapsedMs)} ms; the service logged ${JSON.stringify(service.process.lines)}`).toBe(1);
    // At the deadline, not when the hanging request would have finished.
    expect(performance.now() - signalledAt).toBeGreaterThanOrEqual(timeoutMs);
    expect(performance.now() - signalledAt).toBeLessThan(hangingMs);
    expect(service.process.lines.some(phaseLine('deadline'))).toBe(true);
    await hanging;
  });

  it('a second signal exits 1 at once', async () => {
    const delayMs = 20_000;
    const service = await start({ SHUTDOWN_DELAY_MS: String(delayMs) });
    service.process.child.kill('SIGTERM');
    await service.process.waitFor(phaseLine('drain'));
    const secondAt = performance.now();
    service.process.child.kill('SIGTERM');
    expect((await service.process.exited).code).toBe(1);
    // Without the second-signal exit, the process would go on draining for the whole delay.
    expect(performance.now() - secondAt).toBeLessThan(delayMs);
    expect(service.process.lines.some(phaseLine('second-signal'))).toBe(true);
  });

  it.each(['exception', 'rejection'])('an uncaught %s is logged at fatal and drains, then exits 1', async (failure) => {
    const service = await start({ SHUTDOWN_DELAY_MS: '100', INJECT_FAILURE: failure }, ['--import', INJECT_FAILURE]);
    service.process.child.kill('SIGWINCH');
    const fatal = await service.process.waitFor(phaseLine('fatal-error'));
    expect(fatal.level).toBe(60);
    expect(JSON.stringify(fatal.err)).toMatch(new RegExp(`injected (uncaught|unhandled) ${failure}`));
    expect((await service.process.exited).code).toBe(1);
    expect(service.process.lines.filter((line) => line.phase).map((line) => line.phase)).toEqual(['fatal-error', 'drain', 'close', 'exit']);
  });
});
