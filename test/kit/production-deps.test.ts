import { execFile } from 'node:child_process';
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { request } from 'undici';
import { afterAll, expect, it } from 'vitest';
import { ROOT, spawnService, type StartedService } from '../helpers/child.ts';

let dir: string | undefined;
let service: StartedService | undefined;
afterAll(async () => {
  await service?.process.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

// What the Dockerfile's final stage holds: package.json, dist/ and `npm ci --omit=dev`, with
// install scripts ignored.
it('the production dependency set alone starts the service', { timeout: 120_000 }, async () => {
  dir = await mkdtemp(join(tmpdir(), 'podscale-prod-'));
  for (const file of ['package.json', 'package-lock.json', 'dist']) await cp(join(ROOT, file), join(dir, file), { recursive: true });
  await promisify(execFile)('npm', ['ci', '--omit=dev', '--ignore-scripts', '--no-audit', '--no-fund'], { cwd: dir });
  service = await spawnService({ SHUTDOWN_DELAY_MS: '0' }, [], join(dir, 'dist', 'server.js'));
  const response = await request(`${service.url}/readyz`);
  expect(response.statusCode).toBe(200);
  await response.body.dump();
});
