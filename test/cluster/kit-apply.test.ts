import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clusterCacheDir } from '@podscale/kube-local/binaries.ts';
import { ControlPlane } from '@podscale/kube-local/control-plane.ts';
import { supportedReleases } from '@podscale/kube-local/releases.ts';
import { until } from '@podscale/process/net.ts';
import { clusterSkipReason, kubectl } from '../helpers/cluster.ts';

const PODMONITOR_CRD = join(clusterCacheDir(), 'crds', 'prometheus-operator', 'monitoring.coreos.com_podmonitors.yaml');

/** The supported releases: the one list scripts/build-cluster.sh builds from. */
const MINORS = supportedReleases();

/** Every folder under k8s/ with a kustomization, the stack itself first. */
async function kustomizations(root = 'k8s'): Promise<string[]> {
  const found: string[] = [];
  const walk = async (dir: string) => {
    const entries = await readdir(dir);
    if (entries.includes('kustomization.yaml')) found.push(dir);
    for (const entry of entries) if ((await stat(join(dir, entry))).isDirectory()) await walk(join(dir, entry));
  };
  await walk(root);
  return found;
}

it('checks at least the three minors upstream supports', () => {
  expect(MINORS.length).toBeGreaterThanOrEqual(3);
  expect(new Set(MINORS.map((version) => version.split('.').slice(0, 2).join('.'))).size).toBe(MINORS.length);
});

for (const version of MINORS) {
  describe.skipIf(await clusterSkipReason(['etcd', 'kube-apiserver', 'kubectl'], version))(`the shipped kit on a real kube-apiserver ${version}`, () => {
    let plane: ControlPlane;
    let dir: string;

    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), `podscale-kit-${version}-`));
      plane = await ControlPlane.start({ dir, nodeName: 'podscale-node', nodeIps: ['10.244.0.1'], version, apiserverOnly: true });
      // k8s/prometheus-operator holds a PodMonitor: its CRD as prometheus-operator publishes it.
      await kubectl(plane.adminKubeconfig, ['apply', '--server-side', '-f', PODMONITOR_CRD]);
      // `kubectl wait` fails at once if the CRD has no status conditions yet: poll the condition.
      await until(async () => (await kubectl(plane.adminKubeconfig, ['get', 'crd/podmonitors.monitoring.coreos.com', '-o', 'jsonpath={.status.conditions[?(@.type=="Established")].status}'])).stdout === 'True', { timeoutMs: 30_000, what: 'the PodMonitor CRD to be Established' });
    }, 120_000);

    afterAll(async () => {
      await plane?.stop();
      await rm(dir, { recursive: true, force: true });
    });

    it(`is ${version}, as built`, async () => {
      const { status, body } = await plane.get('/version');
      expect(status).toBe(200);
      expect((JSON.parse(body) as { gitVersion: string }).gitVersion).toBe(version);
    });

    it('accepts every object of k8s/ with server-side apply and strict field validation (--validate=strict)', async () => {
      const { stdout } = await kubectl(plane.adminKubeconfig, ['apply', '--server-side', '--validate=strict', '-k', 'k8s/']);
      const applied = stdout.trim().split('\n');
      expect(applied.length).toBeGreaterThan(10);
      for (const line of applied) expect(line).toMatch(/serverside-applied$/);
      const hpa = await kubectl(plane.adminKubeconfig, ['get', 'hpa', 'podscale', '-n', 'podscale', '-o', 'jsonpath={.spec.metrics[*].type}']);
      expect(hpa.stdout).toBe('Resource Pods');
    });

    it('accepts every sub-folder and overlay of k8s/ (server-side dry run)', async () => {
      const folders = (await kustomizations()).filter((dir) => dir !== 'k8s');
      expect(folders.length).toBeGreaterThan(3);
      // k8s/worker's AutoScalerPolicy needs the CRD of k8s/controller installed first, as the order in
      // docs/kafka-workers.md says; a dry run does not install the CRD a folder holds.
      await kubectl(plane.adminKubeconfig, ['apply', '--server-side', '-f', 'k8s/controller/crd.yaml']);
      await kubectl(plane.adminKubeconfig, ['wait', '--for=condition=Established', '--timeout=30s', 'crd/autoscalerpolicies.autoscale.podscale.dev']);
      const failures: string[] = [];
      for (const folder of folders) {
        // Components are not buildable on their own; they are checked through the overlays using them.
        const text = await readFile(join(folder, 'kustomization.yaml'), 'utf8');
        if (/^kind:\s*Component/m.test(text)) continue;
        try {
          await kubectl(plane.adminKubeconfig, ['apply', '--server-side', '--force-conflicts', '--validate=strict', '--dry-run=server', '-k', folder]);
        } catch (error) {
          failures.push(`${folder}: ${(error as { stderr?: string }).stderr ?? String(error)}`);
        }
      }
      expect(failures).toEqual([]);
    });

    // HPAScaleToZero: alpha and off through 1.36, beta and on from 1.37 (kube_features.go of each);
    // docs/kafka-workers.md says which Kafka workers a plain HPA can then take to zero.
    const scalesToZero = Number(version.split('.')[1]) >= 37;
    it(`${scalesToZero ? 'accepts' : 'refuses'} an HPA with minReplicas: 0 on an External metric`, async () => {
      const hpa = {
        apiVersion: 'autoscaling/v2',
        kind: 'HorizontalPodAutoscaler',
        metadata: { name: 'to-zero', namespace: 'default' },
        spec: {
          scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'workers' },
          minReplicas: 0,
          maxReplicas: 4,
          metrics: [{ type: 'External', external: { metric: { name: 'kafka_consumergroup_lag' }, target: { type: 'AverageValue', averageValue: '1000' } } }],
        },
      };
      const applying = kubectl(plane.adminKubeconfig, ['apply', '--server-side', '--validate=strict', '--dry-run=server', '-f', '-'], { input: JSON.stringify(hpa) });
      if (scalesToZero) await expect(applying).resolves.toMatchObject({ stdout: expect.stringMatching(/to-zero serverside-applied \(server dry run\)/) });
      else await expect(applying).rejects.toMatchObject({ stderr: expect.stringMatching(/spec\.minReplicas: Invalid value: 0: must be greater than or equal to 1/) });
    });

    it('rejects an unknown field, so strict validation is really on', async () => {
      const bad = JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'typo', namespace: 'default' }, dataa: { a: 'b' } });
      await expect(kubectl(plane.adminKubeconfig, ['apply', '--server-side', '--validate=strict', '-f', '-'], { input: bad })).rejects.toMatchObject({ stderr: expect.stringMatching(/\.dataa: field not declared in schema/) });
    });
  });
}
