/**
 * `podscale load kafka://…` against a real broker (KRaft, one node), the CLI as a real child
 * process: what it says it produced must be what the broker's log end offsets say was written,
 * and the lag it shows must be the broker's produced − committed for the group.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Admin, Consumer, Kafka } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKafka } from '@podscale/kafka/client.ts';
import type { RunRecord } from '@podscale/cli/load/record.ts';
import { renderReport } from '@podscale/cli/load/report.ts';
import { ArrivalSchedule, constantRate } from '@podscale/cli/load/schedule.ts';
import { runCli } from '../../../../test/helpers/child.ts';
import { commitOffsets, kafkaSkipReason, KafkaBroker, produceCounts } from '../../../../test/helpers/kafka.ts';
import { createTopic as createKafkaTopic } from '@podscale/kafka/topics.ts';

const skip = await kafkaSkipReason();

let broker: KafkaBroker;
let kafka: Kafka;
let admin: Admin;
let dir: string;
const children = new Set<ChildProcess>();

beforeAll(async () => {
  if (skip) return;
  dir = await mkdtemp(join(tmpdir(), 'podscale-kafka-load-'));
  broker = await KafkaBroker.start();
  console.log(`kafka ${broker.version} started in ${broker.startMs} ms on ${broker.bootstrap}`);
  kafka = createKafka({ brokers: [broker.bootstrap], clientId: 'kafka-load-test' });
  admin = kafka.admin();
  await admin.connect();
}, 120_000);

afterAll(async () => {
  for (const child of children) child.kill('SIGKILL');
  await admin?.disconnect();
  await broker?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
}, 60_000);

/** `podscale ...` as a child the teardown kills if a test ends first. */
function podscale(args: string[], onLine?: (line: string, child: ChildProcess) => void) {
  return runCli(args, { running: children, ...(onLine ? { onLine } : {}) });
}

async function createTopic(topic: string, partitions: number): Promise<void> {
  await createKafkaTopic(admin, topic, partitions);
}

/** Σ log end offsets of the topic: every message the broker has written to it. */
async function written(topic: string): Promise<number> {
  return (await admin.fetchTopicOffsets(topic)).reduce((sum, p) => sum + Number(p.high), 0);
}

const readRecord = async (file: string) => JSON.parse(await readFile(file, 'utf8')) as RunRecord;
const url = (topic: string) => `kafka://${broker.bootstrap}/${topic}`;

describe.skipIf(skip)('podscale load kafka:// against a real broker', () => {
  it('produces what the schedule says, the broker wrote exactly that, and with no consumer the lag grows to it', async () => {
    await createTopic('no-consumer', 3);
    const out = join(dir, 'no-consumer.json');
    const report = join(dir, 'no-consumer.html');
    const run = await podscale(['load', url('no-consumer'), '--rate', '200', '--duration', '3s', '--group', 'nobody', '--out', out, '--report', report]);
    expect(run.code, run.stderr).toBe(0);
    const expected = new ArrivalSchedule(constantRate(200, 3)).totalRequests;
    expect(expected).toBe(600);
    const record = await readRecord(out);
    const { counts } = record.summary;
    console.log(`200 msg/s for 3 s: acked ${counts.completed}, p50 ${record.summary.latency.p50} ms, p99 ${record.summary.latency.p99} ms, lag per second ${record.timeline.map((p) => p.kafka?.lag).join(' ')}`);
    expect(counts.offered).toBe(expected);
    expect(counts.completed).toBe(expected);
    expect(counts.dropped + Object.values(counts.errors).reduce((a, b) => a + b, 0)).toBe(0);
    expect(await written('no-consumer')).toBe(expected);

    // Nothing committed: every reading's lag is all that had been written, and it only grows.
    const readings = record.timeline.map((p) => p.kafka!);
    expect(readings.length).toBeGreaterThanOrEqual(3);
    for (const reading of readings) {
      expect(reading).toMatchObject({ consumers: 0, partitions: 3 });
      expect(reading.lag).toBe(reading.endOffset);
      expect(reading.lag).toBeLessThanOrEqual(expected);
    }
    expect(readings.map((r) => r.lag)).toEqual(readings.map((r) => r.lag).sort((a, b) => a! - b!));
    expect(readings.at(-1)!.lag).toBeGreaterThan(expected / 2);
    expect(record.kafka).toMatchObject({ brokers: [broker.bootstrap], topic: 'no-consumer', partitions: 3, group: 'nobody', end: { lag: expected, consumers: 0, partitions: 3, endOffset: expected } });

    expect(run.stdout).toMatch(/^kafka: topic no-consumer on 127\.0\.0\.1:\d+ with 3 partitions · acks=all, idempotent · lag and members of group nobody read every second$/m);
    expect(run.stdout).toMatch(/^t=1\.0s target=200\/s offered=\d+\/s acked=\d+\/s p50=.* errors=none inflight=\d+ lag=\d+ consumers=0 partitions=3$/m);
    expect(run.stdout).toMatch(/^done after 3\.\ds: offered 600 \(200\/s\), sent 600, acked 600 \(200\/s\), dropped 0$/m);
    expect(run.stdout).toMatch(/^group nobody after the last ack: lag 600 · consumers 0 · partitions 3$/m);
    expect(run.stdout).not.toMatch(/2xx/);

    // The report charts the lag and the members, and `podscale report` renders the same page again.
    const html = await readFile(report, 'utf8');
    expect(html).toContain('"title":"Consumer lag of group nobody"');
    expect(html).toContain('"title":"Consumers in group nobody"');
    expect(html).toContain('"label":"acked"');
    expect(html).not.toContain('"label":"4xx"');
    expect(renderReport(record)).toBe(html);
    const again = join(dir, 'again.html');
    expect((await podscale(['report', out, '--out', again])).code).toBe(0);
    expect(await readFile(again, 'utf8')).toBe(html);
  });

  it("shows produced − committed for a group that committed some offsets, and counts the group's members", { timeout: 60_000 }, async () => {
    await createTopic('members', 3);
    await produceCounts(kafka, 'members', [20, 20, 20]);
    // A short-lived member commits 5, 10 and 20 (35 of the 60), then leaves.
    await commitOffsets(kafka, 'workers', 'members', { 0: 5, 1: 10, 2: 20 });
    const committed = 35;
    // Two members stay in the group for the run, paused and committing nothing.
    const members: Consumer[] = [];
    try {
      for (let i = 0; i < 2; i += 1) {
        const consumer = kafka.consumer({ groupId: 'workers', maxWaitTimeInMs: 100, sessionTimeout: 6_000, heartbeatInterval: 500 });
        members.push(consumer);
        await consumer.connect();
        await consumer.subscribe({ topic: 'members', fromBeginning: true });
        await consumer.run({ autoCommit: false, eachBatchAutoResolve: false, eachBatch: async () => undefined });
        consumer.pause([{ topic: 'members' }]);
      }
      await expect.poll(async () => (await admin.describeGroups(['workers'])).groups[0], { timeout: 20_000, interval: 200 }).toMatchObject({ state: 'Stable', members: [{}, {}] });

      const out = join(dir, 'members.json');
      const run = await podscale(['load', url('members'), '--rate', '100', '--duration', '2s', '--group', 'workers', '--key', 'order-{seq}', '--out', out]);
      expect(run.code, run.stderr).toBe(0);
      const record = await readRecord(out);
      expect(record.summary.counts.completed).toBe(200);
      expect(await written('members')).toBe(60 + 200);
      for (const point of record.timeline) {
        expect(point.kafka).toMatchObject({ consumers: 2, partitions: 3 });
        expect(point.kafka!.lag).toBe(point.kafka!.endOffset! - committed);
      }
      expect(record.kafka?.end).toMatchObject({ lag: 60 + 200 - committed, consumers: 2, endOffset: 260 });
      expect(run.stdout).toMatch(/^group workers after the last ack: lag 225 · consumers 2 · partitions 3$/m);
      // The committed offsets are untouched by the run (the members commit nothing).
      const [offsets] = await admin.fetchOffsets({ groupId: 'workers', topics: ['members'] });
      expect(offsets!.partitions.map((p) => Number(p.offset)).sort((a, b) => a - b)).toEqual([5, 10, 20]);
    } finally {
      await Promise.all(members.map((consumer) => consumer.disconnect()));
    }
  });

  it('Ctrl-C (SIGTERM) stops producing, waits for the acks, reports, and exits by itself', async () => {
    await createTopic('interrupted', 2);
    const out = join(dir, 'interrupted.json');
    let signalled = false;
    const startedAt = performance.now();
    const run = await podscale(['load', url('interrupted'), '--rate', '100', '--duration', '60s', '--group', 'g', '--out', out], (line, child) => {
      if (!signalled && line.startsWith('t=1.')) {
        signalled = true;
        child.kill('SIGTERM');
      }
    });
    expect(run.code, run.stderr).toBe(0);
    expect(performance.now() - startedAt).toBeLessThan(20_000);
    expect(run.stdout).toMatch(/^interrupted after \d+\.\ds: /m);
    const record = await readRecord(out);
    expect(record.summary.stoppedBy).toBe('interrupted');
    expect(record.summary.counts.completed).toBe(record.summary.counts.offered);
    expect(await written('interrupted')).toBe(record.summary.counts.completed);
    expect(record.kafka?.end?.lag).toBe(record.summary.counts.completed);
  });

  it('--create-topic makes a missing topic with that many partitions', async () => {
    const run = await podscale(['load', url('made-here'), '--rate', '20', '--duration', '1s', '--create-topic', '2']);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^kafka: topic made-here on \S+ created with 2 partitions · acks=all, idempotent · no --group: lag not followed$/m);
    expect((await admin.fetchTopicOffsets('made-here')).length).toBe(2);
    expect(await written('made-here')).toBe(20);
  });

  it.each([
    [['--rate', '10', '--duration', '1s'], 'absent', /^podscale: topic "absent" does not exist on 127\.0\.0\.1:\d+: create it, or pass --create-topic PARTITIONS$/m],
    [['-X', 'POST'], 'x', /error: -X\/--method applies to http\(s\) targets, not kafka:\/\//],
    [['-H', 'a: b', '--weights', '2'], 'x', /error: -H\/--header, -w\/--weights apply to http\(s\) targets, not kafka:\/\//],
    [['http://127.0.0.1:1/'], 'x', /error: a kafka:\/\/ target runs alone: got 2 URLs/],
    [['--group', ' '], 'x', /error: --group needs a consumer group id/],
  ])('exits 1 naming the problem: %j on topic %s', async (args, topic, message) => {
    const run = await podscale(['load', url(topic), ...args]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(message);
    expect(await admin.listTopics()).not.toContain(topic);
  });

  it.each([
    ['kafka://127.0.0.1:9092', /names no topic/],
    ['kafka://127.0.0.1:99999/t', /broker "127\.0\.0\.1:99999" is not HOST:PORT with a port from 1 to 65535/],
    ['kafka://127.0.0.1/t', /broker "127\.0\.0\.1" is not HOST:PORT/],
    ['kafka://127.0.0.1:9092/a/b', /topic "a\/b" is not a legal Kafka topic name/],
    ['kafka://127.0.0.1:1/t', /^podscale: cannot reach the Kafka brokers 127\.0\.0\.1:1: .*ECONNREFUSED/m],
  ])('exits 1 on a bad kafka:// URL: %s', async (target, message) => {
    const run = await podscale(['load', target, '--rate', '10', '--duration', '1s']);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(message);
  });

  it('refuses Kafka options on an http target', async () => {
    const run = await podscale(['load', 'http://127.0.0.1:1/', '--group', 'g', '--create-topic', '3']);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/error: --group, --create-topic apply to kafka:\/\/ targets only/);
  });
});
