/**
 * Produce load: each due request is one message to the topic, acknowledged by every in-sync
 * replica (acks=-1) through an idempotent producer, so a send that kafkajs retries after a slow
 * answer is not written twice and the broker's offsets count exactly what was acked. Loaded with
 * `import()` only for kafka:// runs, like the worker's consumer: kafkajs is not needed otherwise.
 */
import { Partitioners, type Admin, type Kafka, type Message, type Producer } from 'kafkajs';
import { createKafka } from '@podscale/kafka/client.ts';
import type { Outcome, Sender } from './sender.ts';
import { classifyError } from '../errors.ts';
import type { ErrorKind } from '../stats.ts';
import type { KafkaTarget } from './kafka-target.ts';
import { createTopic } from '@podscale/kafka/topics.ts';

/**
 * Bytes of message values in one produce request at most. The broker refuses a record batch over
 * its message.max.bytes (1 MiB by default) as a whole; half of that leaves room for keys and
 * framing.
 */
const MAX_BATCH_BYTES = 512 * 1024;

export interface KafkaSenderOptions {
  producer: Producer;
  topic: string;
  timeoutMs: number;
  /** The message key; `{seq}` is replaced by the message's number. None: kafkajs spreads round robin. */
  key?: string;
  /** The message value; default the message's number. */
  value?: string;
}

/**
 * kafkajs' idempotent producer holds one produce request per broker at a time (a lock in
 * sendMessages), so a send() per message would queue behind the one before and cap the rate at one
 * round trip per message. Instead, messages that fall due while a request is outstanding wait and
 * leave together in the next one, as soon as it returns: the batch is as large as the broker is
 * slow, and each message's latency still runs from its own due time to the ack of its request.
 */
export class KafkaSender implements Sender {
  readonly #options: KafkaSenderOptions;
  readonly #maxBatch: number;
  #seqs: number[] = [];
  #dues: number[] = [];
  #outcome: Outcome | undefined;
  #sending = false;
  #flushQueued = false;

  constructor(options: KafkaSenderOptions) {
    this.#options = options;
    this.#maxBatch = Math.max(1, Math.floor(MAX_BATCH_BYTES / Math.max(16, Buffer.byteLength(options.value ?? ''))));
  }

  send(seq: number, dueAt: number, outcome: Outcome): void {
    this.#outcome = outcome;
    this.#seqs.push(seq);
    this.#dues.push(dueAt);
    // After the engine's current tick, so that every message due in it goes in one request.
    if (!this.#sending && !this.#flushQueued) {
      this.#flushQueued = true;
      queueMicrotask(this.#flush);
    }
  }

  async close(): Promise<void> {
    await this.#options.producer.disconnect();
  }

  #flush = (): void => {
    this.#flushQueued = false;
    if (this.#sending || this.#seqs.length === 0) return;
    const outcome = this.#outcome!;
    const seqs = this.#seqs.splice(0, this.#maxBatch);
    const dues = this.#dues.splice(0, this.#maxBatch);
    this.#sending = true;
    const { producer, topic, timeoutMs } = this.#options;
    let settled = false;
    const settle = (kind?: ErrorKind) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      for (const dueAt of dues) {
        if (kind) outcome.fail(kind);
        else outcome.complete(dueAt, undefined, undefined);
      }
      this.#sending = false;
      this.#flush();
    };
    // The engine waits for every message before it reports, so each request gets a deadline of
    // --timeout from its oldest message's due time, whatever kafkajs retries meanwhile. A message
    // counted as a timeout may still be written afterwards.
    const timer = setTimeout(() => settle('timeout'), Math.max(0, dues[0]! + timeoutMs - performance.now()));
    producer.send({ topic, acks: -1, timeout: timeoutMs, messages: seqs.map((seq) => this.#message(seq)) }).then(
      () => settle(),
      (error: unknown) => settle(classifyError(error)),
    );
  };

  #message(seq: number): Message {
    const { key, value } = this.#options;
    const text = value ?? String(seq);
    if (key === undefined) return { value: text };
    return { key: key.includes('{seq}') ? key.replaceAll('{seq}', String(seq)) : key, value: text };
  }
}

export interface KafkaLoad {
  kafka: Kafka;
  /** Connected; the caller's to use (lag readings) until close(). */
  admin: Admin;
  sender: KafkaSender;
  partitions: number;
  /** Whether --create-topic made the topic. */
  created: boolean;
  /** Disconnects the admin client (the sender disconnects its producer when the run closes it). */
  close(): Promise<void>;
}

export interface KafkaLoadOptions {
  timeoutMs: number;
  /** Create the topic with this many partitions if it does not exist. */
  createTopic?: number;
  key?: string;
  value?: string;
}

/**
 * Connects to the brokers and checks the topic before the run starts, so that neither the connect
 * nor a missing topic is measured as load: a topic that does not exist fails here, by name (a
 * broker with auto-creation on would otherwise create one silently with its default partitions).
 */
export async function openKafkaLoad(target: KafkaTarget, options: KafkaLoadOptions): Promise<KafkaLoad> {
  const where = target.brokers.join(',');
  // Few, short retries: a wrong address should fail in seconds, not kafkajs' default ~30 s.
  const kafka = createKafka({ brokers: target.brokers, clientId: 'podscale-load', connectionTimeoutMs: 3_000, retries: 2, requestTimeoutMs: options.timeoutMs });
  const admin = kafka.admin();
  const fail = async (what: string, error: unknown): Promise<never> => {
    await admin.disconnect().catch(() => undefined);
    throw new Error(`${what}: ${(error as Error).message}`, { cause: error });
  };
  await admin.connect().catch((error: unknown) => fail(`cannot reach the Kafka brokers ${where}`, error));
  let created = false;
  const topics = await admin.listTopics().catch((error: unknown) => fail(`cannot list the topics on ${where}`, error));
  if (!topics.includes(target.topic)) {
    if (options.createTopic === undefined) {
      await admin.disconnect();
      throw new Error(`topic "${target.topic}" does not exist on ${where}: create it, or pass --create-topic PARTITIONS`);
    }
    created = await createTopic(admin, target.topic, options.createTopic)
      .catch((error: unknown) => fail(`cannot create topic "${target.topic}" on ${where}`, error));
  }
  const metadata = await admin.fetchTopicMetadata({ topics: [target.topic] }).catch((error: unknown) => fail(`cannot read topic "${target.topic}" on ${where}`, error));
  const partitions = metadata.topics[0]?.partitions.length ?? 0;
  const producer = kafka.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    allowAutoTopicCreation: false,
    createPartitioner: Partitioners.DefaultPartitioner,
    // kafkajs retries an idempotent producer's sends forever by default; each request has its own
    // deadline here (see KafkaSender), and the retries must end soon after it.
    retry: { retries: 3, initialRetryTime: 100, maxRetryTime: 1_000 },
  });
  await producer.connect().catch((error: unknown) => fail(`cannot connect a producer to ${where}`, error));
  const sender = new KafkaSender({ producer, topic: target.topic, timeoutMs: options.timeoutMs, ...(options.key === undefined ? {} : { key: options.key }), ...(options.value === undefined ? {} : { value: options.value }) });
  return { kafka, admin, sender, partitions, created, close: () => admin.disconnect() };
}
