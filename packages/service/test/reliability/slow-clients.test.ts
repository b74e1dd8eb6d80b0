import { connect, type Socket } from 'node:net';
import { once } from 'node:events';
import { request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { CONNECTIONS_CHECKING_INTERVAL_MS } from '@podscale/service/app.ts';
import { spawnService, type StartedService } from '../../../../test/helpers/child.ts';

const started: StartedService[] = [];
const sockets: Socket[] = [];
afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.destroy();
  await Promise.all(started.splice(0).map((s) => s.process.stop()));
});

const HEADERS_TIMEOUT_MS = 1000;
const REQUEST_TIMEOUT_MS = 2000;
const SHUTDOWN_DELAY_MS = 200;
const SHUTDOWN_TIMEOUT_MS = 3000;
const TRICKLE_MS = 200;
// Node enforces both timeouts when it checks its connections: a limit shows at the first check
// after it expires, at most one interval late; a second interval allows for a check that a busy
// machine runs late.
const latestClose = (limitMs: number) => limitMs + 2 * CONNECTIONS_CHECKING_INTERVAL_MS;

async function start(env: Record<string, string> = {}): Promise<StartedService> {
  const service = await spawnService({
    SHUTDOWN_DELAY_MS: String(SHUTDOWN_DELAY_MS),
    SHUTDOWN_TIMEOUT_MS: String(SHUTDOWN_TIMEOUT_MS),
    HEADERS_TIMEOUT_MS: String(HEADERS_TIMEOUT_MS),
    REQUEST_TIMEOUT_MS: String(REQUEST_TIMEOUT_MS),
    ...env,
  });
  started.push(service);
  return service;
}

async function open(port: number): Promise<Socket> {
  const socket = connect({ port, host: '127.0.0.1' });
  socket.on('error', () => undefined);
  sockets.push(socket);
  await once(socket, 'connect');
  return socket;
}

/** Writes one byte at a time until the server closes the socket; resolves with what it answered. */
async function trickle(socket: Socket, head: string, byte: string, everyMs: number): Promise<{ closedAfterMs: number; answer: string }> {
  const startedAt = performance.now();
  let answer = '';
  socket.on('data', (chunk: Buffer) => (answer += chunk.toString()));
  socket.write(head);
  const timer = setInterval(() => socket.writable && socket.write(byte), everyMs);
  // Not events.once: it rejects on 'error', and a server that closes while we still write makes
  // the kernel answer our next byte with a reset (ECONNRESET) — still the close this waits for.
  await new Promise((resolve) => socket.once('close', resolve));
  clearInterval(timer);
  return { closedAfterMs: performance.now() - startedAt, answer };
}

describe('slow clients', () => {
  it('a slow-header (slowloris) connection is closed by HEADERS_TIMEOUT_MS', { timeout: 20_000 }, async () => {
    const service = await start();
    const socket = await open(service.port);
    const { closedAfterMs, answer } = await trickle(socket, 'GET / HTTP/1.1\r\nHost: x\r\n', 'X', TRICKLE_MS);
    console.info(`slow headers: closed after ${Math.round(closedAfterMs)} ms`);
    // The server's clock starts at accept, a moment before ours: hence a little under the limit.
    expect(closedAfterMs).toBeGreaterThanOrEqual(HEADERS_TIMEOUT_MS * 0.9);
    expect(closedAfterMs).toBeLessThan(latestClose(HEADERS_TIMEOUT_MS));
    if (answer) expect(answer).toMatch(/^HTTP\/1\.1 408/);
  });

  it('a slow-body connection is closed by REQUEST_TIMEOUT_MS', { timeout: 20_000 }, async () => {
    const service = await start();
    const socket = await open(service.port);
    const { closedAfterMs } = await trickle(socket, 'POST /api/echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n', ' ', TRICKLE_MS);
    console.info(`slow body: closed after ${Math.round(closedAfterMs)} ms`);
    expect(closedAfterMs).toBeGreaterThanOrEqual(REQUEST_TIMEOUT_MS * 0.95);
    expect(closedAfterMs).toBeLessThan(latestClose(REQUEST_TIMEOUT_MS));
  });

  it('300 idle keep-alive sockets do not stop the service from answering others, and shutdown still ends in time', { timeout: 30_000 }, async () => {
    const service = await start();
    const idle = await Promise.all(Array.from({ length: 300 }, () => open(service.port)));
    // Each idle socket has made one request and keeps its connection open.
    await Promise.all(
      idle.map(async (socket) => {
        socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
        await once(socket, 'data');
      }),
    );
    const latencies: number[] = [];
    for (let i = 0; i < 50; i += 1) {
      const t = performance.now();
      const response = await request(`${service.url}/api/delay?ms=0`);
      await response.body.dump();
      expect(response.statusCode).toBe(200);
      latencies.push(performance.now() - t);
    }
    latencies.sort((a, b) => a - b);
    // A request that had to wait for an idle socket to go would wait for one of the server's
    // timeouts, the shortest being the headers timeout; anything quicker was served alongside them.
    expect(latencies.at(-1)!).toBeLessThan(HEADERS_TIMEOUT_MS);
    // Two half-sent requests on top, then SIGTERM.
    for (let i = 0; i < 2; i += 1) (await open(service.port)).write('GET / HTTP/1.1\r\nHost: x\r\n');
    const signalledAt = performance.now();
    service.process.child.kill('SIGTERM');
    const { code } = await service.process.exited;
    const tookMs = performance.now() - signalledAt;
    console.info(`shutdown with 300 idle + 2 half-open sockets: exit ${code} after ${Math.round(tookMs)} ms`);
    expect(code).toBe(0);
    expect(tookMs).toBeLessThan(SHUTDOWN_DELAY_MS + SHUTDOWN_TIMEOUT_MS);
  });
});
