import type { FastifyBaseLogger } from 'fastify';
import { pino, type Logger } from 'pino';
import type { Config } from './config.ts';

/**
 * JSON lines on stdout, as log collectors in a cluster expect; credentials never reach the log.
 * Writes are synchronous: pino's default asynchronous stream is flushed synchronously at
 * process.exit, which reorders a line still in flight after the last ones (seen in the shutdown
 * tests: "exit" logged before "close"), and a crash must not lose its last lines.
 */
export function createLogger(config: Pick<Config, 'logLevel' | 'podName'>): Logger {
  return pino(
    {
      level: config.logLevel,
      base: { pod: config.podName },
      redact: { paths: ['req.headers.authorization', 'req.headers.cookie', 'req.headers["proxy-authorization"]'], censor: '[redacted]' },
    },
    pino.destination({ dest: 1, sync: true }),
  );
}

/**
 * The logger Fastify itself is given: only when every request is logged (LOG_REQUESTS=true).
 * Given any logger, Fastify makes a child logger per request and adds, then removes, 'finish' and
 * 'error' listeners on every response to log its completion — work for a hello request even when
 * the completion is not logged (docs/performance.md). Without one, the service logs what it
 * logs itself: start-up, errors (with the request id, errors.ts), the drain.
 */
export function fastifyLogger(logger: FastifyBaseLogger | undefined, logRequests: boolean): FastifyBaseLogger | undefined {
  return logRequests ? logger : undefined;
}

/** Fastify logs its "Server listening at …" line only when it has the logger; otherwise the service does. */
export function logListening(logger: FastifyBaseLogger, url: string, logRequests: boolean): void {
  if (fastifyLogger(logger, logRequests) === undefined) logger.info(`Server listening at ${url}`);
}
