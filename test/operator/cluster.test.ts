/**
 * The AutoScalerPolicy CRD, RBAC and controller against a real kube-apiserver (v1.34) and a real
 * Prometheus. There is no node: pods stay Pending, so desired replicas come from a Prometheus
 * query over an exporter the test controls, and what is observed is spec.replicas of the
 * Deployment (written only through deployments/scale). The controllers run as real child
 * processes with the ServiceAccount token of k8s/controller, so its RBAC is what they get.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { ControlPlane } from '@podscale/kube-local/control-plane.ts';
import { clusterSkipReason } from '../helpers/cluster.ts';
import { adminKubectl, ControllerProcess, Exporter, sleep, TestPrometheus, type LogLine } from './harness.ts';

const skip = await clusterSkipReason();
const QUERY = 'sum(podscale_test_lag)';
const SA = 'system:serviceaccount:podscale:podscale-controller';

let plane: ControlPlane;
let dir: string;
let exporter: Exporter;
let prometheus: TestPrometheus;
let saKubeconfig: string;
const controllers: ControllerProcess[] = [];

const { k, apply, jsonpath, waitFor } = adminKubectl(() => plane.adminKubeconfig, '60s');
const replicas = async (ns: string) => Number(await jsonpath(['-n', ns, 'deployment', 'web'], '{.spec.replicas}'));
const isMsg = (msg: string, extra: (line: LogLine) => boolean = () => true) => (line: LogLine) => line.msg === msg && extra(line);

async function setLag(value: number): Promise<void> {
  exporter.value = value;
  await prometheus.waitForValue(QUERY, value);
}

async function namespaceWithDeployment(ns: string, count: number): Promise<void> {
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

function policy(ns: string, spec: Record<string, unknown> = {}) {
  return {
    apiVersion: 'autoscale.podscale.dev/v1',
    kind: 'AutoScalerPolicy',
    metadata: { name: 'web', namespace: ns },
    spec: { deploymentName: 'web', minReplicas: 1, maxReplicas: 20, cooldownSeconds: 1, metrics: [{ type: 'Prometheus', query: QUERY, threshold: 10 }], ...spec },
  };
}

function controller(identity: string, namespace: string, extra: string[] = []): ControllerProcess {
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
async function events(ns: string): Promise<{ reason: string; message: string; type: string }[]> {
  const { stdout } = await k(['get', 'events', '-n', ns, '--field-selector', 'involvedObject.kind=AutoScalerPolicy', '-o', 'json']);
  return (JSON.parse(stdout) as { items: { reason: string; message: string; type: string }[] }).items;
}

beforeAll(async () => {
  if (skip) return;
  dir = await mkdtemp(join(tmpdir(), 'podscale-operator-'));
  plane = await ControlPlane.start({ dir, nodeName: 'podscale-node', nodeIps: ['10.244.0.1'] });
  await k(['create', 'namespace', 'podscale']);
  await k(['apply', '--server-side', '--validate=strict', '-k', 'k8s/controller/']);
  await k(['wait', '--for=condition=Established', '--timeout=30s', 'crd/autoscalerpolicies.autoscale.podscale.dev']);
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

describe.skipIf(skip)('the AutoScalerPolicy CRD on a real kube-apiserver', () => {
  it('accepts the example policy as written, and lists it with the printer columns', async () => {
    await k(['create', 'namespace', 'crd']);
    const example = parse(await readFile('k8s/controller/example-policy.yaml', 'utf8')) as { metadata: { namespace: string } };
    await apply({ ...example, metadata: { ...example.metadata, namespace: 'crd' } });
    const { stdout } = await k(['get', 'asp', '-n', 'crd']);
    expect(stdout.split('\n')[0]).toMatch(/^NAME\s+TARGET\s+DESIRED\s+CURRENT\s+LAST SCALE\s+AGE$/);
    expect(stdout).toMatch(/^podscale\s+podscale\s/m);
  });

  const base = () => policy('crd', { schedule: [{ time: '22:00', replicas: 2 }] });
  const kafkaLag = (fields: Record<string, unknown>) => JSON.parse(JSON.stringify({ ...{ type: 'KafkaLag', bootstrapServers: ['kafka-0.kafka:9092'], consumerGroup: 'orders', topic: 'orders', threshold: 100 }, ...fields })) as Record<string, unknown>;
  const withMetric = (metric: Record<string, unknown>) => ({ ...base(), spec: { ...base().spec, metrics: [metric] } });
  const cases: [string, unknown, RegExp][] = [
    ['an unknown metric type', withMetric({ type: 'Memory', threshold: 5 }), /spec\.metrics\[0\]: Invalid value: "object": unknown metric type: must be one of CPU, Pods, Prometheus, KafkaLag/],
    ['KafkaLag without bootstrapServers', withMetric(kafkaLag({ bootstrapServers: undefined })), /spec\.metrics\[0\]: Invalid value: "object": a KafkaLag metric needs bootstrapServers: a non-empty list of host:port/],
    ['KafkaLag with an empty bootstrapServers', withMetric(kafkaLag({ bootstrapServers: [] })), /a KafkaLag metric needs bootstrapServers: a non-empty list of host:port/],
    ['KafkaLag with a server without port', withMetric(kafkaLag({ bootstrapServers: ['kafka-0.kafka:9092', 'kafka-1.kafka'] })), /spec\.metrics\[0\]\.bootstrapServers\[1\]: Invalid value: "string": bootstrapServers must each be host:port/],
    ['KafkaLag without consumerGroup', withMetric(kafkaLag({ consumerGroup: undefined })), /a KafkaLag metric needs a consumerGroup/],
    ['KafkaLag with an empty consumerGroup', withMetric(kafkaLag({ consumerGroup: '' })), /a KafkaLag metric needs a consumerGroup/],
    ['KafkaLag without topic', withMetric(kafkaLag({ topic: undefined })), /a KafkaLag metric needs a topic/],
    ['KafkaLag with a bad topic name', withMetric(kafkaLag({ topic: 'two words' })), /spec\.metrics\[0\]\.topic: Invalid value: "string": topic must be a Kafka topic name/],
    ['KafkaLag without threshold', withMetric(kafkaLag({ threshold: undefined })), /spec\.metrics\[0\]\.threshold: Required value/],
    ['KafkaLag with threshold 0', withMetric(kafkaLag({ threshold: 0 })), /threshold must be greater than 0/],
    ['KafkaLag with allowIdleConsumers 1', withMetric(kafkaLag({ allowIdleConsumers: 1 })), /\.spec\.metrics\[0\]\.allowIdleConsumers: expected boolean/],
    ['threshold 0', withMetric({ type: 'CPU', threshold: 0 }), /spec\.metrics\[0\]: Invalid value: "object": threshold must be greater than 0/],
    ['a negative threshold', withMetric({ type: 'Pods', name: 'rps', threshold: -1 }), /threshold must be greater than 0/],
    ['a Prometheus metric without query', withMetric({ type: 'Prometheus', threshold: 5 }), /spec\.metrics\[0\]: Invalid value: "object": a Prometheus metric needs a query/],
    ['time 24:00', { ...base(), spec: { ...base().spec, schedule: [{ time: '24:00', replicas: 1 }] } }, /spec\.schedule\[0\]\.time: Invalid value: "string": time must be 24-hour HH:MM from 00:00 to 23:59/],
    ['time 9:00', { ...base(), spec: { ...base().spec, schedule: [{ time: '9:00', replicas: 1 }] } }, /time must be 24-hour HH:MM/],
    ['time 12:60', { ...base(), spec: { ...base().spec, schedule: [{ time: '12:60', replicas: 1 }] } }, /time must be 24-hour HH:MM/],
    ['days Monday', { ...base(), spec: { ...base().spec, schedule: [{ time: '09:00', replicas: 1, days: 'Monday' }] } }, /days must be day names or ranges such as Mon-Fri/],
    ['minReplicas > maxReplicas', policy('crd', { minReplicas: 5, maxReplicas: 2 }), /spec: Invalid value: "object": minReplicas must not be greater than maxReplicas/],
    ['neither metrics nor schedule', policy('crd', { metrics: [] }), /spec: Invalid value: "object": a policy needs at least one metric or one schedule entry/],
  ];
  it.each(cases)('rejects %s with the CEL message', async (_name, object, message) => {
    await expect(apply(object)).rejects.toMatchObject({ stderr: expect.stringMatching(message) });
  });

  it('accepts a KafkaLag metric with every field, and with allowIdleConsumers', async () => {
    await apply({ ...policy('crd', { metrics: [kafkaLag({ bootstrapServers: ['kafka-0.kafka:9092', '10.0.0.7:9092', '[fd00::7]:9092'] })] }), metadata: { name: 'kafka', namespace: 'crd' } });
    await apply({ ...policy('crd', { metrics: [kafkaLag({ allowIdleConsumers: true })] }), metadata: { name: 'kafka-idle', namespace: 'crd' } });
    expect(await jsonpath(['-n', 'crd', 'asp', 'kafka-idle'], '{.spec.metrics[0].allowIdleConsumers}')).toBe('true');
    const example = parse(await readFile('k8s/controller/example-kafka-policy.yaml', 'utf8')) as { metadata: { namespace: string } };
    await apply({ ...example, metadata: { ...example.metadata, namespace: 'crd' } });
  });

  it('accepts days and every time from 00:00 to 23:59, and a schedule-only policy', async () => {
    await apply(policy('crd', { schedule: [{ time: '00:00', replicas: 1, days: 'Mon-Fri' }, { time: '23:59', replicas: 2, days: 'Sat,Sun' }] }));
    const { metrics: _metrics, ...scheduleOnly } = policy('crd', { schedule: [{ time: '08:00', replicas: 3 }] }).spec;
    await apply({ ...policy('crd'), metadata: { name: 'schedule-only', namespace: 'crd' }, spec: scheduleOnly });
  });
});

describe.skipIf(skip)('RBAC of the podscale-controller ServiceAccount', () => {
  const can = async (args: string[]) => {
    const [verb, resource, , namespace] = args as [string, string, string, string];
    if (/(^|\.)metrics\.k8s\.io$/.test(resource)) {
      // The metrics APIs are not served here (no adapter, no metrics-server), so kubectl cannot
      // resolve their names through discovery: ask the authorizer with the SubjectAccessReview
      // that kubectl auth can-i sends.
      const [plural, ...group] = resource.split('.');
      const review = { apiVersion: 'authorization.k8s.io/v1', kind: 'SubjectAccessReview', spec: { user: SA, groups: ['system:serviceaccounts', 'system:serviceaccounts:podscale', 'system:authenticated'], resourceAttributes: { verb, group: group.join('.'), resource: plural, namespace } } };
      const { stdout } = await k(['create', '-o', 'json', '-f', '-'], JSON.stringify(review));
      return (JSON.parse(stdout) as { status: { allowed?: boolean } }).status.allowed ? 'yes' : 'no';
    }
    try {
      await k(['auth', 'can-i', `--as=${SA}`, ...args]);
      return 'yes';
    } catch {
      return 'no';
    }
  };
  const allowed = [
    'get autoscalerpolicies.autoscale.podscale.dev -n crd',
    'list autoscalerpolicies.autoscale.podscale.dev -A',
    'watch autoscalerpolicies.autoscale.podscale.dev -A',
    'patch autoscalerpolicies.autoscale.podscale.dev --subresource=status -n crd',
    'list deployments.apps -A',
    'watch deployments.apps -A',
    'get deployments.apps --subresource=scale -n crd',
    'patch deployments.apps --subresource=scale -n crd',
    'list pods -A',
    'watch pods -A',
    'list horizontalpodautoscalers.autoscaling -A',
    'watch horizontalpodautoscalers.autoscaling -A',
    'list pods.metrics.k8s.io -n crd',
    'get pods.custom.metrics.k8s.io -n crd',
    'create events -n crd',
    'create leases.coordination.k8s.io -n podscale',
    'get leases.coordination.k8s.io/podscale-controller -n podscale',
    'update leases.coordination.k8s.io/podscale-controller -n podscale',
  ];
  const denied = [
    'delete deployments.apps -n crd',
    'patch deployments.apps -n crd',
    'update deployments.apps --subresource=scale -n crd',
    'get secrets -n crd',
    'list secrets -A',
    'patch pods -n crd',
    'delete pods -n crd',
    'update autoscalerpolicies.autoscale.podscale.dev -n crd',
    'patch autoscalerpolicies.autoscale.podscale.dev -n crd',
    'delete autoscalerpolicies.autoscale.podscale.dev -n crd',
    'create leases.coordination.k8s.io -n kube-system',
    'update leases.coordination.k8s.io/kube-controller-manager -n podscale',
    'delete leases.coordination.k8s.io/podscale-controller -n podscale',
    'create horizontalpodautoscalers.autoscaling -n crd',
    'patch events -n crd',
  ];
  it('can do each thing the controller does', async () => {
    const answers = await Promise.all(allowed.map(async (check) => [check, await can(check.split(' '))]));
    expect(Object.fromEntries(answers)).toEqual(Object.fromEntries(allowed.map((check) => [check, 'yes'])));
  });
  it('cannot do anything else that was tried', async () => {
    const answers = await Promise.all(denied.map(async (check) => [check, await can(check.split(' '))]));
    expect(Object.fromEntries(answers)).toEqual(Object.fromEntries(denied.map((check) => [check, 'no'])));
  });
});

describe.skipIf(skip)('the controller (real child processes, ServiceAccount credentials)', () => {
  // One Lease (RBAC allows only podscale-controller): each test's controllers release it at its end.
  afterEach(async () => {
    await Promise.all(controllers.map((c) => c.stop('SIGTERM')));
  });

  it('writes once within the cooldown, and the cooldown still holds after a restart', { timeout: 150_000 }, async () => {
    await namespaceWithDeployment('cool', 1);
    await setLag(30);
    const first = controller('cool-a', 'cool');
    await first.waitFor(isMsg('lease: became leader'));
    const createdAt = Date.now();
    await apply(policy('cool', { cooldownSeconds: 20 }));
    await waitFor('cool', 'deployment/web', 'jsonpath={.spec.replicas}=3');
    const scaled = await first.waitFor(isMsg('scaled'));
    expect(scaled).toMatchObject({ from: 1, to: 3 });
    process.stderr.write(`[operator] policy created → scale written: ${scaled.time as number - createdAt} ms\n`);

    // Two more changes requested within the cooldown: none is written.
    await setLag(60);
    await waitFor('cool', 'autoscalerpolicy/web', 'jsonpath={.status.desiredReplicas}=6');
    await waitFor('cool', 'autoscalerpolicy/web', 'condition=CooldownActive');
    await setLag(80);
    await first.waitFor(isMsg('decided', (l) => l.desired === 8 && l.write === false));
    expect(await replicas('cool')).toBe(3);

    // A new process (no memory of the write) reads the cooldown from status.lastScaleTime.
    await first.stop('SIGTERM');
    const second = controller('cool-b', 'cool');
    await second.waitFor(isMsg('decided', (l) => l.desired === 8 && l.write === false));
    expect(await replicas('cool')).toBe(3);

    await waitFor('cool', 'deployment/web', 'jsonpath={.spec.replicas}=8');
    const again = await second.waitFor(isMsg('scaled'));
    const gap = (again.time as number) - (scaled.time as number);
    process.stderr.write(`[operator] second write ${gap} ms after the first (cooldown 20 000 ms)\n`);
    expect(gap).toBeGreaterThanOrEqual(20_000);
    expect(gap).toBeLessThan(23_000);
    expect(first.count(isMsg('scaled')) + second.count(isMsg('scaled'))).toBe(2);
    const scaledEvents = (await events('cool')).filter((e) => e.reason === 'Scaled');
    expect(scaledEvents.map((e) => e.message).sort()).toEqual([expect.stringMatching(/^Scaled Deployment web from 1 to 3/), expect.stringMatching(/^Scaled Deployment web from 3 to 8/)]);
  });

  it('applies the floor of a schedule window at once when it starts, cooldown or not', { timeout: 150_000 }, async () => {
    await namespaceWithDeployment('sched', 1);
    await setLag(10); // the metric alone asks for 1
    const hhmm = (ms: number) => new Date(ms).toISOString().slice(11, 16);
    // The first window is the minute already under way, so that it has begun when the policy
    // arrives: before a day's first entry, the day before's last one applies (windows wrap around
    // midnight), which would ask for 6 at once.
    const started = Math.floor(Date.now() / 60_000) * 60_000;
    let boundary = started + 60_000;
    if (boundary - Date.now() < 15_000) boundary += 60_000;
    // A resync far longer than the wait: a write near the boundary can only be the boundary's own.
    const resyncS = 30; // the most the controller accepts
    const c = controller('sched-a', 'sched', [`--resync=${resyncS}s`]);
    await c.waitFor(isMsg('lease: became leader'));
    await apply(policy('sched', { cooldownSeconds: 600, schedule: [{ time: hhmm(started), replicas: 3 }, { time: hhmm(boundary), replicas: 6 }] }));
    await waitFor('sched', 'deployment/web', 'jsonpath={.spec.replicas}=3');
    await waitFor('sched', 'autoscalerpolicy/web', 'condition=CooldownActive');
    await waitFor('sched', 'deployment/web', 'jsonpath={.spec.replicas}=6', '90s');
    const written = await c.waitFor(isMsg('scaled', (l) => l.to === 6));
    const late = (written.time as number) - boundary;
    process.stderr.write(`[operator] schedule window ${hhmm(boundary)} → floor written ${late} ms after it began, inside a 600 s cooldown\n`);
    expect(late).toBeGreaterThanOrEqual(0);
    // At the boundary, not at the next resync: a sixth of the resync leaves room for a busy machine.
    expect(late).toBeLessThan((resyncS * 1000) / 6);
    expect(await jsonpath(['-n', 'sched', 'asp', 'web'], '{.status.scheduleEntry.time}')).toBe(hhmm(boundary));
  });

  it('two replicas: only the leader writes; SIGKILL hands over within lease duration + retry period, SIGTERM at once', { timeout: 120_000 }, async () => {
    await namespaceWithDeployment('lead', 1);
    await setLag(20);
    const a = controller('lead-a', 'lead');
    await a.waitFor(isMsg('lease: became leader'));
    const b = controller('lead-b', 'lead');
    await b.waitFor(isMsg('informers started'));
    await apply(policy('lead'));
    await waitFor('lead', 'deployment/web', 'jsonpath={.spec.replicas}=2');
    await a.waitFor(isMsg('scaled'));
    await sleep(2_500); // a resync or two on both replicas
    expect(a.count(isMsg('scaled'))).toBe(1);
    expect(b.count(isMsg('decided'))).toBe(0);
    expect(b.count(isMsg('lease: became leader'))).toBe(0);

    const killedAt = Date.now();
    await a.stop('SIGKILL');
    const takeover = ((await b.waitFor(isMsg('lease: became leader'), 15_000)).time as number) - killedAt;
    process.stderr.write(`[operator] SIGKILL of the leader → new leader in ${takeover} ms (lease 4 s, retry 1 s)\n`);
    expect(takeover).toBeLessThan(4_000 + 1_200 + 1_000);
    await setLag(50);
    await waitFor('lead', 'deployment/web', 'jsonpath={.spec.replicas}=5');
    await b.waitFor(isMsg('scaled'));

    const c = controller('lead-c', 'lead');
    await c.waitFor(isMsg('informers started'));
    const terminatedAt = Date.now();
    await b.stop('SIGTERM');
    expect(b.count(isMsg('lease: released'))).toBe(1);
    const handover = ((await c.waitFor(isMsg('lease: became leader'), 10_000)).time as number) - terminatedAt;
    process.stderr.write(`[operator] SIGTERM of the leader → new leader in ${handover} ms\n`);
    expect(handover).toBeLessThan(2_500); // its next try, not the 4 s expiry
    await setLag(70);
    await waitFor('lead', 'deployment/web', 'jsonpath={.spec.replicas}=7');
    await c.waitFor(isMsg('scaled'));
    expect(a.count(isMsg('scaled')) + b.count(isMsg('scaled')) + c.count(isMsg('scaled'))).toBe(3);
  });

  it('refuses a Deployment an HPA also targets (Conflict=True, nothing written) until the HPA is gone', { timeout: 90_000 }, async () => {
    await namespaceWithDeployment('conflict', 2);
    await setLag(50);
    await apply({
      apiVersion: 'autoscaling/v2',
      kind: 'HorizontalPodAutoscaler',
      metadata: { name: 'web', namespace: 'conflict' },
      spec: { scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' }, minReplicas: 1, maxReplicas: 5, metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 50 } } }] },
    });
    const c = controller('conflict-a', 'conflict');
    await c.waitFor(isMsg('lease: became leader'));
    await apply(policy('conflict'));
    await waitFor('conflict', 'autoscalerpolicy/web', 'condition=Conflict');
    expect(await jsonpath(['-n', 'conflict', 'asp', 'web'], '{.status.conditions[?(@.type=="Conflict")].reason}')).toBe('HorizontalPodAutoscaler');
    await sleep(2_500); // a resync: still nothing written
    expect(await replicas('conflict')).toBe(2);
    expect(c.count(isMsg('scaled'))).toBe(0);
    expect(await events('conflict')).toContainEqual(expect.objectContaining({ type: 'Warning', reason: 'Conflict', message: expect.stringMatching(/also scaled by HorizontalPodAutoscaler web/) }));

    const deletedAt = Date.now();
    await k(['delete', 'hpa', 'web', '-n', 'conflict']);
    await waitFor('conflict', 'autoscalerpolicy/web', 'condition=Conflict=false', '10s');
    process.stderr.write(`[operator] HPA deleted → Conflict=False in ${Date.now() - deletedAt} ms (resync 2 s)\n`);
    expect(Date.now() - deletedAt).toBeLessThan(2_000 + 1_500);
    await waitFor('conflict', 'deployment/web', 'jsonpath={.spec.replicas}=5');

    // A second policy on the same Deployment: both refuse, until it is gone.
    await apply({ ...policy('conflict'), metadata: { name: 'twin', namespace: 'conflict' } });
    await waitFor('conflict', 'autoscalerpolicy/web', 'condition=Conflict', '10s');
    await waitFor('conflict', 'autoscalerpolicy/twin', 'condition=Conflict', '10s');
    expect(await jsonpath(['-n', 'conflict', 'asp', 'web'], '{.status.conditions[?(@.type=="Conflict")].reason}')).toBe('AutoScalerPolicy');
    await setLag(20);
    await waitFor('conflict', 'autoscalerpolicy/web', 'jsonpath={.status.observedGeneration}=1');
    await k(['delete', 'asp', 'twin', '-n', 'conflict']);
    await waitFor('conflict', 'autoscalerpolicy/web', 'condition=Conflict=false', '10s');
    await waitFor('conflict', 'deployment/web', 'jsonpath={.spec.replicas}=2');
    await c.waitFor(isMsg('scaled', (l) => l.to === 2));
  });

  it('holds replicas while Prometheus is down, says so, and recovers when it returns; serves health and metrics', { timeout: 120_000 }, async () => {
    await namespaceWithDeployment('outage', 1);
    await setLag(40);
    const c = controller('outage-a', 'outage');
    await c.waitFor(isMsg('lease: became leader'));
    await apply(policy('outage'));
    await apply({ ...policy('outage'), metadata: { name: 'tz', namespace: 'outage' }, spec: { ...policy('outage').spec, deploymentName: 'other', timeZone: 'Mars/Olympus' } });
    await waitFor('outage', 'deployment/web', 'jsonpath={.spec.replicas}=4');
    await waitFor('outage', 'autoscalerpolicy/tz', 'condition=Ready=false');
    expect(await jsonpath(['-n', 'outage', 'asp', 'tz'], '{.status.conditions[?(@.type=="Ready")].reason}')).toBe('InvalidTimeZone');

    await prometheus.stop();
    exporter.value = 0; // read as 0 this would scale to minReplicas
    await waitFor('outage', 'autoscalerpolicy/web', 'condition=ScalingActive=false', '20s');
    expect(await jsonpath(['-n', 'outage', 'asp', 'web'], '{.status.conditions[?(@.type=="ScalingActive")].message}')).toMatch(/could not be read; replicas are not lowered.*unreachable/);
    const seen = c.count(isMsg('decided', (l) => l.policy === 'outage/web'));
    await c.waitFor((l) => l.msg === 'decided' && l.policy === 'outage/web' && c.count(isMsg('decided', (m) => m.policy === 'outage/web')) >= seen + 2, 20_000, 'two more decisions');
    expect(await replicas('outage')).toBe(4);
    expect(await jsonpath(['-n', 'outage', 'asp', 'web'], '{.status.desiredReplicas}')).toBe('4');
    expect(await events('outage')).toContainEqual(expect.objectContaining({ type: 'Warning', reason: 'FailedGetMetrics' }));

    const metrics = await (await fetch(`http://127.0.0.1:${c.port}/metrics`)).text();
    expect(metrics).toMatch(/^podscale_controller_leader 1$/m);
    expect(metrics).toMatch(/^podscale_controller_errors_total\{kind="metric"\} [1-9]/m);
    expect(metrics).toMatch(/^podscale_controller_scale_operations_total\{direction="up"\} 1$/m);
    expect(metrics).toMatch(/^podscale_controller_reconciles_total\{result="ok"\} [1-9]/m);
    const count = Number(/^podscale_controller_decision_duration_seconds_count (\d+)/m.exec(metrics)?.[1]);
    const sum = Number(/^podscale_controller_decision_duration_seconds_sum (\S+)/m.exec(metrics)?.[1]);
    process.stderr.write(`[operator] decision latency: mean ${((sum / count) * 1000).toFixed(1)} ms over ${count} reconciles\n`);
    expect((await fetch(`http://127.0.0.1:${c.port}/readyz`)).status).toBe(200);
    expect((await fetch(`http://127.0.0.1:${c.port}/healthz`)).status).toBe(200);

    const restartedAt = Date.now();
    await prometheus.start();
    exporter.value = 20;
    await prometheus.waitForValue(QUERY, 20);
    await waitFor('outage', 'autoscalerpolicy/web', 'condition=ScalingActive', '20s');
    await waitFor('outage', 'deployment/web', 'jsonpath={.spec.replicas}=2', '20s');
    process.stderr.write(`[operator] Prometheus back → scaled on fresh data ${Date.now() - restartedAt} ms after its restart\n`);
  });
});
