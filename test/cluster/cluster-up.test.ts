import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Cluster } from '@podscale/kube-local/cluster.ts';
import { until } from '@podscale/process/net.ts';
import { PodNetwork } from '@podscale/kube-local/pod-network.ts';
import { CLI, ROOT } from '../helpers/child.ts';
import { realNodeLeftovers } from '@podscale/kube-local/real-node/sweep.ts';
import { clusterSkipReason, e2eNode, kubectl } from '../helpers/cluster.ts';

const skip = (await clusterSkipReason()) ?? (await Cluster.unavailable().then((reason) => (reason ? (process.stderr.write(`skipped: ${reason}\n`), reason) : undefined)));

const node = skip ? 'agent' : await e2eNode('test/cluster/cluster-up.test.ts');

/** Starts `podscale cluster up` and resolves with its output once it printed `cluster ready`. */
async function clusterUp(dir: string, extra: string[] = []): Promise<{ child: ChildProcess; output: () => string; slot: number }> {
  const child = spawn(process.execPath, [CLI, 'cluster', 'up', '--dir', dir, '--node', node, ...extra], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', () => output.includes('cluster ready') && resolve());
    child.once('exit', (code) => reject(new Error(`cluster up exited ${code}: ${output}`)));
  });
  const slot = Number(/bridge podscale(\d+)/.exec(output)?.[1]);
  return { child, output: () => output, slot };
}

/** Processes whose command line mentions the cluster's directory: its components and guards. */
async function processesOf(dir: string): Promise<string[]> {
  const { readdir } = await import('node:fs/promises');
  const found: string[] = [];
  for (const pid of (await readdir('/proc')).filter((entry) => /^\d+$/.test(entry))) {
    const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
    if (cmdline.includes(dir) && Number(pid) !== process.pid) found.push(`${pid} ${cmdline.replaceAll('\0', ' ').slice(0, 120)}`);
  }
  return found;
}

/** Everything of the cluster on the machine: its network, and a real node's processes, mounts, cgroups, chains, sysctls. */
async function leftovers(dir: string, slot: number): Promise<string[]> {
  return [...(await new PodNetwork(slot).leftovers()), ...(node === 'real' ? await realNodeLeftovers(dir, slot) : [])];
}

describe.skipIf(skip)(`podscale cluster up (${node} node)`, () => {
  const dirs: string[] = [];
  afterEach(async () => {
    for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
  });

  it('prints the stand-ins and `cluster ready`, serves kubectl, and stops everything on Ctrl-C (exit 0)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'podscale-up-'));
    dirs.push(dir);
    const { child, output, slot } = await clusterUp(join(dir, 'c'));
    expect(output()).toMatch(node === 'real' ? /node: real \(kubelet/ : /stand-in: node: /);
    expect(output()).toMatch(/cluster ready: export KUBECONFIG=.*\/kubeconfig/);
    const nodes = await kubectl(join(dir, 'c', 'kubeconfig'), ['get', 'nodes', '-o', 'jsonpath={.items[*].status.conditions[?(@.type=="Ready")].status}']);
    expect(nodes.stdout).toBe('True');
    expect(JSON.parse(await readFile(join(dir, 'c', 'services.json'), 'utf8'))).toHaveProperty(['default/kubernetes']);
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    child.kill('SIGINT');
    expect(await exited).toBe(0);
    expect(await processesOf(dir)).toEqual([]);
    expect(await leftovers(join(dir, 'c'), slot)).toEqual([]);
  }, 180_000);

  it('leaves no process and no network behind when it is killed with SIGKILL (a real node: with the kit running)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'podscale-up-'));
    dirs.push(dir);
    const { child, slot } = await clusterUp(join(dir, 'c'), node === 'real' ? ['--apply', join(ROOT, 'k8s')] : []);
    if (node === 'real') {
      // Containers, their shims, overlay and tmpfs mounts, pod network namespaces: what a kill leaves to the janitor.
      await until(async () => (await kubectl(join(dir, 'c', 'kubeconfig'), ['get', 'pods', '-n', 'podscale', '-l', 'app.kubernetes.io/name=podscale', '-o', 'jsonpath={.items[*].status.phase}'])).stdout === 'Running Running', { timeoutMs: 60_000, intervalMs: 500, what: 'two podscale pods Running' });
    }
    expect(await processesOf(dir)).not.toEqual([]);
    child.kill('SIGKILL');
    // The guards stop the components within their grace period; the janitor then removes the network.
    await until(async () => (await processesOf(dir)).length === 0, { timeoutMs: 30_000, what: 'the cluster processes to exit' });
    let left: string[] = [];
    await until(async () => (left = await leftovers(join(dir, 'c'), slot)).length === 0, { timeoutMs: 30_000, what: `pod network slot ${slot} and the node to be removed` }).catch((error: Error) => {
      throw new Error(`${error.message}; left: ${left.join('; ')}`);
    });
  }, 180_000);
});
