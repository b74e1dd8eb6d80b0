import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '@podscale/service/app.ts';
import { loadConfig, type Config } from '@podscale/service/config.ts';

/**
 * Load shedding off unless a test asks for it: right after start-up, or on a busy machine, the
 * event loop can lag past the shedding threshold and a test about something else then gets 503s
 * (seen: a metrics count and a shutdown test). test/reliability/overload.test.ts turns it on.
 */
export const NO_SHEDDING = { OVERLOAD_MAX_EVENT_LOOP_DELAY_MS: '0' } as const;

export function testConfig(env: Record<string, string> = {}): Config {
  return loadConfig({ POD_NAME: 'test-pod', ...NO_SHEDDING, ...env });
}

export interface RunningApp {
  app: FastifyInstance;
  url: string;
  close(): Promise<void>;
}

/** The real app on a real socket: 127.0.0.1, ephemeral port. */
export async function startApp(env: Record<string, string> = {}): Promise<RunningApp> {
  const app = await buildApp(testConfig(env));
  await app.listen({ port: 0, host: '127.0.0.1' });
  const { port } = app.server.address() as AddressInfo;
  return { app, url: `http://127.0.0.1:${port}`, close: () => app.close() };
}
