import { connect, type Socket } from 'node:net';
import { once } from 'node:events';
import { request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { spawnService, type StartedService } from '../helpers/child.ts';

const started: StartedService[] = [];
const sockets: Socket[] = [];
afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.destroy();
  await Promise.all(started.splice(0).map((s) => s.process.stop()));
});

async function start(env: Record<string, string> = {}): Promise<StartedService> {
  const service = await spawnService({ SHUTDOWN_DELAY_MS: '200', HEADERS_TIMEOUT_MS: '1000', REQUEST_TIMEOUT_MS: '2000', ...env });
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
  await once(socket, 'close');
  clearInterval(timer);
  return { closedAfterMs: performance.now() - startedAt, answer };
}

describe('slow clients', () => {
  it('a slow-header (slowloris) connection is closed by HEADERS_TIMEOUT_MS', { timeout: 20_000 }, async () => {
    const service = await start();
    const socket = await open(service.port);
    const { closedAfterMs, answer } = await trickle(socket, 'GET / HTTP/1.1\r\nHost: x\r\n', 'X', 200);
    console.info(`slow headers: closed after ${Math.round(closedAfterMs)} ms`);
    expect(closedAfterMs).toBeGreaterThanOrEqual(900);
    expect(closedAfterMs).toBeLessThan(3500);
    if (answer) expect(answer).toMatch(/^HTTP\/1\.1 408/);
  });

  it('a slow-body connection is closed by REQUEST_TIMEOUT_MS', { timeout: 20_000 }, async () => {
    const service = await start();
    const socket = await open(service.port);
    const { closedAfterMs } = await trickle(socket, 'POST /api/echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n', ' ', 200);
    console.info(`slow body: closed after ${Math.round(closedAfterMs)} ms`);
    expect(closedAfterMs).toBeGreaterThanOrEqual(1900);
    expect(closedAfterMs).toBeLessThan(5000);
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
    expect(latencies[Math.floor(latencies.length * 0.99)]!).toBeLessThan(200);
    // Two half-sent requests on top, then SIGTERM.
    for (let i = 0; i < 2; i += 1) (await open(service.port)).write('GET / HTTP/1.1\r\nHost: x\r\n');
    const signalledAt = performance.now();
    service.process.child.kill('SIGTERM');
    const { code } = await service.process.exited;
    const tookMs = performance.now() - signalledAt;
    console.info(`shutdown with 300 idle + 2 half-open sockets: exit ${code} after ${Math.round(tookMs)} ms`);
    expect(code).toBe(0);
    expect(tookMs).toBeLessThan(200 + 3000);
  });
});
