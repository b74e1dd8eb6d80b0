/**
 * The load the bench applies, pinned to the client core so that it never takes the server's:
 * wrk for maximum rate, `podscale load` for a fixed rate with latency percentiles, and 100
 * requests over 8 fresh connections for what a server does right after it says it is ready.
 */
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Pool } from 'undici';
import type { RunRecord } from '@podscale/cli/load/record.ts';
import { CLIENT_CORE, ROOT } from './settings.ts';

export const run = promisify(execFile);

interface WrkResult {
  requests: number;
  durationUs: number;
  errors: number;
  p50Us: number;
  p99Us: number;
  maxUs: number;
}

export async function wrk(url: string, seconds: number): Promise<WrkResult & { rps: number }> {
  const { stdout } = await run('taskset', ['-c', CLIENT_CORE, 'wrk', '-t1', '-c64', `-d${seconds}s`, '-s', join(ROOT, 'bench/wrk-json.lua'), `${url}/`]);
  const result = JSON.parse(stdout.trim().split('\n').at(-1)!) as WrkResult;
  return { ...result, rps: result.requests / (result.durationUs / 1e6) };
}

export async function podscaleLoad(url: string, args: string[]): Promise<RunRecord> {
  const out = join(tmpdir(), `podscale-bench-${process.pid}-${Math.random().toString(36).slice(2)}.json`);
  await run('taskset', ['-c', CLIENT_CORE, process.execPath, join(ROOT, 'packages/cli/src/cli.ts'), 'load', url, ...args, '--out', out, '--plain'], { maxBuffer: 64 * 1024 * 1024 });
  return JSON.parse(await readFile(out, 'utf8')) as RunRecord;
}

/** p99 of 100 GET / over 8 fresh connections, 8 at a time. */
export async function hundredRequestsP99(url: string): Promise<number> {
  const pool = new Pool(url, { connections: 8 });
  const latencies: number[] = [];
  let next = 0;
  const worker = async () => {
    while (next < 100) {
      next += 1;
      const started = performance.now();
      const response = await pool.request({ path: '/', method: 'GET' });
      await response.body.dump();
      latencies.push(performance.now() - started);
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
  await pool.close();
  return latencies.sort((a, b) => a - b)[98]!;
}
