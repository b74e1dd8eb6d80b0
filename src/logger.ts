import type { FastifyBaseLogger } from 'fastify';
import { pino, type Bindings, type ChildLoggerOptions, type Logger } from 'pino';
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

type LogArgs = Parameters<FastifyBaseLogger['info']>;

/**
 * A logger whose pino child is created on first use. Fastify makes a child logger (bound to the
 * request id) for every request, and pino's child() serializes the bindings each time; with a
 * custom childLoggerFactory Fastify also re-validates every child's methods per request. Together
 * that was ~340 ns of a hello request (~2 % of its CPU) in the profile, for a logger almost no
 * request uses while request logging is off. Handing Fastify this wrapper as its logger keeps
 * Fastify's default factory (no per-request validation) and makes each child a small object that
 * becomes a real pino child only if the request logs (errors, LOG_REQUESTS=true).
 */
class DeferredLogger implements FastifyBaseLogger {
  readonly #parent: FastifyBaseLogger;
  /** null: this wrapper is the parent itself (the root Fastify is given). */
  readonly #bindings: Bindings | null;
  readonly #options: ChildLoggerOptions | undefined;
  #child: FastifyBaseLogger | undefined;

  constructor(parent: FastifyBaseLogger, bindings: Bindings | null, options?: ChildLoggerOptions) {
    this.#parent = parent;
    this.#bindings = bindings;
    this.#options = options;
  }

  get #logger(): FastifyBaseLogger {
    if (this.#child === undefined) {
      // The parent's real logger: asking a DeferredLogger for a child would only defer again.
      const parent = this.#parent instanceof DeferredLogger ? this.#parent.#logger : this.#parent;
      this.#child = this.#bindings === null ? parent : parent.child(this.#bindings, this.#options);
    }
    return this.#child;
  }

  get level(): string {
    return this.#child?.level ?? this.#options?.level ?? this.#parent.level;
  }

  set level(level: string) {
    this.#logger.level = level;
  }

  fatal(...args: LogArgs): void {
    this.#logger.fatal(...args);
  }
  error(...args: LogArgs): void {
    this.#logger.error(...args);
  }
  warn(...args: LogArgs): void {
    this.#logger.warn(...args);
  }
  info(...args: LogArgs): void {
    this.#logger.info(...args);
  }
  debug(...args: LogArgs): void {
    this.#logger.debug(...args);
  }
  trace(...args: LogArgs): void {
    this.#logger.trace(...args);
  }
  silent(...args: LogArgs): void {
    this.#logger.silent(...args);
  }
  child(bindings: Bindings, options?: ChildLoggerOptions): FastifyBaseLogger {
    return new DeferredLogger(this, bindings, options);
  }
}

/** The logger to give Fastify (`loggerInstance`): `logger` itself, with children made on first use. */
export function withDeferredChildren(logger: FastifyBaseLogger): FastifyBaseLogger {
  return new DeferredLogger(logger, null);
}
