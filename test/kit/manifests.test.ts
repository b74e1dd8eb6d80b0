import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { COMPILE_CACHE, SERVICE_BUNDLE, SERVICE_DIR, serviceEnv } from '../../scripts/service-bundle.ts';
import { join, relative } from 'node:path';
import { DockerfileParser } from 'dockerfile-ast';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENV_VARIABLES, loadConfig } from '@podscale/service/config.ts';
import { parseDuration } from '@podscale/hpa/duration.ts';
import { parseAdapterConfig, publishedMetricName, rateWindowSeconds } from '@podscale/cli/kit/adapter-rule.ts';
import { findObject, kustomizationDirs, loadKustomization, parseYamlFile, SHIPPED_KIT_DIR, type KubeObject } from '@podscale/cli/kit/manifests.ts';
import { startApp, type RunningApp } from '../helpers/app.ts';
import { ROOT } from '../helpers/child.ts';
import { kustomizeBuild, validateObject } from '../helpers/kit.ts';
import { parse, parseAllDocuments, stringify } from 'yaml';

interface Container {
  name: string;
  image: string;
  args?: string[];
  ports: { name: string; containerPort: number }[];
  env: { name: string; value?: string; valueFrom?: unknown }[];
  readinessProbe: { httpGet: { path: string; port: string | number }; periodSeconds: number; failureThreshold: number };
  livenessProbe: { httpGet: { path: string; port: string | number } };
  startupProbe: { httpGet: { path: string; port: string | number } };
  resources: { requests: { cpu: string; memory: string }; limits: Record<string, string> };
  securityContext: { allowPrivilegeEscalation: boolean; readOnlyRootFilesystem: boolean; capabilities: { drop: string[] } };
}
interface Deployment extends KubeObject {
  spec: {
    replicas: number;
    selector: { matchLabels: Record<string, string> };
    strategy: { type: string; rollingUpdate: { maxUnavailable: number | string; maxSurge: number | string } };
    template: {
      metadata: { labels: Record<string, string>; annotations: Record<string, string> };
      spec: {
        terminationGracePeriodSeconds: number;
        automountServiceAccountToken: boolean;
        securityContext: { runAsNonRoot: boolean; runAsUser: number; runAsGroup: number; seccompProfile: { type: string } };
        topologySpreadConstraints: { topologyKey: string }[];
        containers: Container[];
      };
    };
  };
}
interface Hpa extends KubeObject {
  spec: {
    scaleTargetRef: { apiVersion: string; kind: string; name: string };
    minReplicas: number;
    maxReplicas: number;
    metrics: { type: string; resource?: { name: string; target: { type: string; averageUtilization: number } }; pods?: { metric: { name: string }; target: { type: string; averageValue: string } } }[];
    behavior: { scaleUp: unknown; scaleDown: { stabilizationWindowSeconds: number } };
  };
}

const kit = kustomizeBuild(SHIPPED_KIT_DIR);
const deployment = findObject<Deployment>(kit, 'Deployment', 'podscale');
const container = deployment.spec.template.spec.containers[0]!;
const env = Object.fromEntries(container.env.map((variable) => [variable.name, variable.value]));
const hpa = findObject<Hpa>(kit, 'HorizontalPodAutoscaler', 'podscale');
const adapterConfigMap = kit.find((object) => object.kind === 'ConfigMap' && object.metadata.name.startsWith('prometheus-adapter-config')) as KubeObject & { data: Record<string, string> };
const [rule] = parseAdapterConfig(adapterConfigMap.data['config.yaml']!);
const prometheusConfigMap = kit.find((object) => object.kind === 'ConfigMap' && object.metadata.name.startsWith('prometheus-config')) as KubeObject & { data: Record<string, string> };
const prometheusConfig = parse(prometheusConfigMap.data['prometheus.yml']!) as { global: { scrape_interval: string } };
const adapter = findObject<Deployment>(kit, 'Deployment', 'prometheus-adapter');

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

describe('cross-references against the real app', () => {
  let running: RunningApp;
  beforeAll(async () => {
    running = await startApp();
  });
  afterAll(() => running.close());

  it('probe paths exist on the app and answer on the named container port', async () => {
    for (const probe of [container.readinessProbe, container.livenessProbe, container.startupProbe]) {
      expect(running.app.hasRoute({ method: 'GET', url: probe.httpGet.path })).toBe(true);
      expect(container.ports.map((port) => port.name)).toContain(probe.httpGet.port);
      expect((await request(`${running.url}${probe.httpGet.path}`)).statusCode).toBe(200);
    }
  });

  it('the container port is the port the service listens on', () => {
    const http = container.ports.find((port) => port.name === 'http')!;
    expect(http.containerPort).toBe(Number(env.PORT));
    expect(loadConfig({ PORT: env.PORT! }).port).toBe(http.containerPort);
    expect(deployment.spec.template.metadata.annotations['prometheus.io/port']).toBe(String(http.containerPort));
    expect(running.app.hasRoute({ method: 'GET', url: deployment.spec.template.metadata.annotations['prometheus.io/path']! })).toBe(true);
  });

  it('every env variable the Deployment sets is one the config accepts, with a valid value', () => {
    for (const variable of container.env) expect(ENV_VARIABLES).toContain(variable.name);
    const literal = Object.fromEntries(container.env.filter((v) => v.value !== undefined).map((v) => [v.name, v.value!]));
    expect(() => loadConfig(literal)).not.toThrow();
    expect(container.env.find((v) => v.name === 'POD_NAME')!.valueFrom).toEqual({ fieldRef: { fieldPath: 'metadata.name' } });
    expect(container.env.find((v) => v.name === 'POD_NAMESPACE')!.valueFrom).toEqual({ fieldRef: { fieldPath: 'metadata.namespace' } });
  });

  it("the HPA's Pods metric is what the adapter rule publishes from a counter the app exposes", async () => {
    const exposed = await (await request(`${running.url}/metrics`)).body.text();
    const series = /^[a-z_]+/.exec(rule!.seriesQuery)![0];
    expect(exposed).toMatch(new RegExp(`^# TYPE ${series} counter$`, 'm'));
    const podsMetric = hpa.spec.metrics.find((metric) => metric.type === 'Pods')!.pods!;
    expect(publishedMetricName(rule!, series)).toBe(podsMetric.metric.name);
    expect(podsMetric.metric.name).toBe('http_requests_per_second');
    expect(podsMetric.target).toEqual({ type: 'AverageValue', averageValue: '100' });
  });
});

describe('the Deployment, Service, PDB and HPA agree', () => {
  it('the Service selects the pods and targets the named port', () => {
    const service = findObject<KubeObject & { spec: { selector: Record<string, string>; ports: { targetPort: string }[] } }>(kit, 'Service', 'podscale');
    expect(deployment.spec.template.metadata.labels).toMatchObject(service.spec.selector);
    expect(deployment.spec.selector.matchLabels).toEqual(service.spec.selector);
    expect(container.ports.map((port) => port.name)).toContain(service.spec.ports[0]!.targetPort);
  });

  it('the PDB selects the pods and keeps one', () => {
    const pdb = findObject<KubeObject & { spec: { minAvailable: number; selector: { matchLabels: Record<string, string> } } }>(kit, 'PodDisruptionBudget');
    expect(deployment.spec.template.metadata.labels).toMatchObject(pdb.spec.selector.matchLabels);
    expect(pdb.spec.minAvailable).toBeGreaterThanOrEqual(1);
    expect(pdb.spec.minAvailable).toBeLessThan(hpa.spec.minReplicas);
  });

  it('the HPA targets the Deployment with min 2, max 10, CPU 60 % and 100 rps per pod, and an explicit behavior', () => {
    expect(hpa.apiVersion).toBe('autoscaling/v2');
    expect(hpa.spec.scaleTargetRef).toEqual({ apiVersion: 'apps/v1', kind: 'Deployment', name: deployment.metadata.name });
    expect([hpa.spec.minReplicas, hpa.spec.maxReplicas]).toEqual([2, 10]);
    expect(hpa.spec.metrics.find((m) => m.type === 'Resource')!.resource).toEqual({ name: 'cpu', target: { type: 'Utilization', averageUtilization: 60 } });
    expect(hpa.spec.behavior.scaleUp).toBeDefined();
    expect(hpa.spec.behavior.scaleDown.stabilizationWindowSeconds).toBeGreaterThan(0);
    expect(deployment.spec.replicas).toBe(hpa.spec.minReplicas);
  });

  it('requests 100m CPU and 128Mi, so "60 %" means 60 millicores', () => {
    expect(container.resources.requests).toEqual({ cpu: '100m', memory: '128Mi' });
    expect(container.resources.limits.memory).toBeDefined();
  });

  it('the grace period outlasts the drain delay plus the close timeout; rollouts never reduce capacity', () => {
    const drainSeconds = (Number(env.SHUTDOWN_DELAY_MS) + Number(env.SHUTDOWN_TIMEOUT_MS)) / 1000;
    expect(deployment.spec.template.spec.terminationGracePeriodSeconds).toBeGreaterThan(drainSeconds);
    expect(deployment.spec.strategy).toEqual({ type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } });
    // The readiness probe sees a drain (503) within one period, well inside the drain delay.
    expect(container.readinessProbe.periodSeconds * container.readinessProbe.failureThreshold).toBeLessThan(Number(env.SHUTDOWN_DELAY_MS) / 1000);
  });

  it('is hardened: non-root numeric UID, read-only root, no capabilities, no escalation, RuntimeDefault seccomp, no token', () => {
    const pod = deployment.spec.template.spec;
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: expect.any(Number), seccompProfile: { type: 'RuntimeDefault' } });
    expect(pod.securityContext.runAsUser).toBeGreaterThan(0);
    expect(container.securityContext).toMatchObject({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } });
    expect(pod.automountServiceAccountToken).toBe(false);
    expect(pod.topologySpreadConstraints[0]!.topologyKey).toBe('kubernetes.io/hostname');
  });
});

describe('Prometheus and the adapter agree', () => {
  const scrapeSeconds = parseDuration(prometheusConfig.global.scrape_interval);

  it("the adapter's rate window spans at least two scrape intervals", () => {
    expect(rateWindowSeconds(rule!)).toBeGreaterThanOrEqual(2 * scrapeSeconds);
  });

  it("the adapter's relist interval is at least one scrape interval", () => {
    const args = adapter.spec.template.spec.containers[0]!.args!;
    const relist = args.find((arg) => arg.startsWith('--metrics-relist-interval='))!.split('=')[1]!;
    expect(parseDuration(relist)).toBeGreaterThanOrEqual(scrapeSeconds);
  });

  it('the adapter points at the shipped Prometheus Service and reads the shipped rule', () => {
    const args = adapter.spec.template.spec.containers[0]!.args!;
    expect(args).toContain('--prometheus-url=http://prometheus.podscale.svc:9090/');
    expect(args).toContain('--config=/etc/adapter/config.yaml');
    const service = findObject<KubeObject & { spec: { ports: { port: number }[] } }>(kit, 'Service', 'prometheus');
    expect(service.spec.ports[0]!.port).toBe(9090);
    const apiService = findObject<KubeObject & { spec: { service: { name: string; namespace: string } } }>(kit, 'APIService', 'v1beta1.custom.metrics.k8s.io');
    expect(apiService.spec.service).toMatchObject({ name: adapter.metadata.name, namespace: adapter.metadata.namespace });
  });
});

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

  it("runs upstream's v0.8.0 image and flags, without --kubelet-insecure-tls", () => {
    expect(msContainer.image).toBe('registry.k8s.io/metrics-server/metrics-server:v0.8.0');
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

  // Upstream's v0.8.0 components.yaml is `kustomize build manifests/overlays/release` of the module.
  const upstream = join(goModCache(), 'sigs.k8s.io', 'metrics-server@v0.8.0', 'manifests', 'overlays', 'release');
  it.skipIf(!existsSync(upstream))("equals upstream's v0.8.0 release build from the Go module cache, but for the APIService port written out", () => {
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

describe('Dockerfile', () => {
  const dockerfile = DockerfileParser.parse(readFileSync(join(ROOT, 'Dockerfile'), 'utf8'));
  const instructions = dockerfile.getInstructions();
  const finalStage = instructions.slice(instructions.map((i) => i.getKeyword()).lastIndexOf('FROM'));

  it('builds every stage from Node 24', () => {
    for (const from of dockerfile.getFROMs()) expect(from.getImageName() + ':' + from.getImageTag()).toMatch(/^node:24(-|$)/);
    expect(JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).engines.node).toMatch(/24/);
  });

  it('runs node directly in exec form, as the numeric UID the Deployment expects', () => {
    const cmd = finalStage.find((i) => i.getKeyword() === 'CMD')!;
    expect(cmd.getArgumentsContent()).toBe(`["node", "${SERVICE_BUNDLE}"]`);
    const user = finalStage.find((i) => i.getKeyword() === 'USER')!.getArgumentsContent()!;
    const pod = deployment.spec.template.spec.securityContext;
    expect(user).toBe(`${pod.runAsUser}:${pod.runAsGroup}`);
  });

  it('ships only the service bundle in the final image, which `npm run build` writes where CMD looks', () => {
    const copies = finalStage.filter((i) => i.getKeyword() === 'COPY').map((i) => i.getTextContent());
    expect(copies).toEqual([`COPY --from=build /app/${SERVICE_DIR} ./${SERVICE_DIR}`]);
    expect(finalStage.some((i) => i.getKeyword() === 'RUN')).toBe(false);
    expect(existsSync(join(ROOT, SERVICE_BUNDLE))).toBe(true);
    const env = finalStage.filter((i) => i.getKeyword() === 'ENV').map((i) => i.getArgumentsContent() ?? '').join(' ');
    expect(env).toContain(`NODE_COMPILE_CACHE=/app/${COMPILE_CACHE}`);
    // The environment the bench and the tests run the bundle with is the image's.
    for (const [name, value] of Object.entries(serviceEnv(`/app/${SERVICE_DIR}`))) expect(env).toContain(`${name}=${value}`);
  });
});

describe('k8s/worker: Kafka consumers scaled by an AutoScalerPolicy', () => {
  interface KafkaLagPolicy extends KubeObject {
    spec: { deploymentName: string; minReplicas: number; maxReplicas: number; metrics: { type: string; bootstrapServers: string[]; consumerGroup: string; topic: string; threshold: number }[] };
  }
  const objects = kustomizeBuild(join(ROOT, 'k8s/worker'));
  const worker = findObject<Deployment>(objects, 'Deployment', 'podscale-worker');
  const workerContainer = worker.spec.template.spec.containers[0]! as Container & { envFrom: { configMapRef: { name: string } }[] };
  const configMap = objects.find((object) => object.kind === 'ConfigMap' && object.metadata.name === workerContainer.envFrom[0]!.configMapRef.name) as KubeObject & { data: Record<string, string> };
  const policy = findObject<KafkaLagPolicy>(objects, 'AutoScalerPolicy', 'podscale-worker');
  const workerEnv = { ...configMap.data, ...Object.fromEntries(workerContainer.env.filter((v) => v.value !== undefined).map((v) => [v.name, v.value!])) };

  it('is its own folder, outside the default stack, in the podscale namespace', () => {
    expect(kit.some((object) => object.metadata.name === 'podscale-worker')).toBe(false);
    for (const object of objects) expect(object.metadata.namespace).toBe('podscale');
  });

  it('runs the service image in worker mode with a configuration the worker accepts', () => {
    expect(workerContainer.image).toBe(container.image);
    for (const name of Object.keys(workerEnv)) expect(ENV_VARIABLES).toContain(name);
    const config = loadConfig(workerEnv);
    expect(config.worker).toMatchObject({ topic: configMap.data.KAFKA_TOPIC, groupId: configMap.data.KAFKA_GROUP_ID });
  });

  it('the policy scales this Deployment on the lag of the group and topic its workers consume, from the same brokers', () => {
    expect(policy.spec.deploymentName).toBe(worker.metadata.name);
    const [metric] = policy.spec.metrics;
    expect(metric).toMatchObject({ type: 'KafkaLag', consumerGroup: configMap.data.KAFKA_GROUP_ID, topic: configMap.data.KAFKA_TOPIC });
    expect(metric!.bootstrapServers).toEqual(configMap.data.KAFKA_BROKERS!.split(','));
    expect(worker.spec.replicas).toBeGreaterThanOrEqual(policy.spec.minReplicas);
  });

  it('probes readiness (joined the group) and liveness on the port the worker serves; the grace period outlasts its drain deadline', () => {
    const http = workerContainer.ports.find((port) => port.name === 'http')!;
    expect(http.containerPort).toBe(Number(workerEnv.PORT));
    expect([workerContainer.startupProbe, workerContainer.readinessProbe].map((probe) => probe.httpGet)).toEqual([{ path: '/readyz', port: 'http' }, { path: '/readyz', port: 'http' }]);
    expect(workerContainer.livenessProbe.httpGet).toEqual({ path: '/healthz', port: 'http' });
    expect(worker.spec.template.spec.terminationGracePeriodSeconds).toBeGreaterThan(Number(workerEnv.SHUTDOWN_TIMEOUT_MS) / 1000);
    expect(worker.spec.strategy).toEqual({ type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } });
    expect(worker.spec.template.metadata.annotations['prometheus.io/port']).toBe(String(http.containerPort));
  });

  it("the policy validates against the shipped CRD's schema, and a broken one does not (so the build check can fail)", async () => {
    await expect(validateObject(policy)).resolves.toBeUndefined();
    const broken = structuredClone(policy) as unknown as { spec: { metrics: { threshold: unknown }[] } };
    broken.spec.metrics[0]!.threshold = 'lots';
    await expect(validateObject(broken as unknown as KubeObject)).rejects.toThrow(/threshold/);
  });

  it('is hardened like the service', () => {
    const pod = worker.spec.template.spec;
    expect(pod.securityContext).toEqual(deployment.spec.template.spec.securityContext);
    expect(workerContainer.securityContext).toEqual(container.securityContext);
    expect(pod.automountServiceAccountToken).toBe(false);
  });
});
