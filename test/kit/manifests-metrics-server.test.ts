/**
 * k8s/metrics-server, the optional metrics-server for clusters without one: upstream's v0.9.0
 * objects (equal to its release build where the Go module cache has it), wired and bound as
 * upstream wires them, and the --kubelet-insecure-tls overlay docs/deploying.md shows.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments, stringify } from 'yaml';
import { findObject, kustomizationDirs, parseYamlFile, SHIPPED_KIT_DIR, type KubeObject } from '@podscale/cli/kit/manifests.ts';
import { ROOT } from '../helpers/child.ts';
import { kustomizeBuild } from '../helpers/kit.ts';
import { kit, type Container, type Deployment } from './shipped-kit.ts';

describe('k8s/metrics-server: the optional metrics-server', () => {
  const dir = join(SHIPPED_KIT_DIR, 'metrics-server');
  const objects = kustomizeBuild(dir);
  const ms = findObject<Deployment & { spec: { template: { spec: { serviceAccountName: string; priorityClassName: string; volumes: { name: string; emptyDir?: object }[] } } } }>(objects, 'Deployment', 'metrics-server');
  const msPod = ms.spec.template.spec;
  const msContainer = msPod.containers[0] as Container & { volumeMounts: { name: string; mountPath: string }[]; readinessProbe: { httpGet: { scheme: string } }; livenessProbe: { httpGet: { scheme: string } } };
  type Subject = { kind: string; name: string; namespace: string };
  type Binding = KubeObject & { roleRef: { apiGroup: string; kind: string; name: string }; subjects: Subject[] };
  type Rule = { apiGroups: string[]; resources: string[]; verbs: string[] };
  const rulesOf = (name: string) => findObject<KubeObject & { rules: Rule[] }>(objects, 'ClusterRole', name).rules;
  const allows = (rules: Rule[], group: string, resource: string, verb: string) =>
    rules.some((rule) => rule.apiGroups.includes(group) && (rule.resources.includes(resource) || rule.resources.includes('*')) && (rule.verbs.includes(verb) || rule.verbs.includes('*')));

  // "The kustomize builds above": manifests-build.test.ts builds every folder kustomizationDirs lists.
  it('is its own folder (so the kustomize builds above validate it), outside the default stack', () => {
    expect(kustomizationDirs(SHIPPED_KIT_DIR)).toContain(dir);
    expect(parseYamlFile<{ resources: string[] }>(join(SHIPPED_KIT_DIR, 'kustomization.yaml')).resources).not.toContain('metrics-server');
    expect(kit.some((object) => object.metadata.name.includes('metrics-server') || object.metadata.name === 'v1beta1.metrics.k8s.io')).toBe(false);
  });

  it("holds upstream's objects, the namespaced ones in kube-system", () => {
    expect(objects.map((object) => `${object.kind}/${object.metadata.name}`).sort()).toEqual([
      'APIService/v1beta1.metrics.k8s.io',
      'ClusterRole/system:aggregated-metrics-reader',
      'ClusterRole/system:metrics-server',
      'ClusterRoleBinding/metrics-server:system:auth-delegator',
      'ClusterRoleBinding/system:metrics-server',
      'Deployment/metrics-server',
      'RoleBinding/metrics-server-auth-reader',
      'Service/metrics-server',
      'ServiceAccount/metrics-server',
    ]);
    for (const object of objects.filter((o) => !['ClusterRole', 'ClusterRoleBinding', 'APIService'].includes(o.kind))) {
      expect(object.metadata.namespace, `${object.kind}/${object.metadata.name}`).toBe('kube-system');
    }
  });

  it('the APIService points at the Service and its port, which selects the pod and targets the secure port', () => {
    const apiService = findObject<KubeObject & { spec: { group: string; version: string; service: { name: string; namespace: string; port: number } } }>(objects, 'APIService', 'v1beta1.metrics.k8s.io');
    expect([apiService.spec.group, apiService.spec.version]).toEqual(['metrics.k8s.io', 'v1beta1']);
    const service = findObject<KubeObject & { spec: { selector: Record<string, string>; ports: { port: number; targetPort: string }[] } }>(objects, 'Service', apiService.spec.service.name);
    expect(apiService.spec.service.namespace).toBe(service.metadata.namespace);
    const port = service.spec.ports.find((p) => p.port === apiService.spec.service.port);
    expect(port, `Service port ${apiService.spec.service.port}`).toBeDefined();
    expect(ms.spec.template.metadata.labels).toMatchObject(service.spec.selector);
    expect(ms.spec.selector.matchLabels).toEqual(service.spec.selector);
    const containerPort = msContainer.ports.find((p) => p.name === port!.targetPort)!;
    expect(msContainer.args).toContain(`--secure-port=${containerPort.containerPort}`);
  });

  it("the Deployment runs as the ServiceAccount that every binding binds", () => {
    const account = findObject(objects, 'ServiceAccount', msPod.serviceAccountName);
    const bound: Subject = { kind: 'ServiceAccount', name: account.metadata.name, namespace: account.metadata.namespace! };
    const bindings = objects.filter((o) => o.kind === 'ClusterRoleBinding' || o.kind === 'RoleBinding') as Binding[];
    expect(bindings.map((b) => `${b.kind}/${b.metadata.name} -> ${b.roleRef.kind}/${b.roleRef.name}`).sort()).toEqual([
      'ClusterRoleBinding/metrics-server:system:auth-delegator -> ClusterRole/system:auth-delegator',
      'ClusterRoleBinding/system:metrics-server -> ClusterRole/system:metrics-server',
      'RoleBinding/metrics-server-auth-reader -> Role/extension-apiserver-authentication-reader',
    ]);
    for (const binding of bindings) expect(binding.subjects, binding.metadata.name).toEqual([bound]);
    expect(findObject(objects, 'RoleBinding', 'metrics-server-auth-reader').metadata.namespace).toBe('kube-system');
  });

  it('the bound ClusterRole reads kubelets (nodes/metrics) and the nodes and pods, with exactly upstream verbs', () => {
    const rules = rulesOf('system:metrics-server');
    expect(allows(rules, '', 'nodes/metrics', 'get')).toBe(true);
    for (const resource of ['pods', 'nodes']) for (const verb of ['get', 'list', 'watch']) expect(allows(rules, '', resource, verb), `${verb} ${resource}`).toBe(true);
    expect(rules).toEqual([
      { apiGroups: [''], resources: ['nodes/metrics'], verbs: ['get'] },
      { apiGroups: [''], resources: ['pods', 'nodes'], verbs: ['get', 'list', 'watch'] },
    ]);
    const reader = findObject(objects, 'ClusterRole', 'system:aggregated-metrics-reader');
    for (const role of ['view', 'edit', 'admin']) expect(reader.metadata.labels![`rbac.authorization.k8s.io/aggregate-to-${role}`]).toBe('true');
    expect(rulesOf('system:aggregated-metrics-reader')).toEqual([{ apiGroups: ['metrics.k8s.io'], resources: ['pods', 'nodes'], verbs: ['get', 'list', 'watch'] }]);
  });

  it("runs upstream's v0.9.0 image and flags, without --kubelet-insecure-tls", () => {
    expect(msContainer.image).toBe('registry.k8s.io/metrics-server/metrics-server:v0.9.0');
    expect(msContainer.args).toEqual(['--cert-dir=/tmp', '--secure-port=10250', '--kubelet-preferred-address-types=InternalIP,ExternalIP,Hostname', '--kubelet-use-node-status-port', '--metric-resolution=15s']);
    expect(msContainer.args!.join(' ')).not.toContain('insecure');
    expect(msPod.priorityClassName).toBe('system-cluster-critical');
    expect(ms.spec.strategy.rollingUpdate.maxUnavailable).toBe(0);
  });

  it('is hardened, writes its certificate to an emptyDir, and probes /livez and /readyz over HTTPS on the secure port', () => {
    expect(msContainer.securityContext).toEqual({ runAsNonRoot: true, runAsUser: 1000, readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, seccompProfile: { type: 'RuntimeDefault' }, capabilities: { drop: ['ALL'] } });
    const certDir = msContainer.args!.find((arg) => arg.startsWith('--cert-dir='))!.split('=')[1];
    const mount = msContainer.volumeMounts.find((m) => m.mountPath === certDir)!;
    expect(msPod.volumes.find((v) => v.name === mount.name)!.emptyDir).toEqual({});
    for (const [probe, path] of [[msContainer.livenessProbe, '/livez'], [msContainer.readinessProbe, '/readyz']] as const) {
      expect(probe.httpGet).toEqual({ path, port: 'https', scheme: 'HTTPS' });
    }
  });

  it('the --kubelet-insecure-tls overlay shown in docs/deploying.md builds and adds just that flag', () => {
    const page = readFileSync(join(ROOT, 'docs', 'deploying.md'), 'utf8');
    const snippet = /```yaml\n(# kustomization\.yaml of your metrics-server overlay[\s\S]*?)```/.exec(page);
    expect(snippet, 'the overlay example in docs/deploying.md').not.toBeNull();
    const overlay = parse(snippet![1]!) as { resources: string[]; patches: unknown[] };
    const tmp = mkdtempSync(join(tmpdir(), 'podscale-ms-overlay-'));
    try {
      writeFileSync(join(tmp, 'kustomization.yaml'), stringify({ ...overlay, resources: [relative(tmp, dir)] }));
      const patched = findObject<Deployment>(kustomizeBuild(tmp), 'Deployment', 'metrics-server');
      expect(patched.spec.template.spec.containers[0]!.args).toEqual([...msContainer.args!, '--kubelet-insecure-tls']);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });

  // Upstream's v0.9.0 components.yaml is `kustomize build manifests/overlays/release` of the module.
  const upstream = join(goModCache(), 'sigs.k8s.io', 'metrics-server@v0.9.0', 'manifests', 'overlays', 'release');
  it.skipIf(!existsSync(upstream))("equals upstream's v0.9.0 release build from the Go module cache, but for the APIService port written out", () => {
    const built = parseAllDocuments(execFileSync('kubectl', ['kustomize', upstream], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })).map((document) => document.toJS() as KubeObject);
    const byName = (list: KubeObject[]) => Object.fromEntries(list.map((object) => [`${object.kind}/${object.metadata.name}`, object]));
    const expected = byName(built);
    const apiService = expected['APIService/v1beta1.metrics.k8s.io'] as KubeObject & { spec: { service: { port?: number } } };
    expect(apiService.spec.service.port).toBeUndefined();
    apiService.spec.service.port = 443; // the API server's default for an APIService without a port
    expect(byName(objects)).toEqual(expected);
  });
});

/** The Go module cache (go env GOMODCACHE), where scripts/build-cluster.sh fetched metrics-server. */
function goModCache(): string {
  try {
    return execFileSync('go', ['env', 'GOMODCACHE'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return process.env.GOMODCACHE ?? join(process.env.GOPATH?.split(':')[0] ?? join(homedir(), 'go'), 'pkg', 'mod');
  }
}
