/**
 * What the operator's apiserver tests (cluster-crd, cluster-rbac, cluster-controller) share: a
 * real kube-apiserver (v1.37) with k8s/controller applied as a user would apply it, and for the
 * controller's tests a real Prometheus over an exporter the test controls, and a kubeconfig with
 * the token of the podscale-controller ServiceAccount, so the kit's RBAC is all the controllers get.
 * Each test file starts its own (vitest gives every file its own module state).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { stringify } from 'yaml';
import { ControlPlane } from '@podscale/kube-local/control-plane.ts';
import { clusterSkipReason } from '../helpers/cluster.ts';
import { adminKubectl, ControllerProcess, Exporter, TestPrometheus, type LogLine } from './harness.ts';

export const skip = await clusterSkipReason();
export const QUERY = 'sum(podscale_test_lag)';
export const SA = 'system:serviceaccount:podscale:podscale-controller';

let plane: ControlPlane;
let dir: string;
export let exporter: Exporter;
export let prometheus: TestPrometheus;
let saKubeconfig: string;
export const controllers: ControllerProcess[] = [];

export const { k, apply, jsonpath, waitFor } = adminKubectl(() => plane.adminKubeconfig, '60s');
export const replicas = async (ns: string) => Number(await jsonpath(['-n', ns, 'deployment', 'web'], '{.spec.replicas}'));
export const isMsg = (msg: string, extra: (line: LogLine) => boolean = () => true) => (line: LogLine) => line.msg === msg && extra(line);

export async function setLag(value: number): Promise<void> {
  exporter.value = value;
  await prometheus.waitForValue(QUERY, value);
}

export async function namespaceWithDeployment(ns: string, count: number): Promise<void> {
  await k(['create', 'namespace', ns]);
  await apply({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', namespace: ns },
    spec: {
      replicas: count,
      selector: { matchLabels: { app: 'web' } },
      template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image: 'web', resources: { requests: { cpu: '100m' } } }] } },
    },
  });
}

export function policy(ns: string, spec: Record<string, unknown> = {}) {
  return {
    apiVersion: 'autoscale.podscale.dev/v1',
    kind: 'AutoScalerPolicy',
    metadata: { name: 'web', namespace: ns },
    spec: { deploymentName: 'web', minReplicas: 1, maxReplicas: 20, cooldownSeconds: 1, metrics: [{ type: 'Prometheus', query: QUERY, threshold: 10 }], ...spec },
  };
}

export function controller(identity: string, namespace: string, extra: string[] = []): ControllerProcess {
  const c = new ControllerProcess(identity, [
    `--kubeconfig=${saKubeconfig}`,
    `--namespace=${namespace}`,
    `--prometheus-url=${prometheus.url}`,
    '--lease-namespace=podscale',
    '--lease-duration=4s',
    '--renew-deadline=3s',
    '--retry-period=1s',
    '--resync=2s',
    '--min-cooldown=1s',
    '--log-level=debug',
    ...extra,
  ]);
  controllers.push(c);
  return c;
}

/** Events on the policy, by reason. */
export async function events(ns: string): Promise<{ reason: string; message: string; type: string }[]> {
  const { stdout } = await k(['get', 'events', '-n', ns, '--field-selector', 'involvedObject.kind=AutoScalerPolicy', '-o', 'json']);
  return (JSON.parse(stdout) as { items: { reason: string; message: string; type: string }[] }).items;
}

/**
 * The file's beforeAll and afterAll: the apiserver with k8s/controller applied; with
 * `forControllers`, also the ServiceAccount's kubeconfig, the exporter and Prometheus that
 * controller() needs (the CRD and RBAC tests run no controller).
 */
export function useOperatorCluster({ forControllers }: { forControllers: boolean }): void {
  beforeAll(async () => {
    if (skip) return;
    dir = await mkdtemp(join(tmpdir(), 'podscale-operator-'));
    plane = await ControlPlane.start({ dir, nodeName: 'podscale-node', nodeIps: ['10.244.0.1'] });
    await k(['create', 'namespace', 'podscale']);
    await k(['apply', '--server-side', '--validate=strict', '-k', 'k8s/controller/']);
    await k(['wait', '--for=condition=Established', '--timeout=30s', 'crd/autoscalerpolicies.autoscale.podscale.dev']);
    if (!forControllers) return;
    // The controller authenticates as its ServiceAccount: the kit's RBAC is all it has.
    const token = (await k(['create', 'token', 'podscale-controller', '-n', 'podscale', '--duration=2h'])).stdout.trim();
    saKubeconfig = join(dir, 'controller.kubeconfig');
    await writeFile(
      saKubeconfig,
      stringify({
        apiVersion: 'v1',
        kind: 'Config',
        clusters: [{ name: 'c', cluster: { server: plane.apiserverUrl, 'certificate-authority': plane.pki.ca.cert } }],
        users: [{ name: 'controller', user: { token } }],
        contexts: [{ name: 'c', context: { cluster: 'c', user: 'controller' } }],
        'current-context': 'c',
      }),
      { mode: 0o600 },
    );
    exporter = await Exporter.start();
    prometheus = await TestPrometheus.create(exporter.port);
  }, 180_000);

  afterAll(async () => {
    await Promise.all(controllers.map((c) => c.stop('SIGKILL')));
    await prometheus?.remove();
    await exporter?.stop();
    await plane?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  }, 60_000);
}
