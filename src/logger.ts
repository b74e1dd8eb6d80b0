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
 * The per-request logger Fastify hands to every request, created on its first use. Fastify's
 * default makes a pino child (bound to the request id) for each request, which serializes the
 * bindings every time: ~1.5 % of a hello request's CPU in the profile, for a logger that almost no
 * request uses while request logging is off (errors and LOG_REQUESTS=true still get the child).
 */
class LazyChildLogger implements FastifyBaseLogger {
  readonly #parent: FastifyBaseLogger;
  readonly #bindings: Bindings;
  readonly #options: ChildLoggerOptions;
  #child: FastifyBaseLogger | undefined;

  constructor(parent: FastifyBaseLogger, bindings: Bindings, options: ChildLoggerOptions) {
    this.#parent = parent;
    this.#bindings = bindings;
    this.#options = options;
  }

  get #logger(): FastifyBaseLogger {
    return (this.#child ??= this.#parent.child(this.#bindings, this.#options));
  }

  get level(): string {
    return this.#child?.level ?? this.#options.level ?? this.#parent.level;
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
    return this.#logger.child(bindings, options);
  }
}

/** Fastify's `childLoggerFactory`: see LazyChildLogger. */
export function lazyChildLogger(logger: FastifyBaseLogger, bindings: Bindings, options: ChildLoggerOptions): FastifyBaseLogger {
  return new LazyChildLogger(logger, bindings, options);
}
