/**
 * The servers the bench compares: podscale as the image runs it (the service bundle with its
 * compile cache), bare Fastify as the baseline, and the peers a user would pick instead. Each is
 * started pinned to the server core and timed from spawn to its first /readyz 200.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { build } from 'esbuild';
import { request } from 'undici';
import { freePort, until } from '@podscale/process/net.ts';
import { serviceEnv, SERVICE_BUNDLE, SERVICE_DIR } from '../scripts/service-bundle.ts';
import { ROOT, SERVER_CORE, SMOKE } from './settings.ts';

export interface ServerKind {
  name: string;
  entry: string;
  env?: Record<string, string>;
}

export const BARE = 'bare Fastify';
export const PODSCALE = 'podscale (production config)';
const PRODUCTION_ENV = { SHUTDOWN_DELAY_MS: '0', LOG_LEVEL: 'info', ...serviceEnv(join(ROOT, SERVICE_DIR)) };
/**
 * The peers (bench/servers/*.ts) run as JavaScript, as their users run them: started from a .ts
 * file, Node first loads the TypeScript parser it strips types with, which gave the bare Fastify
 * baseline ~14 MiB more RSS and ~20 ms more start-up than the same server as JavaScript.
 */
const PEERS = ['bare-fastify', 'fastify-metrics', 'express-prom-bundle'] as const;
const PEERS_DIR = 'dist/bench/servers';
const peer = (name: (typeof PEERS)[number]) => `${PEERS_DIR}/${name}.mjs`;

/** Bundles the peers to dist/bench/servers/*.mjs; the bench starts them from there. */
export async function buildPeers(): Promise<void> {
  await build({
    absWorkingDir: ROOT,
    entryPoints: PEERS.map((name) => `bench/servers/${name}.ts`),
    outdir: PEERS_DIR,
    outExtension: { '.js': '.mjs' },
    format: 'esm',
    platform: 'node',
    target: 'node24',
    logLevel: 'warning',
  });
}

export const SERVERS: ServerKind[] = [
  { name: BARE, entry: peer('bare-fastify') },
  { name: PODSCALE, entry: SERVICE_BUNDLE, env: PRODUCTION_ENV },
  { name: 'podscale with LOG_REQUESTS=true', entry: SERVICE_BUNDLE, env: { ...PRODUCTION_ENV, LOG_REQUESTS: 'true' } },
  { name: 'fastify-metrics', entry: peer('fastify-metrics') },
  { name: 'express + express-prom-bundle', entry: peer('express-prom-bundle') },
];
export const [bareKind, podscaleKind] = SERVERS as [ServerKind, ServerKind];
export const THROUGHPUT_SERVERS = SMOKE ? [bareKind, podscaleKind] : SERVERS;

export interface Running {
  url: string;
  child: ChildProcess;
  pid: number;
  startupMs: number;
  stop(): Promise<void>;
}

export async function startServer(kind: ServerKind): Promise<Running> {
  const port = await freePort();
  const spawnedAt = performance.now();
  const child = spawn('taskset', ['-c', SERVER_CORE, process.execPath, join(ROOT, kind.entry)], {
    env: { PATH: process.env.PATH, PORT: String(port), HOST: '127.0.0.1', ...kind.env },
    stdio: 'ignore',
  });
  const url = `http://127.0.0.1:${port}`;
  await until(async () => (await request(`${url}/readyz`)).statusCode === 200, { timeoutMs: 15_000, intervalMs: 2, what: `${kind.name} to answer /readyz` });
  const startupMs = performance.now() - spawnedAt;
  return {
    url,
    child,
    pid: child.pid!,
    startupMs,
    stop: async () => {
      child.kill('SIGTERM');
      await once(child, 'exit');
    },
  };
}
