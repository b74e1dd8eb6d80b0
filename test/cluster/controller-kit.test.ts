import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Cluster } from '@podscale/kube-local/cluster.ts';
import { until } from '@podscale/process/net.ts';
import { ROOT } from '../helpers/child.ts';
import { clusterSkipReason, e2eNode } from '../helpers/cluster.ts';

const skip = (await clusterSkipReason()) ?? (await Cluster.unavailable().then((reason) => (reason ? (process.stderr.write(`skipped: ${reason}\n`), reason) : undefined)));

const node = skip ? 'agent' : await e2eNode('test/cluster/controller-kit.test.ts');

describe.skipIf(skip)(`k8s/controller on the real control plane (${node === 'real' ? 'real node: the controller image as runc containers' : 'node agent'})`, () => {
  let cluster: Cluster;
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'podscale-controller-kit-'));
    cluster = await Cluster.start({ dir: join(dir, 'cluster'), repoRoot: ROOT, node });
    await cluster.kubectl(['apply', '--server-side', '-f', join(ROOT, 'k8s/namespace.yaml')]);
    await cluster.apply(join(ROOT, 'k8s/controller'));
  }, 120_000);

  afterAll(async () => {
    await cluster?.stop();
    if (cluster) expect(await cluster.leftovers()).toEqual([]);
    await rm(dir, { recursive: true, force: true });
  }, 120_000);

  it('runs both replicas from the Dockerfile stage, with their own ServiceAccount, and one holds the Lease', async () => {
    const ready = async () => {
      const { stdout } = await cluster.kubectl(['get', 'pods', '-n', 'podscale', '-l', 'app.kubernetes.io/name=podscale-controller', '-o', 'jsonpath={range .items[*]}{.metadata.name}={.status.conditions[?(@.type=="Ready")].status}{"\\n"}{end}']);
      return stdout.trim().split('\n').filter((line) => line.endsWith('=True')).map((line) => line.split('=')[0]);
    };
    // Readiness means informers synced (the probe's period bounds how soon it is seen).
    await until(async () => (await ready()).length === 2, { timeoutMs: 60_000, intervalMs: 1000, what: 'two Ready controller pods' }).catch(async (error: Error) => {
      // Say what the pods were doing: their phase, restarts and last log lines.
      const status = (await cluster.kubectl(['get', 'pods', '-n', 'podscale', '-o', 'wide'])).stdout;
      const logs = await cluster.kubectl(['logs', '-n', 'podscale', '-l', 'app.kubernetes.io/name=podscale-controller', '--tail=20', '--prefix']).then((r) => r.stdout, (e: Error) => e.message);
      throw new Error(`${error.message}\n${status}\n${logs}`);
    });
    const pods = await ready();
    const holder = (await cluster.kubectl(['get', 'lease', 'podscale-controller', '-n', 'podscale', '-o', 'jsonpath={.spec.holderIdentity}'])).stdout;
    expect(pods).toContain(holder);
  }, 90_000);
});
