/**
 * The worker's consumer loop, and everything of the worker that needs the Kafka client. The service
 * bundle does not contain it: scripts/build-service.ts writes it to dist/service/kafka.mjs, which
 * packages/service/src/worker/main.ts imports only in worker mode, so the HTTP mode never loads kafkajs.
 *
 * Delivery: at least once. A message's offset is committed only after it was processed; on a
 * rebalance and on stop() kafkajs commits what was processed before it gives partitions up, so a
 * graceful hand-over redelivers nothing that finished, and at most the messages that were in flight
 * when the group changed. A worker that dies without stopping (SIGKILL, OOM) redelivers what it
 * processed since its last commit (the end of each batch, or every COMMIT_EVERY messages).
 */
import type { Admin, Consumer, EachBatchPayload, KafkaMessage } from 'kafkajs';
import type { Logger } from 'pino';
import { createKafka } from './client.ts';
import { readConsumerLag } from './lag.ts';

/** A fetch waits at most this long for data: also how long stop() may wait for an idle fetch. */
const MAX_FETCH_WAIT_MS = 500;
/** Commit at least every this many processed messages of a partition, even mid-batch. */
const COMMIT_EVERY = 100;

export interface InFlight {
  partition: number;
  offset: string;
}

export interface WorkerConsumerHooks {
  /** The group was joined (or re-joined after a rebalance) with these partitions of the topic. */
  joined(partitions: number[]): void;
  /** A message is about to be processed / was processed, in `seconds`. */
  started(message: InFlight): void;
  processed(message: InFlight, seconds: number): void;
  /** The partition's lag after its latest processed message, from the last fetch's high watermark. */
  lag(partition: number, lag: number): void;
  /** kafkajs gave up (it restarts the consumer itself on retriable errors). */
  crashed(error: Error): void;
}

export interface WorkerConsumerOptions {
  brokers: string[];
  topic: string;
  groupId: string;
  clientId: string;
  concurrency: number;
  sessionTimeoutMs: number;
  heartbeatIntervalMs: number;
  logger: Logger;
  process(message: KafkaMessage, partition: number): Promise<void>;
  hooks: WorkerConsumerHooks;
}

export interface WorkerConsumer {
  /** The messages being processed right now. */
  inFlight(): InFlight[];
  /**
   * Stops fetching, lets the messages in flight finish, commits the processed offsets, leaves the
   * group (so the coordinator rebalances at once, not after the session timeout) and disconnects.
   */
  stop(): Promise<void>;
}

export async function startWorkerConsumer(options: WorkerConsumerOptions): Promise<WorkerConsumer> {
  const { topic, groupId, logger, hooks } = options;
  const kafka = createKafka({ brokers: options.brokers, clientId: options.clientId, logger });
  const consumer: Consumer = kafka.consumer({
    groupId,
    sessionTimeout: options.sessionTimeoutMs,
    heartbeatInterval: options.heartbeatIntervalMs,
    // A member that leaves or joins makes the others re-join: give them a session's time, not a minute.
    rebalanceTimeout: Math.max(options.sessionTimeoutMs, 5_000),
    maxWaitTimeInMs: MAX_FETCH_WAIT_MS,
  });
  const admin: Admin = kafka.admin();
  const inFlight = new Map<string, InFlight>();

  consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
    const partitions = [...(payload.memberAssignment[topic] ?? [])].sort((a, b) => a - b);
    logger.info({ kafka: 'group', groupId, memberId: payload.memberId, joinMs: payload.duration, partitions }, 'worker: joined the consumer group');
    hooks.joined(partitions);
    // The lag gauge starts from the group's committed offsets, before the first fetch answers.
    void readConsumerLag(admin, groupId, topic)
      .then((lag) => {
        for (const p of lag.partitions) if (partitions.includes(p.partition)) hooks.lag(p.partition, p.lag);
      })
      .catch((error: unknown) => logger.warn({ err: error }, 'worker: could not read the initial lag'));
  });
  consumer.on(consumer.events.CRASH, ({ payload }) => {
    if (payload.restart) {
      logger.warn({ err: payload.error }, 'worker: consumer crashed, kafkajs restarts it');
      return;
    }
    hooks.crashed(payload.error);
  });

  async function eachBatch({ batch, resolveOffset, heartbeat, isRunning, isStale, commitOffsetsIfNecessary }: EachBatchPayload): Promise<void> {
    const highWatermark = Number(batch.highWatermark);
    let sinceCommit = 0;
    for (const message of batch.messages) {
      // stop() or a seek ends the batch between messages; what is left is fetched again by whoever
      // owns the partition next (eachBatchAutoResolve is off, so nothing unprocessed is committed).
      if (!isRunning() || isStale()) break;
      const entry = { partition: batch.partition, offset: message.offset };
      const key = `${entry.partition}:${entry.offset}`;
      inFlight.set(key, entry);
      hooks.started(entry);
      const startedAt = performance.now();
      try {
        await options.process(message, batch.partition);
      } finally {
        inFlight.delete(key);
      }
      resolveOffset(message.offset);
      hooks.processed(entry, (performance.now() - startedAt) / 1000);
      hooks.lag(batch.partition, Math.max(0, highWatermark - Number(message.offset) - 1));
      sinceCommit += 1;
      if (sinceCommit >= COMMIT_EVERY) {
        await commitOffsetsIfNecessary({ topics: [{ topic, partitions: [{ partition: batch.partition, offset: String(Number(message.offset) + 1) }] }] });
        sinceCommit = 0;
      }
      await heartbeat();
    }
    // kafkajs commits the resolved offsets right after this returns (autoCommit).
  }

  await admin.connect();
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({ eachBatchAutoResolve: false, partitionsConsumedConcurrently: options.concurrency, eachBatch });

  return {
    inFlight: () => [...inFlight.values()],
    async stop() {
      await consumer.disconnect();
      await admin.disconnect();
    },
  };
}
