import { Partitioners, type Kafka } from 'kafkajs';
import { brokerUnavailableReason, KafkaBroker } from '@podscale/kafka/broker.ts';

/** One broker per test file: `KafkaBroker.start()` in beforeAll, `stop()` in afterAll. */
export { KafkaBroker };

/**
 * Why this machine cannot run the Kafka tests, in one line (no Java, or the broker's jars not
 * resolved: `bash scripts/setup.sh --with-kafka`); undefined when it can. For `describe.skipIf`.
 */
export async function kafkaSkipReason(): Promise<string | undefined> {
  const reason = await brokerUnavailableReason();
  if (reason) console.warn(`skipping the Kafka tests: ${reason}`);
  return reason;
}

/**
 * Commits offsets for a group that has no running members, as a member would: joins, commits,
 * leaves. (kafkajs' admin.setOffsets does the same but waits for a 5 s fetch long-poll first.)
 */
export async function commitOffsets(kafka: Kafka, groupId: string, topic: string, offsets: Record<number, number>): Promise<void> {
  const consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 100, sessionTimeout: 6_000, heartbeatInterval: 500 });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  const joined = new Promise<void>((resolve) => consumer.on(consumer.events.GROUP_JOIN, () => resolve()));
  await consumer.run({ autoCommit: false, eachBatchAutoResolve: false, eachBatch: async () => undefined });
  consumer.pause([{ topic }]);
  await joined;
  await consumer.commitOffsets(Object.entries(offsets).map(([partition, offset]) => ({ topic, partition: Number(partition), offset: String(offset) })));
  await consumer.disconnect();
}

/**
 * Produces exactly `counts[p]` messages to each partition p (values `<p>-<i>`): idempotent, so a
 * send kafkajs retries after a slow answer (a busy machine, a topic just made) is not written twice.
 */
export async function produceCounts(kafka: Kafka, topic: string, counts: number[]): Promise<void> {
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  await producer.send({ topic, acks: -1, messages: counts.flatMap((count, partition) => Array.from({ length: count }, (_, i) => ({ partition, value: `${partition}-${i}` }))) });
  await producer.disconnect();
}
