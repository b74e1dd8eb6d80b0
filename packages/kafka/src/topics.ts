/**
 * Topic creation that waits until the topic can be used. kafkajs' `createTopics({ waitForLeaders })`
 * polls metadata but gives up on UNKNOWN_TOPIC_OR_PARTITION, which a KRaft broker answers for a
 * moment after CreateTopics returned (its metadata cache learns the topic from the controller
 * asynchronously); seen here once in a CI run: "This server does not host this topic-partition".
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Admin } from 'kafkajs';

/** Creates `topic` with `numPartitions`; resolves once each has a leader. False if it existed. */
export async function createTopic(admin: Admin, topic: string, numPartitions: number, timeoutMs = 30_000): Promise<boolean> {
  const created = await admin.createTopics({ topics: [{ topic, numPartitions }], waitForLeaders: false });
  const deadline = performance.now() + timeoutMs;
  let last = 'no metadata yet';
  for (;;) {
    try {
      const partitions = (await admin.fetchTopicMetadata({ topics: [topic] })).topics[0]?.partitions ?? [];
      if (partitions.length >= numPartitions && partitions.every((partition) => partition.leader >= 0)) return created;
      last = `${partitions.filter((partition) => partition.leader >= 0).length} of ${numPartitions} partitions with a leader`;
    } catch (error) {
      const { type, retriable } = error as { type?: string; retriable?: boolean };
      if (type !== 'UNKNOWN_TOPIC_OR_PARTITION' && type !== 'LEADER_NOT_AVAILABLE' && !retriable) throw error;
      last = (error as Error).message;
    }
    if (performance.now() > deadline) throw new Error(`topic "${topic}" not ready after ${timeoutMs} ms: ${last}`);
    await sleep(100);
  }
}
