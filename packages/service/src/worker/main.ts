/**
 * PODSCALE_MODE=worker: consume KAFKA_TOPIC as member of KAFKA_GROUP_ID, spending WORK_MS_PER_MESSAGE of CPU
 * on each message, with the same probes and /metrics as the HTTP mode. The Kafka client is imported
 * only when this runs (in the image: dist/service/kafka.mjs, a bundle of its own), so the HTTP mode
 * never loads it. (This module itself is imported statically: a dynamic import of it would make
 * esbuild wrap every module it shares with the HTTP mode in a lazy initializer, +60 kB.)
 */
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import type { Logger } from 'pino';
import type { Config, WorkerConfig } from '../config.ts';
import type { WorkerConsumer } from '@podscale/kafka/consumer.ts';
import { logListening } from '../logger.ts';
import { burnCpu } from '../routes/work.ts';
import { buildWorkerApp, WorkerLifecycle } from './app.ts';
import { WorkerMetrics } from './metrics.ts';
import { installWorkerShutdown } from './shutdown.ts';

/** CPU is spent in slices this long, yielding between them, so heartbeats, probes and signals are served. */
const WORK_SLICE_MS = 5;

/** The bounded cost of one message: `ms` of CPU, in slices. */
export async function processMessage(ms: number): Promise<void> {
  for (let left = ms; left > 0; left -= WORK_SLICE_MS) {
    burnCpu(Math.min(left, WORK_SLICE_MS));
    await yieldToEventLoop();
  }
}

export async function runWorker(config: Config & { worker: WorkerConfig }, logger: Logger): Promise<void> {
  const { worker } = config;
  const lifecycle = new WorkerLifecycle();
  const metrics = new WorkerMetrics(worker.topic);
  const app = await buildWorkerApp(config, { lifecycle, metrics, logger });
  const running: { consumer?: WorkerConsumer } = {};
  installWorkerShutdown({ app, lifecycle, consumer: () => running.consumer, logger, timeoutMs: config.shutdownTimeoutMs });

  try {
    logListening(logger, await app.listen({ port: config.port, host: config.host }), config.logRequests);
  } catch (error) {
    logger.fatal({ err: error }, 'could not listen');
    process.exit(1);
  }

  // Let Kubernetes restart the pod: the path of an uncaught error (drain, exit 1).
  const fail = (error: Error): void => {
    process.emit('uncaughtException', error);
  };
  const { startWorkerConsumer } = await import('@podscale/kafka/consumer.ts');
  logger.info({ brokers: worker.brokers, topic: worker.topic, groupId: worker.groupId, workMsPerMessage: worker.workMsPerMessage, concurrency: worker.concurrency }, 'worker: joining the consumer group');
  running.consumer = await startWorkerConsumer({
    brokers: worker.brokers,
    topic: worker.topic,
    groupId: worker.groupId,
    clientId: config.podName,
    concurrency: worker.concurrency,
    sessionTimeoutMs: worker.sessionTimeoutMs,
    heartbeatIntervalMs: worker.heartbeatIntervalMs,
    logger,
    process: () => processMessage(worker.workMsPerMessage),
    hooks: {
      joined: (partitions) => {
        metrics.assigned(partitions);
        if (!lifecycle.draining) lifecycle.markJoined();
      },
      started: () => metrics.started(),
      processed: (message, seconds) => {
        metrics.processed(seconds);
        logger.debug({ partition: message.partition, offset: message.offset }, 'message processed');
      },
      lag: (partition, lag) => metrics.lag(partition, lag),
      crashed: fail,
    },
  }).catch((error: unknown) => {
    // kafkajs gave up connecting (five retries, ~8 s against a closed port).
    fail(error as Error);
    return undefined;
  });
}
