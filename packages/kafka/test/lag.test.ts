/**
 * The lag reader against a real broker (KRaft, one node): the test produces a known number of
 * messages to each partition, commits known offsets for a group, and the reading must equal the
 * arithmetic per partition and summed. One broker for the file.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Admin, Kafka } from 'kafkajs';
import { createKafka } from '@podscale/kafka/client.ts';
import { readConsumerLag } from '@podscale/kafka/lag.ts';
import { commitOffsets, kafkaSkipReason, KafkaBroker, produceCounts } from '../../../test/helpers/kafka.ts';
import { createTopic } from '@podscale/kafka/topics.ts';

const skip = await kafkaSkipReason();

let broker: KafkaBroker;
let kafka: Kafka;
let admin: Admin;

/** Messages produced to each partition of `lag-topic` (partition 2 gets none). */
const PRODUCED = [5, 3, 0, 7];

beforeAll(async () => {
  if (skip) return;
  broker = await KafkaBroker.start();
  console.log(`kafka ${broker.version} started in ${broker.startMs} ms on ${broker.bootstrap}`);
  kafka = createKafka({ brokers: [broker.bootstrap], clientId: 'lag-test' });
  admin = kafka.admin();
  await admin.connect();
  await createTopic(admin, 'lag-topic', PRODUCED.length);
  await produceCounts(kafka, 'lag-topic', PRODUCED);
}, 120_000);

afterAll(async () => {
  await admin?.disconnect();
  await broker?.stop();
}, 60_000);

describe.skipIf(skip)('consumer lag from a real broker', () => {
  it('counts every retained message of a group that committed nothing', async () => {
    const lag = await readConsumerLag(admin, 'never-committed', 'lag-topic');
    expect(lag.partitionCount).toBe(4);
    expect(lag.partitions.map((p) => p.lag)).toEqual(PRODUCED);
    expect(lag.partitions.map((p) => p.committedOffset)).toEqual([undefined, undefined, undefined, undefined]);
    expect(lag.total).toBe(15);
  });

  it('equals log end − committed per partition, and the sum', async () => {
    // Partition 0 read 2 of 5, partition 1 all 3, partition 2 (empty) nothing, partition 3 4 of 7.
    await commitOffsets(kafka, 'half-way', 'lag-topic', { 0: 2, 1: 3, 3: 4 });
    const lag = await readConsumerLag(admin, 'half-way', 'lag-topic');
    expect(lag.partitions).toEqual([
      { partition: 0, logEndOffset: 5, logStartOffset: 0, committedOffset: 2, lag: 3 },
      { partition: 1, logEndOffset: 3, logStartOffset: 0, committedOffset: 3, lag: 0 },
      { partition: 2, logEndOffset: 0, logStartOffset: 0, committedOffset: undefined, lag: 0 },
      { partition: 3, logEndOffset: 7, logStartOffset: 0, committedOffset: 4, lag: 3 },
    ]);
    expect(lag.total).toBe(6);
  });

  it('follows what a real consumer commits', async () => {
    const consumer = kafka.consumer({ groupId: 'real-consumer', sessionTimeout: 6_000, heartbeatInterval: 500 });
    await consumer.connect();
    await consumer.subscribe({ topic: 'lag-topic', fromBeginning: true });
    // Read exactly two messages of partition 3 and commit after each (autoCommit off: explicit).
    let seen = 0;
    const readTwo = new Promise<void>((resolve) => {
      void consumer.run({
        autoCommit: false,
        eachMessage: async ({ topic, partition, message, pause }) => {
          if (partition !== 3 || seen >= 2) {
            pause();
            return;
          }
          seen += 1;
          await consumer.commitOffsets([{ topic, partition, offset: String(Number(message.offset) + 1) }]);
          if (seen === 2) resolve();
        },
      });
    });
    await readTwo;
    await consumer.disconnect();
    const lag = await readConsumerLag(admin, 'real-consumer', 'lag-topic');
    expect(lag.partitions[3]).toMatchObject({ committedOffset: 2, lag: 5 });
  });

  it('does not count messages retention removed: a stale commit and no commit both start at the log start', async () => {
    // DeleteRecords moves partition 0's log start to 4 (the group committed 2) and partition 3's to 6.
    await admin.deleteTopicRecords({ topic: 'lag-topic', partitions: [{ partition: 0, offset: '4' }, { partition: 3, offset: '6' }] });
    const stale = await readConsumerLag(admin, 'half-way', 'lag-topic');
    expect(stale.partitions[0]).toEqual({ partition: 0, logEndOffset: 5, logStartOffset: 4, committedOffset: 2, lag: 1 });
    expect(stale.partitions[3]).toEqual({ partition: 3, logEndOffset: 7, logStartOffset: 6, committedOffset: 4, lag: 1 });
    const none = await readConsumerLag(admin, 'never-committed', 'lag-topic');
    expect(none.partitions.map((p) => p.lag)).toEqual([1, 3, 0, 1]);
    expect(none.total).toBe(5);
  });

  it('keeps topics and offsets across a clean stop and a restart on the same port', async () => {
    await admin.disconnect();
    const stoppedAt = performance.now();
    await broker.stop({ keepData: true });
    const stopMs = Math.round(performance.now() - stoppedAt);
    broker = await broker.restart();
    console.log(`kafka stopped in ${stopMs} ms (SIGTERM), restarted in ${broker.startMs} ms`);
    admin = kafka.admin();
    await admin.connect();
    const lag = await readConsumerLag(admin, 'half-way', 'lag-topic');
    expect(lag.partitions.map((p) => p.lag)).toEqual([1, 0, 0, 1]);
  }, 90_000);
});
