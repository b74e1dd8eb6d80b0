import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { loadLabKit } from '@podscale/cli/lab/kit.ts';
import { until } from '@podscale/process/net.ts';
import type { LabState } from '@podscale/cli/lab/lab.ts';
import { CLI } from '../../../../test/helpers/child.ts';
import { probeTiming } from '@podscale/kube-local/probe.ts';
import { alive } from '@podscale/process/alive.ts';

const KIT = loadLabKit();
// A pod's process exists as soon as it is spawned: allow it its whole startup-probe budget.
const SPAWN_MS = KIT.probes.startup ? probeTiming(KIT.probes.startup).periodMs * probeTiming(KIT.probes.startup).failureThreshold : probeTiming(KIT.probes.readiness).periodMs;
// Every child gets SIGTERM, then SIGKILL after the pod grace period: by then all are gone.
const GONE_MS = KIT.terminationGracePeriodSeconds * 1000 * 1.5;
const FAST = ['--sync-period', '2s', '--scrape-interval', '1s', '--rate-window', '4s', '--propagation-delay', '300ms', '--plain'];

const children: ChildProcess[] = [];
afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
});


/** Starts `podscale lab` and resolves with its control URL once it has announced itself. */
async function startLab(args: string[]): Promise<{ child: ChildProcess; controlUrl: string; output: string[] }> {
  const child = spawn(process.execPath, [CLI, 'lab', ...FAST, ...args], { env: { PATH: process.env.PATH, CI: 'true' }, stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(child);
  const output: string[] = [];
  const controlUrl = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      output.push(line);
      const match = /control (http:\/\/127\.0\.0\.1:\d+)/.exec(line);
      if (match) resolve(match[1]!);
    });
    child.once('exit', (code) => reject(new Error(`lab exited early (${code}): ${output.join('\n')}`)));
  });
  return { child, controlUrl, output };
}

async function labPids(controlUrl: string): Promise<number[]> {
  let state: LabState | undefined;
  await until(
    async () => {
      state = (await (await request(`${controlUrl}/lab/state`)).body.json()) as LabState;
      return state.pods.length >= 2 && state.pods.every((pod) => pod.pid !== undefined);
    },
    { timeoutMs: SPAWN_MS, what: 'the lab pods' },
  );
  return [...state!.pods.map((pod) => pod.pid!), ...(state!.prometheusPid ? [state!.prometheusPid] : [])];
}

async function expectAllGone(pids: number[]): Promise<void> {
  expect(pids.length).toBeGreaterThanOrEqual(2);
  await until(async () => pids.every((pid) => !alive(pid)), { timeoutMs: GONE_MS, what: `processes ${pids.join(', ')} to end` });
}

describe('podscale lab leaves no process behind', () => {
  it('when it ends normally after a scenario', { timeout: 120_000 }, async () => {
    const { child, controlUrl, output } = await startLab(['--stages', '3s:20']);
    const pids = await labPids(controlUrl);
    const [code] = (await once(child, 'exit')) as [number];
    expect(code).toBe(0);
    expect(output.join('\n')).toMatch(/^done after 3\.\ds/m);
    // 20 req/s is far below the HPA's targets: the closing story says nothing scaled, and why.
    expect(output.join('\n')).toMatch(/^lab: replicas stayed at 2; last decision: /m);
    await expectAllGone(pids);
  });

  it('on Ctrl-C', { timeout: 120_000 }, async () => {
    const { child, controlUrl } = await startLab([]);
    const pids = await labPids(controlUrl);
    child.kill('SIGINT');
    await once(child, 'exit');
    await expectAllGone(pids);
  });

  it('when the lab itself is killed (SIGKILL)', { timeout: 120_000 }, async () => {
    const { child, controlUrl } = await startLab([]);
    const pids = await labPids(controlUrl);
    child.kill('SIGKILL');
    await once(child, 'exit');
    await expectAllGone(pids);
  });

  it('podscale load --watch lab follows a running lab', { timeout: 120_000 }, async () => {
    const { child, controlUrl } = await startLab([]);
    await labPids(controlUrl);
    const state = (await (await request(`${controlUrl}/lab/state`)).body.json()) as LabState;
    const load = spawn(process.execPath, [CLI, 'load', `${state.serviceUrl}/`, '--rate', '20', '--duration', '2s', '--watch', 'lab'], { env: { PATH: process.env.PATH, CI: 'true' }, stdio: ['ignore', 'pipe', 'inherit'] });
    children.push(load);
    let out = '';
    load.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    const [code] = (await once(load, 'exit')) as [number];
    expect(code).toBe(0);
    expect(out).toMatch(/replicas=2\/2/);
    child.kill('SIGINT');
    await once(child, 'exit');
  });
});
