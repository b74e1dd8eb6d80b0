import { once } from 'node:events';
import { createServer } from 'node:net';

/** A port that was free a moment ago on 127.0.0.1, for programs that cannot listen on port 0 and report back. */
export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  server.close();
  await once(server, 'close');
  return port;
}

/** Polls `check` until it returns true; for conditions that emit no event (another process' state). */
export async function until(check: () => Promise<boolean>, { timeoutMs, intervalMs = 100, what }: { timeoutMs: number; intervalMs?: number; what: string }): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!(await check().catch(() => false))) {
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
