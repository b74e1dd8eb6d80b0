import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/app.ts';
import { loadConfig, type Config } from '../../src/config.ts';

export function testConfig(env: Record<string, string> = {}): Config {
  return loadConfig({ POD_NAME: 'test-pod', ...env });
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
