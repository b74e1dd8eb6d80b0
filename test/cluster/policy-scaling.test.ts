import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Cluster } from '@podscale/kube-local/cluster.ts';
import { until } from '@podscale/process/net.ts';
import type { RunRecord } from '@podscale/cli/load/record.ts';
import { CLI, ROOT } from '../helpers/child.ts';
import { clusterSkipReason } from '../helpers/cluster.ts';
import { runLivenessScenario } from '../helpers/liveness-scenario.ts';

const run = promisify(execFile);

// The kit's timings (scrape 15 s, adapter rate window 1m), the policy's cooldown and the
// controller's resync (15 s) bound every wait below.
const SCRAPE_S = 15;
const RATE_WINDOW_S = 60;
const RESYNC_S = 15;
const COOLDOWN_S = 20;
const THRESHOLD = 100;

const skip = (await clusterSkipReason(['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kubectl', 'prometheus', 'prometheus-adapter', 'metrics-server'])) ?? (await Cluster.unavailable().then((reason) => (reason ? (process.stderr.write(`skipped: ${reason}\n`), reason) : undefined)));

const POLICY = {
  apiVersion: 'autoscale.podscale.dev/v1',
  kind: 'AutoScalerPolicy',
  metadata: { name: 'podscale', namespace: 'podscale' },
  spec: { deploymentName: 'podscale', minReplicas: 2, maxReplicas: 6, cooldownSeconds: COOLDOWN_S, metrics: [{ type: 'Pods', name: 'http_requests_per_second', threshold: THRESHOLD }] },
};

describe.skipIf(skip)('AutoScalerPolicy on the real control plane: the controller (as pods) scales podscale on QPS', () => {
  let cluster: Cluster;
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'podscale-policy-'));
    process.stdout.write('override (test/fixtures/cluster-policy): HPA removed; controller --min-cooldown=20s (shipped 120s); policy cooldownSeconds 20, Pods http_requests_per_second threshold 100, min 2, max 6\n');
    cluster = await Cluster.start({ dir: join(dir, 'cluster'), repoRoot: ROOT });
    await cluster.kubectl(['apply', '--server-side', '-k', join(ROOT, 'test/fixtures/cluster-policy')]);
    for (const deployment of ['podscale', 'prometheus', 'prometheus-adapter', 'podscale-controller']) await cluster.kubectl(['rollout', 'status', '-n', 'podscale', `deployment/${deployment}`, '--timeout=120s']);
    await until(async () => (await cluster.kubectl(['get', 'apiservice', 'v1beta1.custom.metrics.k8s.io', '-o', 'jsonpath={.status.conditions[?(@.type=="Available")].status}'])).stdout === 'True', { timeoutMs: 120_000, intervalMs: 1000, what: 'custom metrics Available' });
    await cluster.kubectl(['apply', '--server-side', '-f', '-'], JSON.stringify(POLICY));
  }, 300_000);

  afterAll(async () => {
    await cluster?.stop();
    if (cluster) expect(await cluster.network.leftovers()).toEqual([]);
    await rm(dir, { recursive: true, force: true });
  }, 120_000);

  it('scales up under load through the scale subresource, then back to minReplicas after the cooldown', async () => {
    const replicas = async () => Number((await cluster.kubectl(['get', 'deployment', 'podscale', '-n', 'podscale', '-o', 'jsonpath={.spec.replicas}'])).stdout);
    expect(await replicas()).toBe(2);
    const url = (JSON.parse(await readFile(cluster.servicesFile, 'utf8')) as Record<string, string>)['podscale/podscale'];
    const out = join(dir, 'load.json');
    const rate = 5 * THRESHOLD * 2;
    await run(process.execPath, [CLI, 'load', `${url}/`, '--rate', String(rate), '--duration', `${RATE_WINDOW_S + 2 * SCRAPE_S + RESYNC_S}s`, '--max-requests-per-connection', '20', '--watch', 'deployment/podscale', '-n', 'podscale', '--plain', '--out', out], { env: { ...process.env, KUBECONFIG: cluster.kubeconfig }, maxBuffer: 64 * 1024 * 1024 });
    const record = JSON.parse(await readFile(out, 'utf8')) as RunRecord;
    const desired = record.timeline.map((point) => point.replicas?.desired ?? 0);
    process.stdout.write(`replicas (desired) per second under ${rate} req/s, set by the policy: ${desired.join(' ')}\n`);
    expect(Math.max(...desired)).toBeGreaterThan(2);
    const status = JSON.parse((await cluster.kubectl(['get', 'autoscalerpolicy', 'podscale', '-n', 'podscale', '-o', 'json'])).stdout) as { status: { lastScaleTime?: string; desiredReplicas?: number } };
    expect(status.status.lastScaleTime).toBeDefined();
    // Load gone: the rate window drains, and after the cooldown the policy writes the minimum.
    await until(async () => (await replicas()) === 2, { timeoutMs: (RATE_WINDOW_S + 2 * SCRAPE_S + COOLDOWN_S + 2 * RESYNC_S) * 1000 * 1.5, intervalMs: 2000, what: 'the policy to scale back to 2' });
    const events = (await cluster.kubectl(['get', 'events', '-n', 'podscale', '--field-selector', 'involvedObject.kind=AutoScalerPolicy', '-o', 'jsonpath={range .items[*]}{.reason}: {.message}{"\\n"}{end}'])).stdout;
    process.stdout.write(`policy events:\n${events}`);
    expect(events).toMatch(/Scaled: Scaled Deployment podscale from \d+ to [3-6]: /);
    expect(events).toMatch(/Scaled: Scaled Deployment podscale from [3-6] to 2: /);
  }, 600_000);

  it("restarts a container whose liveness probe fails in place, through SIGTERM and the grace period, and it is Ready again (kubelet's prober)", async () => {
    const outcome = await runLivenessScenario(cluster, 'podscale:0.1.0');
    process.stdout.write(`liveness scenario (node agent): ${JSON.stringify(outcome)}\n`);
    expect(outcome).toMatchObject({ restartCount: 1, ready: true, lastTerminated: { exitCode: 0, reason: 'Completed' } });
  }, 120_000);
});
