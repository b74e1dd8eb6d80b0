import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { Cluster } from '@podscale/kube-local/cluster.ts';
import { CLI } from '../helpers/child.ts';
import { clusterSkipReason } from '../helpers/cluster.ts';

const skip =
  (await clusterSkipReason(['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kubectl', 'prometheus', 'prometheus-adapter', 'metrics-server'])) ??
  (await Cluster.unavailable().then((reason) => (reason ? (process.stderr.write(`skipped: ${reason}\n`), reason) : undefined)));

const run = promisify(execFile);

/** What a lab on the real control plane leaves on the machine: pod bridges, network namespaces, Service-range blackholes, temp folders. */
async function traces(): Promise<string[]> {
  const bridges = (await readdir('/sys/class/net')).filter((name) => name.startsWith('podscale'));
  const netns = await readdir('/run/netns').catch(() => []);
  const folders = (await readdir(tmpdir())).filter((name) => name.startsWith('podscale-lab-k8s-'));
  const blackholes = (await run('ip', ['route', 'show', 'type', 'blackhole'])).stdout.split('\n').filter((line) => line.trim() !== '');
  return [...bridges, ...netns.filter((name) => name.startsWith('podscale')), ...blackholes, ...folders].sort();
}

describe.skipIf(skip)('podscale lab --control-plane kubernetes, sent SIGTERM while the cluster starts', () => {
  it('finishes starting, stops what it started, exits 130, and leaves nothing behind', async () => {
    const before = await traces();
    const child = spawn(process.execPath, [CLI, 'lab', '--control-plane', 'kubernetes', '--scenario', 'steady', '--plain'], { env: { ...process.env, CI: 'true' }, stdio: ['ignore', 'pipe', 'pipe'] });
    const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
    // Mid-start: the API server is up, the node and the kit not yet.
    for await (const line of createInterface({ input: child.stdout })) {
      if (line.includes('kube-apiserver ready')) break;
    }
    child.stdout.resume();
    child.kill('SIGTERM');
    const [code, signal] = await exited;
    expect({ code, signal }).toEqual({ code: 130, signal: null });
    expect(await traces()).toEqual(before);
  }, 180_000);
});
