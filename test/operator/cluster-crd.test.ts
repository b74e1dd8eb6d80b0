/**
 * The AutoScalerPolicy CRD of k8s/controller on a real kube-apiserver (v1.37): the shipped
 * examples are accepted as written, and each invalid policy is refused by the apiserver with its
 * CEL message, before any controller sees it. Only a real apiserver evaluates CEL as a cluster will.
 */
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { apply, jsonpath, k, policy, skip, useOperatorCluster } from './cluster-setup.ts';

useOperatorCluster({ forControllers: false });

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
    ['an unknown metric type', withMetric({ type: 'Memory', threshold: 5 }), /spec\.metrics\[0\]: Invalid value: unknown metric type: must be one of CPU, Pods, Prometheus, KafkaLag/],
    ['KafkaLag without bootstrapServers', withMetric(kafkaLag({ bootstrapServers: undefined })), /spec\.metrics\[0\]: Invalid value: a KafkaLag metric needs bootstrapServers: a non-empty list of host:port/],
    ['KafkaLag with an empty bootstrapServers', withMetric(kafkaLag({ bootstrapServers: [] })), /a KafkaLag metric needs bootstrapServers: a non-empty list of host:port/],
    ['KafkaLag with a server without port', withMetric(kafkaLag({ bootstrapServers: ['kafka-0.kafka:9092', 'kafka-1.kafka'] })), /spec\.metrics\[0\]\.bootstrapServers\[1\]: Invalid value: "kafka-1\.kafka": bootstrapServers must each be host:port/],
    ['KafkaLag without consumerGroup', withMetric(kafkaLag({ consumerGroup: undefined })), /a KafkaLag metric needs a consumerGroup/],
    ['KafkaLag with an empty consumerGroup', withMetric(kafkaLag({ consumerGroup: '' })), /a KafkaLag metric needs a consumerGroup/],
    ['KafkaLag without topic', withMetric(kafkaLag({ topic: undefined })), /a KafkaLag metric needs a topic/],
    ['KafkaLag with a bad topic name', withMetric(kafkaLag({ topic: 'two words' })), /spec\.metrics\[0\]\.topic: Invalid value: "two words": topic must be a Kafka topic name/],
    ['KafkaLag without threshold', withMetric(kafkaLag({ threshold: undefined })), /spec\.metrics\[0\]\.threshold: Required value/],
    ['KafkaLag with threshold 0', withMetric(kafkaLag({ threshold: 0 })), /threshold must be greater than 0/],
    ['KafkaLag with allowIdleConsumers 1', withMetric(kafkaLag({ allowIdleConsumers: 1 })), /\.spec\.metrics\[0\]\.allowIdleConsumers: expected boolean/],
    ['threshold 0', withMetric({ type: 'CPU', threshold: 0 }), /spec\.metrics\[0\]: Invalid value: threshold must be greater than 0/],
    ['a negative threshold', withMetric({ type: 'Pods', name: 'rps', threshold: -1 }), /threshold must be greater than 0/],
    ['a Prometheus metric without query', withMetric({ type: 'Prometheus', threshold: 5 }), /spec\.metrics\[0\]: Invalid value: a Prometheus metric needs a query/],
    ['time 24:00', { ...base(), spec: { ...base().spec, schedule: [{ time: '24:00', replicas: 1 }] } }, /spec\.schedule\[0\]\.time: Invalid value: "24:00": time must be 24-hour HH:MM from 00:00 to 23:59/],
    ['time 9:00', { ...base(), spec: { ...base().spec, schedule: [{ time: '9:00', replicas: 1 }] } }, /time must be 24-hour HH:MM/],
    ['time 12:60', { ...base(), spec: { ...base().spec, schedule: [{ time: '12:60', replicas: 1 }] } }, /time must be 24-hour HH:MM/],
    ['days Monday', { ...base(), spec: { ...base().spec, schedule: [{ time: '09:00', replicas: 1, days: 'Monday' }] } }, /days must be day names or ranges such as Mon-Fri/],
    ['minReplicas > maxReplicas', policy('crd', { minReplicas: 5, maxReplicas: 2 }), /spec: Invalid value: minReplicas must not be greater than maxReplicas/],
    ['neither metrics nor schedule', policy('crd', { metrics: [] }), /spec: Invalid value: a policy needs at least one metric or one schedule entry/],
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
