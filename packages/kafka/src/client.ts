/**
 * The Kafka client, kafkajs 2.2.4 (pure JavaScript: it bundles into the service image's single
 * file; docs/kafka-workers.md says why it was chosen over
 * @confluentinc/kafka-javascript), with one fix applied and a bridge from its logs to pino.
 *
 * The fix: kafkajs' request queue re-arms a timer after every response even when nothing waits,
 * with a delay of `throttledUntil - Date.now()` — negative when unthrottled — so each connection
 * spins a 1 ms timer forever (kafkajs #1704; Node 24 also warns "TimeoutNegativeWarning" on it,
 * #1751). Measured here on an idle consumer: ~1,400 timers/s and 4.5 % of a core. Unfixed upstream
 * (open PRs #1755, #1768); the patch below is the one proposed there: schedule a check only while
 * requests are pending or the broker throttles. `push()` still schedules one whenever it enqueues.
 */
import { Kafka, logLevel, type KafkaConfig, type logCreator } from 'kafkajs';
import RequestQueue from 'kafkajs/src/network/requestQueue/index.js';
import type { Logger } from 'pino';

const CHECK_PENDING_REQUESTS_INTERVAL_MS = 10;

RequestQueue.prototype.scheduleCheckPendingRequests = function scheduleCheckPendingRequests(this: RequestQueue): void {
  if (this.throttleCheckTimeoutId) return;
  const untilUnthrottled = this.throttledUntil - Date.now();
  if (this.pending.length === 0 && untilUnthrottled <= 0) return;
  const delay = untilUnthrottled > 0 ? untilUnthrottled : CHECK_PENDING_REQUESTS_INTERVAL_MS;
  this.throttleCheckTimeoutId = setTimeout(() => {
    this.throttleCheckTimeoutId = null;
    this.checkPendingRequests();
  }, delay);
};

const LEVELS: Record<number, 'error' | 'warn' | 'info' | 'debug'> = {
  [logLevel.ERROR]: 'error',
  [logLevel.WARN]: 'warn',
  [logLevel.INFO]: 'info',
  [logLevel.DEBUG]: 'debug',
};

/** kafkajs' log entries as pino lines (`{"kafka":"Consumer", ...}`), or nothing without a logger. */
function pinoLogCreator(logger: Logger | undefined): logCreator {
  return () =>
    ({ namespace, level, log }) => {
      if (!logger) return;
      const { message, timestamp: _timestamp, logger: _name, ...fields } = log;
      logger[LEVELS[level] ?? 'info']({ kafka: namespace, ...fields }, message);
    };
}

export interface KafkaClientOptions {
  brokers: string[];
  clientId: string;
  logger?: Logger;
  /** How long a connection attempt may take (kafkajs default 1 s). */
  connectionTimeoutMs?: number;
  /** kafkajs' retry budget for each call; the default (5 retries, ~30 s) suits a worker, not a probe. */
  retries?: number;
  /** Per-request timeout (kafkajs default 30 s). */
  requestTimeoutMs?: number;
}

export function createKafka(options: KafkaClientOptions): Kafka {
  const config: KafkaConfig = {
    brokers: options.brokers,
    clientId: options.clientId,
    logLevel: options.logger ? logLevel.WARN : logLevel.NOTHING,
    logCreator: pinoLogCreator(options.logger),
    ...(options.connectionTimeoutMs === undefined ? {} : { connectionTimeout: options.connectionTimeoutMs }),
    ...(options.requestTimeoutMs === undefined ? {} : { requestTimeout: options.requestTimeoutMs }),
    ...(options.retries === undefined ? {} : { retry: { retries: options.retries, initialRetryTime: 100, maxRetryTime: 1_000 } }),
  };
  return new Kafka(config);
}
