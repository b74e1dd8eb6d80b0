/**
 * Every folder of the kit builds with kubectl kustomize and validates against the Kubernetes
 * schemas (and the CRD's), and podscale's own loader (podscale lab, podscale kit) reads what
 * kubectl builds: a manifest that does not apply fails here, not on a cluster.
 */
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { findObject, kustomizationDirs, loadKustomization, parseYamlFile, SHIPPED_KIT_DIR, type KubeObject } from '@podscale/cli/kit/manifests.ts';
import { ROOT } from '../helpers/child.ts';
import { kustomizeBuild, validateObject } from '../helpers/kit.ts';
import { container, deployment, hpa, kit, type Deployment } from './shipped-kit.ts';

describe('kustomize builds', () => {
  // Components only build inside an overlay (k8s/overlays/), so they are checked there.
  const buildable = kustomizationDirs(SHIPPED_KIT_DIR).filter((dir) => parseYamlFile<{ kind?: string }>(join(dir, 'kustomization.yaml')).kind !== 'Component');
  it.each(buildable.map((dir) => relative(ROOT, dir)))('%s builds and every object validates against the Kubernetes schemas', async (dir) => {
    const objects = kustomizeBuild(join(ROOT, dir));
    expect(objects.length).toBeGreaterThan(0);
    for (const object of objects) {
      await expect(validateObject(object), `${object.kind}/${object.metadata.name}`).resolves.toBeUndefined();
    }
  });

  it('the schema validation rejects a broken object (so the checks above can fail)', async () => {
    const broken = structuredClone(deployment) as unknown as { spec: { replicas: unknown } };
    broken.spec.replicas = 'two';
    await expect(validateObject(broken as unknown as KubeObject)).rejects.toThrow();
  });

  it('installs the whole stack: app, Prometheus, adapter with its APIService and RBAC', () => {
    const kinds = kit.map((object) => `${object.kind}/${object.metadata.name}`);
    for (const expected of [
      'Namespace/podscale',
      'Deployment/podscale',
      'Service/podscale',
      'PodDisruptionBudget/podscale',
      'HorizontalPodAutoscaler/podscale',
      'Deployment/prometheus',
      'Deployment/prometheus-adapter',
      'Service/prometheus-adapter',
      'APIService/v1beta1.custom.metrics.k8s.io',
      'ClusterRoleBinding/podscale-prometheus-adapter-auth-delegator',
      'RoleBinding/podscale-prometheus-adapter-auth-reader',
      'ClusterRoleBinding/podscale-hpa-controller-custom-metrics',
    ]) {
      expect(kinds).toContain(expected);
    }
    const authReader = findObject(kit, 'RoleBinding', 'podscale-prometheus-adapter-auth-reader');
    expect(authReader.metadata.namespace).toBe('kube-system');
    for (const object of kit.filter((o) => !['Namespace', 'ClusterRole', 'ClusterRoleBinding', 'APIService', 'RoleBinding'].includes(o.kind))) {
      expect(object.metadata.namespace, `${object.kind}/${object.metadata.name}`).toBe('podscale');
    }
  });

  it("podscale's own loader reads the same objects kubectl kustomize builds", () => {
    const stripHash = (object: KubeObject) => `${object.kind}/${object.metadata.namespace ?? ''}/${object.metadata.name.replace(/-[a-z0-9]{10}$/, '')}`;
    const loaded = loadKustomization(SHIPPED_KIT_DIR);
    expect(loaded.map(stripHash).sort()).toEqual(kit.map(stripHash).sort());
    expect(findObject(loaded, 'HorizontalPodAutoscaler').spec).toEqual(hpa.spec);
    expect(findObject<Deployment>(loaded, 'Deployment', 'podscale').spec.template.spec.containers[0]!.env).toEqual(container.env);
  });
});
