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
