/**
 * The KafkaLag metric end to end: a real kube-apiserver (v1.37), a real Kafka broker (KRaft, one
 * node) and the controller as a real child process. No node runs pods, so what is observed is the
 * Deployment's spec.replicas (written through deployments/scale) and the policy's status. The lag
 * is what the test produced minus what it committed for the group (admin setOffsets).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Admin, Kafka } from 'kafkajs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ControlPlane } from '@podscale/kube-local/control-plane.ts';
import { createKafka } from '@podscale/kafka/client.ts';
import { clusterSkipReason } from '../helpers/cluster.ts';
import { commitOffsets, kafkaSkipReason, KafkaBroker, produceCounts } from '../helpers/kafka.ts';
import { adminKubectl, ControllerProcess, type LogLine } from './harness.ts';
import { createTopic } from '@podscale/kafka/topics.ts';

const skip = (await clusterSkipReason()) ?? (await kafkaSkipReason());
const PARTITIONS = 3;

let plane: ControlPlane;
let dir: string;
let broker: KafkaBroker;
let kafka: Kafka;
let admin: Admin;
const controllers: ControllerProcess[] = [];

const { k, apply, jsonpath, waitFor } = adminKubectl(() => plane.adminKubeconfig, '30s');
const condition = (ns: string, type: string, field: 'reason' | 'message' | 'status') => jsonpath(['-n', ns, 'asp', 'workers'], `{.status.conditions[?(@.type=="${type}")].${field}}`);
const isMsg = (msg: string, extra: (line: LogLine) => boolean = () => true) => (line: LogLine) => line.msg === msg && extra(line);

/** A namespace with a Deployment `workers` and a topic of the same name with 30, 20 and 10 messages. */
async function setUp(ns: string, replicas: number): Promise<void> {
  await k(['create', 'namespace', ns]);
  await apply({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'workers', namespace: ns },
    spec: { replicas, selector: { matchLabels: { app: 'workers' } }, template: { metadata: { labels: { app: 'workers' } }, spec: { containers: [{ name: 'worker', image: 'podscale' }] } } },
  });
  await createTopic(admin, ns, PARTITIONS);
  await produceCounts(kafka, ns, [30, 20, 10]);
}

function policy(ns: string, metric: Record<string, unknown> = {}) {
  return {
    apiVersion: 'autoscale.podscale.dev/v1',
    kind: 'AutoScalerPolicy',
    metadata: { name: 'workers', namespace: ns },
    spec: {
      deploymentName: 'workers',
      minReplicas: 1,
      maxReplicas: 20,
      cooldownSeconds: 1,
      metrics: [{ type: 'KafkaLag', bootstrapServers: [broker.bootstrap], consumerGroup: 'workers', topic: ns, threshold: 10, ...metric }],
    },
  };
}

/** Commits offsets for the group `workers`, partition by partition. */
async function commit(topic: string, offsets: number[]): Promise<void> {
  await commitOffsets(kafka, 'workers', topic, { ...offsets });
}

function controller(identity: string, namespace: string): ControllerProcess {
  const c = new ControllerProcess(identity, [
    `--kubeconfig=${plane.adminKubeconfig}`,
    `--namespace=${namespace}`,
    '--prometheus-url=http://127.0.0.1:9',
    '--lease-namespace=podscale',
    '--lease-duration=4s',
    '--renew-deadline=3s',
    '--retry-period=1s',
    '--resync=2s',
    '--min-cooldown=1s',
    '--log-level=debug',
  ]);
  controllers.push(c);
  return c;
}

beforeAll(async () => {
  if (skip) return;
  dir = await mkdtemp(join(tmpdir(), 'podscale-operator-kafka-'));
  [plane, broker] = await Promise.all([ControlPlane.start({ dir, nodeName: 'podscale-node', nodeIps: ['10.244.0.1'] }), KafkaBroker.start()]);
  kafka = createKafka({ brokers: [broker.bootstrap], clientId: 'operator-test' });
  admin = kafka.admin();
  await admin.connect();
  await k(['create', 'namespace', 'podscale']);
  await k(['apply', '--server-side', '--validate=strict', '-k', 'k8s/controller/']);
  await k(['wait', '--for=condition=Established', '--timeout=30s', 'crd/autoscalerpolicies.autoscale.podscale.dev']);
}, 180_000);

afterEach(async () => {
  await Promise.all(controllers.splice(0).map((c) => c.stop('SIGTERM')));
});

afterAll(async () => {
  await Promise.all(controllers.map((c) => c.stop('SIGKILL')));
  await admin?.disconnect();
  await broker?.stop();
  await plane?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
}, 60_000);

describe.skipIf(skip)('the KafkaLag metric against a real broker and a real kube-apiserver', () => {
  it("reads the group's lag, scales to ceil(lag / threshold) capped at the partitions, and follows commits", { timeout: 90_000 }, async () => {
    await setUp('capped', 1);
    const c = controller('capped-a', 'capped');
    await c.waitFor(isMsg('lease: became leader'));
    await apply(policy('capped'));
    // 60 messages, none committed: lag 60 → 6 replicas asked, 3 partitions → 3.
    await waitFor('capped', 'deployment/workers', 'jsonpath={.spec.replicas}=3');
    // The status of that decision is written right after the scale, in one patch.
    await waitFor('capped', 'autoscalerpolicy/workers', 'jsonpath={.status.currentReplicas}=3');
    expect(await jsonpath(['-n', 'capped', 'asp', 'workers'], '{.status.metrics[0].current}')).toBe('60');
    expect(await jsonpath(['-n', 'capped', 'asp', 'workers'], '{.status.metrics[0].partitions}')).toBe('3');
    expect(await jsonpath(['-n', 'capped', 'asp', 'workers'], '{.status.metrics[0].limited}')).toMatch(/^capped at the topic's 3 partitions \(6 proposed\)/);
    expect(await condition('capped', 'ScalingLimited', 'reason')).toBe('PartitionCount');
    expect(await condition('capped', 'ScalingLimited', 'message')).toMatch(/capped at the Kafka topic's partition count .*allowIdleConsumers: true allows more\): 3/);

    // The group commits 25, 20 and 0 of them: lag 5 + 0 + 10 = 15 → ceil(15 / 10) = 2.
    await commit('capped', [25, 20, 0]);
    await waitFor('capped', 'deployment/workers', 'jsonpath={.spec.replicas}=2');
    await waitFor('capped', 'autoscalerpolicy/workers', 'jsonpath={.status.currentReplicas}=2');
    expect(await jsonpath(['-n', 'capped', 'asp', 'workers'], '{.status.metrics[0].current}')).toBe('15');
    expect(await condition('capped', 'ScalingLimited', 'status')).toBe('False');
    // All committed: lag 0 → minReplicas.
    await commit('capped', [30, 20, 10]);
    await waitFor('capped', 'deployment/workers', 'jsonpath={.spec.replicas}=1');
    await c.waitFor(isMsg('scaled', (l) => l.to === 1)); // logged just after the write
    expect(c.lines.filter(isMsg('scaled')).map((l) => [l.from, l.to])).toEqual([[1, 3], [3, 2], [2, 1]]);
  });

  it('allowIdleConsumers lifts the cap and says so in status', { timeout: 60_000 }, async () => {
    await setUp('idle', 1);
    const c = controller('idle-a', 'idle');
    await c.waitFor(isMsg('lease: became leader'));
    await apply(policy('idle', { allowIdleConsumers: true }));
    await waitFor('idle', 'deployment/workers', 'jsonpath={.spec.replicas}=6');
    await waitFor('idle', 'autoscalerpolicy/workers', 'jsonpath={.status.currentReplicas}=6');
    expect(await jsonpath(['-n', 'idle', 'asp', 'workers'], '{.status.metrics[0].limited}')).toBe('6 replicas for 3 partitions: 3 get no partition and sit idle (allowIdleConsumers)');
    expect(await condition('idle', 'ScalingLimited', 'status')).toBe('False');
  });

  it('holds replicas while the broker is down, says so, and resumes when it is back', { timeout: 120_000 }, async () => {
    await setUp('outage', 1); // lag 60 → 3 (the partitions)
    const c = controller('outage-a', 'outage');
    await c.waitFor(isMsg('lease: became leader'));
    await apply(policy('outage'));
    await waitFor('outage', 'deployment/workers', 'jsonpath={.spec.replicas}=3');
    await waitFor('outage', 'autoscalerpolicy/workers', 'condition=ScalingActive');

    await admin.disconnect();
    const stoppedAt = performance.now();
    await broker.stop({ keepData: true });
    await waitFor('outage', 'autoscalerpolicy/workers', 'condition=ScalingActive=false', '30s');
    process.stderr.write(`[kafka] broker stopped → ScalingActive=False in ${Math.round(performance.now() - stoppedAt)} ms\n`);
    expect(await condition('outage', 'ScalingActive', 'reason')).toBe('FailedGetMetrics');
    expect(await condition('outage', 'ScalingActive', 'message')).toMatch(/could not be read; replicas are not lowered for them: workers@outage: Kafka lag of group workers on outage from 127\.0\.0\.1:\d+: /);
    // Someone scales to 5, more than the lag asks for: with no reading, the controller holds 5
    // (it never lowers replicas on a failed read), over two more decisions.
    await k(['scale', '-n', 'outage', 'deployment/workers', '--replicas=5']);
    await c.waitFor(isMsg('decided', (l) => l.current === 5));
    const seen = c.count(isMsg('decided'));
    await c.waitFor(() => c.count(isMsg('decided')) >= seen + 2, 30_000, 'two more decisions');
    expect(await jsonpath(['-n', 'outage', 'deployment', 'workers'], '{.spec.replicas}')).toBe('5');
    expect(await jsonpath(['-n', 'outage', 'asp', 'workers'], '{.status.desiredReplicas}')).toBe('5');
    expect(c.count(isMsg('decided', (l) => l.current === 5 && l.desired !== 5))).toBe(0);

    // Back with the same data: the lag (60) is read again and asks for 3.
    const restartedAt = performance.now();
    broker = await broker.restart();
    admin = kafka.admin();
    await admin.connect();
    await waitFor('outage', 'deployment/workers', 'jsonpath={.spec.replicas}=3', '60s');
    await waitFor('outage', 'autoscalerpolicy/workers', 'condition=ScalingActive', '10s');
    process.stderr.write(`[kafka] broker restarted in ${broker.startMs} ms → scaled on a fresh reading ${Math.round(performance.now() - restartedAt)} ms after the restart began\n`);
  });
});
