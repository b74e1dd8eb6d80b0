import closeWithGrace from 'close-with-grace';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { giveUpLogging } from '@podscale/fastify/shutdown.ts';
import type { WorkerConsumer } from '@podscale/kafka/consumer.ts';
import type { WorkerLifecycle } from './app.ts';

export interface WorkerShutdownOptions {
  app: FastifyInstance;
  lifecycle: WorkerLifecycle;
  /** Resolves to the consumer once it runs; undefined while it is still connecting. */
  consumer: () => WorkerConsumer | undefined;
  logger: Logger;
  /** How long stopping may take before the process gives up and exits 1. */
  timeoutMs: number;
}

/**
 * A worker's drain, top to bottom (the HTTP mode's is packages/fastify/src/shutdown.ts). A worker receives no
 * Service traffic, so there is no endpoint removal to wait for (SHUTDOWN_DELAY_MS does not apply):
 * the sooner it leaves the group, the sooner its partitions move to the other replicas. Each phase
 * is logged once; `inFlight` on the drain line is what may be redelivered if this process dies
 * before it commits.
 */
export function installWorkerShutdown({ app, lifecycle, consumer, logger, timeoutMs }: WorkerShutdownOptions): { uninstall(): void } {
  let signalledAt = 0;
  const elapsedMs = () => Math.round(performance.now() - signalledAt);

  return closeWithGrace(
    {
      delay: timeoutMs,
      ...giveUpLogging(logger),
    },
    async ({ signal, err }) => {
      signalledAt = performance.now();
      if (err) logger.fatal({ phase: 'fatal-error', err }, 'shutdown: uncaught error, stopping the consumer then exiting 1');

      // 1. Readiness 503 now; liveness stays 200.
      lifecycle.beginDrain();
      const running = consumer();
      const inFlight = running?.inFlight() ?? [];
      logger.info({ phase: 'drain', signal, inFlight, inFlightCount: inFlight.length }, 'shutdown: readiness 503, no more fetches, finishing the messages in flight');

      // 2. Stop fetching, finish in-flight messages, commit their offsets, leave the group.
      if (running) {
        await running.stop();
        logger.info({ phase: 'left-group', elapsedMs: elapsedMs() }, 'shutdown: in-flight messages done, offsets committed, left the group');
      } else logger.info({ phase: 'left-group', elapsedMs: elapsedMs(), joined: false }, 'shutdown: the consumer had not started: nothing to commit');

      // 3. The probes and /metrics go last.
      await app.close();

      // 4. close-with-grace exits 0 (1 after an uncaught error) once this resolves.
      logger.info({ phase: 'exit', elapsedMs: elapsedMs(), exitCode: err ? 1 : 0 }, 'shutdown: complete');
    },
  );
}
