import { hostname } from 'node:os';
import { Ajv } from 'ajv';
import Type, { type Static, type TSchema } from 'typebox';

/**
 * Every knob of the service is an environment variable (12-factor, and what a Deployment's `env:`
 * sets). Each schema carries `expected`, the phrase an operator sees when the value is wrong.
 */
const integer = (minimum: number, maximum: number, fallback: number) =>
  Type.Integer({ minimum, maximum, default: fallback, expected: `an integer from ${minimum} to ${maximum}` });

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
const MODES = ['http', 'worker'] as const;

/** host:port, the host a name, an IPv4 address or a bracketed IPv6 address; the port checked after. */
const HOST_PORT = String.raw`(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9][A-Za-z0-9.-]*):[0-9]{1,5}`;

export const EnvSchema = Type.Object({
  PORT: integer(0, 65535, 8080),
  HOST: Type.String({ minLength: 1, default: '0.0.0.0', expected: 'a host name or IP address to bind' }),
  METRICS_PORT: Type.Optional(integer(0, 65535, 0)),
  LOG_LEVEL: Type.Union(LOG_LEVELS.map((level) => Type.Literal(level)), {
    default: 'info',
    expected: `one of ${LOG_LEVELS.join(', ')}`,
  }),
  LOG_REQUESTS: Type.Boolean({ default: false, expected: 'true or false' }),
  SHUTDOWN_DELAY_MS: integer(0, 600_000, 5_000),
  SHUTDOWN_TIMEOUT_MS: integer(1, 600_000, 20_000),
  BODY_LIMIT_BYTES: integer(2, 10 * 1024 * 1024, 64 * 1024),
  WORK_MAX_MS: integer(1, 60_000, 1_000),
  DELAY_MAX_MS: integer(0, 600_000, 10_000),
  KEEP_ALIVE_TIMEOUT_MS: integer(1, 3_600_000, 65_000),
  HEADERS_TIMEOUT_MS: integer(1, 600_000, 10_000),
  REQUEST_TIMEOUT_MS: integer(1, 3_600_000, 30_000),
  OVERLOAD_MAX_EVENT_LOOP_DELAY_MS: integer(0, 600_000, 100),
  // Worker mode (PODSCALE_MODE=worker): consume a Kafka topic instead of serving the API (packages/service/src/worker/).
  PODSCALE_MODE: Type.Union(MODES.map((mode) => Type.Literal(mode)), { default: 'http', expected: `one of ${MODES.join(', ')}` }),
  KAFKA_BROKERS: Type.Optional(Type.String({ pattern: `^${HOST_PORT}(?:,${HOST_PORT})*$`, expected: 'a comma-separated list of host:port' })),
  // Kafka's own rule for topic names: at most 249 of letters, digits, ".", "_" and "-".
  KAFKA_TOPIC: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9._-]{1,249}$', expected: 'a Kafka topic name (at most 249 letters, digits, ".", "_" or "-")' })),
  KAFKA_GROUP_ID: Type.Optional(Type.String({ minLength: 1, maxLength: 255, expected: 'a consumer group id of 1 to 255 characters' })),
  WORK_MS_PER_MESSAGE: integer(0, 60_000, 10),
  WORKER_CONCURRENCY: integer(1, 256, 1),
  KAFKA_SESSION_TIMEOUT_MS: integer(1_000, 3_600_000, 10_000),
  KAFKA_HEARTBEAT_INTERVAL_MS: integer(100, 3_600_000, 3_000),
  POD_NAME: Type.Optional(Type.String({ minLength: 1, maxLength: 253, expected: 'a pod name' })),
  POD_NAMESPACE: Type.Optional(Type.String({ minLength: 1, maxLength: 63, expected: 'a namespace name' })),
});

export type Env = Static<typeof EnvSchema>;

export interface Config {
  port: number;
  host: string;
  /** Serve /metrics on its own port instead of the public one; undefined = same port. */
  metricsPort: number | undefined;
  logLevel: Env['LOG_LEVEL'];
  logRequests: boolean;
  shutdownDelayMs: number;
  shutdownTimeoutMs: number;
  bodyLimitBytes: number;
  workMaxMs: number;
  delayMaxMs: number;
  keepAliveTimeoutMs: number;
  headersTimeoutMs: number;
  requestTimeoutMs: number;
  /** Shed requests with 503 + Retry-After while the event loop lags more than this; 0 = never. */
  overloadMaxEventLoopDelayMs: number;
  podName: string;
  podNamespace: string | undefined;
  /** Set in worker mode (PODSCALE_MODE=worker), undefined in the default HTTP mode. */
  worker: WorkerConfig | undefined;
}

/** What PODSCALE_MODE=worker consumes and how (docs/kafka-workers.md). */
export interface WorkerConfig {
  brokers: string[];
  topic: string;
  groupId: string;
  /** CPU time spent on each message (0 = none): the bounded cost of processing one. */
  workMsPerMessage: number;
  /** Messages processed at once, at most one per partition. */
  concurrency: number;
  sessionTimeoutMs: number;
  heartbeatIntervalMs: number;
}

const WORKER_REQUIRED = ['KAFKA_BROKERS', 'KAFKA_TOPIC', 'KAFKA_GROUP_ID'] as const;
/** Read only when PODSCALE_MODE=worker: the HTTP mode compiles no validator for them (start-up time). */
const WORKER_VARIABLES = new Set<keyof Env>([...WORKER_REQUIRED, 'WORK_MS_PER_MESSAGE', 'WORKER_CONCURRENCY', 'KAFKA_SESSION_TIMEOUT_MS', 'KAFKA_HEARTBEAT_INTERVAL_MS']);

export const ENV_VARIABLES = Object.keys(EnvSchema.properties) as (keyof Env)[];

// validateSchema: false — the schemas are this file's own, fixed and tested; checking them against
// JSON Schema's meta-schema compiled that meta-schema first: 38 ms of start-up in the profile.
const ajv = new Ajv({ coerceTypes: true, useDefaults: true, strict: false, allErrors: false, validateSchema: false });
const checks = new Map<string, ReturnType<typeof ajv.compile>>();

/** A validator for one variable: `{ NAME: value }` in, converted and defaulted in place. */
function variableCheck(key: keyof Env): ReturnType<typeof ajv.compile> {
  let check = checks.get(key);
  if (!check) {
    // Every variable may be left unset: absent ones take their schema default.
    check = ajv.compile({ type: 'object', properties: { [key]: EnvSchema.properties[key] as TSchema } });
    checks.set(key, check);
  }
  return check;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Reads and validates the environment; throws a ConfigError naming every bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const raw: Record<string, string> = {};
  for (const key of ENV_VARIABLES) {
    const value = env[key];
    // An empty variable (`PORT=`) means "unset" in a Deployment as in a shell.
    if (value !== undefined && value !== '') raw[key] = value;
  }
  // Ajv, which Fastify loads anyway, converts and checks the TypeBox schemas; typebox/value would
  // add ~40 ms to start-up. One variable at a time, so every bad variable is reported.
  const converted: Record<string, unknown> = { ...raw };
  const problems: string[] = [];
  const worker = raw.PODSCALE_MODE === 'worker';
  for (const key of ENV_VARIABLES) {
    if (!worker && WORKER_VARIABLES.has(key)) continue;
    const check = variableCheck(key);
    const holder: Record<string, unknown> = raw[key] === undefined ? {} : { [key]: raw[key] };
    if (check(holder)) {
      if (holder[key] !== undefined) converted[key] = holder[key];
      continue;
    }
    const schema = EnvSchema.properties[key] as TSchema & { expected?: string };
    problems.push(`${key} must be ${schema.expected ?? 'valid'}, got ${JSON.stringify(raw[key])}`);
  }
  if (problems.length > 0) throw new ConfigError(`invalid configuration: ${problems.join('; ')}`);
  const valid = converted as unknown as Env;
  // Node rejects a headers timeout longer than the whole-request timeout.
  if (valid.HEADERS_TIMEOUT_MS > valid.REQUEST_TIMEOUT_MS) {
    throw new ConfigError(`invalid configuration: HEADERS_TIMEOUT_MS (${valid.HEADERS_TIMEOUT_MS}) must not exceed REQUEST_TIMEOUT_MS (${valid.REQUEST_TIMEOUT_MS})`);
  }
  return {
    ...httpConfig(valid),
    worker: valid.PODSCALE_MODE === 'worker' ? workerConfig(valid) : undefined,
  };
}

function httpConfig(valid: Env): Omit<Config, 'worker'> {
  return {
    port: valid.PORT,
    host: valid.HOST,
    metricsPort: valid.METRICS_PORT === undefined || valid.METRICS_PORT === 0 ? undefined : valid.METRICS_PORT,
    logLevel: valid.LOG_LEVEL,
    logRequests: valid.LOG_REQUESTS,
    shutdownDelayMs: valid.SHUTDOWN_DELAY_MS,
    shutdownTimeoutMs: valid.SHUTDOWN_TIMEOUT_MS,
    bodyLimitBytes: valid.BODY_LIMIT_BYTES,
    workMaxMs: valid.WORK_MAX_MS,
    delayMaxMs: valid.DELAY_MAX_MS,
    keepAliveTimeoutMs: valid.KEEP_ALIVE_TIMEOUT_MS,
    headersTimeoutMs: valid.HEADERS_TIMEOUT_MS,
    requestTimeoutMs: valid.REQUEST_TIMEOUT_MS,
    overloadMaxEventLoopDelayMs: valid.OVERLOAD_MAX_EVENT_LOOP_DELAY_MS,
    podName: valid.POD_NAME ?? hostname(),
    podNamespace: valid.POD_NAMESPACE,
  };
}

function workerConfig(valid: Env): WorkerConfig {
  const problems = WORKER_REQUIRED.filter((key) => valid[key] === undefined).map((key) => `${key} must be set when PODSCALE_MODE=worker`);
  const brokers = valid.KAFKA_BROKERS?.split(',') ?? [];
  for (const broker of brokers) {
    const port = Number(broker.slice(broker.lastIndexOf(':') + 1));
    if (port < 1 || port > 65535) problems.push(`KAFKA_BROKERS must be a comma-separated list of host:port, got a port out of range in ${JSON.stringify(broker)}`);
  }
  if (valid.KAFKA_HEARTBEAT_INTERVAL_MS >= valid.KAFKA_SESSION_TIMEOUT_MS) {
    problems.push(`KAFKA_HEARTBEAT_INTERVAL_MS (${valid.KAFKA_HEARTBEAT_INTERVAL_MS}) must be less than KAFKA_SESSION_TIMEOUT_MS (${valid.KAFKA_SESSION_TIMEOUT_MS})`);
  }
  if (problems.length > 0) throw new ConfigError(`invalid configuration: ${problems.join('; ')}`);
  return {
    brokers,
    topic: valid.KAFKA_TOPIC!,
    groupId: valid.KAFKA_GROUP_ID!,
    workMsPerMessage: valid.WORK_MS_PER_MESSAGE,
    concurrency: valid.WORKER_CONCURRENCY,
    sessionTimeoutMs: valid.KAFKA_SESSION_TIMEOUT_MS,
    heartbeatIntervalMs: valid.KAFKA_HEARTBEAT_INTERVAL_MS,
  };
}
