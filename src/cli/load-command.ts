import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { Command, InvalidArgumentError, Option } from 'commander';
import { LoadRun, type LoadOptions, type Target } from '../load/engine.ts';
import type { RunRecord, TimelinePoint } from '../load/record.ts';
import { renderReport } from '../load/report.ts';
import { ArrivalSchedule, constantRate, parseStages, type Stage } from '../load/schedule.ts';
import { parseKafkaUrl, type KafkaTarget } from '../load/send/kafka-target.ts';
import { liveView, plainView } from '../load/view.ts';
import { readLabAnnouncement, watchLab } from '../load/watch/lab.ts';
import { watchKafkaLag, type KafkaLagWatcher } from '../load/watch/kafka.ts';
import { watchDeployment } from '../load/watch/kubernetes.ts';
import type { ReplicaWatcher } from '../load/watch/replicas.ts';
import { SERVICE_VERSION } from '../version.ts';
import { durationMs, header, positiveInteger, positiveNumber, ratio, weights } from './parse.ts';

export const EXIT_THRESHOLD_FAILED = 2;

export interface LoadFlags {
  rate: number;
  duration: number;
  stages?: string;
  maxInFlight: number;
  connections: number;
  timeout: number;
  method: string;
  header: Record<string, string>;
  body?: string;
  bodyFile?: string;
  weights?: number[];
  watch?: string;
  namespace: string;
  out?: string;
  report?: string;
  maxErrorRate?: number;
  maxP99?: number;
  plain?: boolean;
  maxRequestsPerConnection?: number;
  /** kafka:// only: the consumer group whose lag and members the run follows. */
  group?: string;
  /** kafka:// only: the message key; `{seq}` becomes the message's number. */
  key?: string;
  /** kafka:// only: create the topic with this many partitions when it does not exist. */
  createTopic?: number;
}

export interface LoadPlan {
  /** HTTP targets; empty for a kafka:// run. */
  targets: Target[];
  /** Where a kafka:// run produces. */
  kafka?: KafkaTarget;
  /** The message value or request body (--body, --body-file). */
  body?: string;
  stages: Stage[];
  flags: LoadFlags;
}

/** Options that mean something for one transport only, by commander attribute name. */
const HTTP_ONLY: Partial<Record<keyof LoadFlags, string>> = {
  method: '-X/--method',
  header: '-H/--header',
  weights: '-w/--weights',
  connections: '-c/--connections',
  maxRequestsPerConnection: '--max-requests-per-connection',
};
const KAFKA_ONLY: Partial<Record<keyof LoadFlags, string>> = { group: '--group', key: '--key', createTopic: '--create-topic' };

/**
 * Turns flags into a plan, or throws InvalidArgumentError with the reason. `given` holds the
 * options the user typed (commander knows; defaults are not "given"), so that an HTTP-only option
 * on a kafka:// run is refused rather than ignored.
 */
export function planLoad(urls: string[], flags: LoadFlags, given: ReadonlySet<string> = new Set()): LoadPlan {
  const body = flags.bodyFile ? readFileSync(flags.bodyFile, 'utf8') : flags.body;
  const stages = planStages(flags);
  const kafkaUrls = urls.filter((text) => /^kafka:/i.test(text));
  if (kafkaUrls.length > 0) {
    if (urls.length > 1) throw new InvalidArgumentError(`a kafka:// target runs alone: got ${urls.length} URLs (${urls.join(' ')})`);
    const misplaced = Object.entries(HTTP_ONLY).filter(([name]) => given.has(name) || (name === 'weights' && flags.weights));
    if (misplaced.length > 0) throw new InvalidArgumentError(`${misplaced.map(([, option]) => option).join(', ')} ${misplaced.length > 1 ? 'apply' : 'applies'} to http(s) targets, not kafka://`);
    if (flags.group !== undefined && flags.group.trim() === '') throw new InvalidArgumentError('--group needs a consumer group id');
    let kafka: KafkaTarget;
    try {
      kafka = parseKafkaUrl(urls[0]!);
    } catch (error) {
      throw new InvalidArgumentError((error as Error).message);
    }
    return { targets: [], kafka, ...(body !== undefined ? { body } : {}), stages, flags };
  }
  const misplaced = Object.entries(KAFKA_ONLY).filter(([name]) => flags[name as keyof LoadFlags] !== undefined);
  if (misplaced.length > 0) throw new InvalidArgumentError(`${misplaced.map(([, option]) => option).join(', ')} ${misplaced.length > 1 ? 'apply' : 'applies'} to kafka:// targets only`);
  if (flags.weights && flags.weights.length !== urls.length) throw new InvalidArgumentError(`--weights has ${flags.weights.length} values for ${urls.length} URLs`);
  const targets = urls.map((text, i) => {
    let url: URL;
    try {
      url = new URL(text);
    } catch {
      throw new InvalidArgumentError(`"${text}" is not a URL`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new InvalidArgumentError(`"${text}" is not an http(s) URL`);
    return { url, method: flags.method.toUpperCase(), headers: flags.header, ...(body !== undefined ? { body } : {}), weight: flags.weights?.[i] ?? 1 };
  });
  return { targets, ...(body !== undefined ? { body } : {}), stages, flags };
}

function planStages(flags: LoadFlags): Stage[] {
  try {
    return flags.stages ? parseStages(flags.stages) : constantRate(flags.rate, flags.duration / 1000);
  } catch (error) {
    throw new InvalidArgumentError(`--stages: ${(error as Error).message}`);
  }
}

async function startWatcher(watch: string | undefined, namespace: string): Promise<ReplicaWatcher | undefined> {
  if (!watch) return undefined;
  if (watch === 'lab' || watch.startsWith('lab=')) {
    const controlUrl = watch.startsWith('lab=') ? watch.slice(4) : (await readLabAnnouncement()).controlUrl;
    return watchLab(controlUrl);
  }
  const match = /^(?:deployment|deploy|deployments)\/([a-z0-9.-]+)$/.exec(watch);
  if (!match) throw new InvalidArgumentError(`--watch takes deployment/NAME or lab, not "${watch}"`);
  return watchDeployment(match[1]!, namespace);
}

export function thresholdResults(record: Pick<RunRecord, 'summary'>, flags: Pick<LoadFlags, 'maxErrorRate' | 'maxP99'>): RunRecord['thresholds'] {
  const results: RunRecord['thresholds'] = [];
  if (flags.maxErrorRate !== undefined) results.push({ name: 'max-error-rate', limit: flags.maxErrorRate, actual: record.summary.errorRate, passed: record.summary.errorRate <= flags.maxErrorRate });
  if (flags.maxP99 !== undefined) results.push({ name: 'max-p99-ms', limit: flags.maxP99, actual: record.summary.latency.p99, passed: record.summary.latency.p99 <= flags.maxP99 });
  return results;
}

export interface LoadExtras {
  /** A replica source other than --watch (the lab passes its own state). */
  watcher?: ReplicaWatcher;
  maxRequestsPerConnection?: number;
  /** Called with the run once it exists, e.g. to stop it when a rollout is over. */
  onStart?: (run: LoadRun) => void;
  /** Adds to the record before it is written (the lab adds its HPA decisions). */
  complete?: (record: RunRecord) => void;
}

/** Runs a plan to the end (or Ctrl-C), printing as it goes; returns the record and the exit code. */
export async function executeLoad(plan: LoadPlan, io: { stdout: NodeJS.WriteStream; env: NodeJS.ProcessEnv }, extras: LoadExtras = {}): Promise<{ record: RunRecord; exitCode: number }> {
  const { flags } = plan;
  const schedule = new ArrivalSchedule(plan.stages);
  // Connected and checked before anything starts, so that a wrong broker or topic fails at once.
  const kafka = plan.kafka ? await openKafka(plan.kafka, plan, io.stdout) : undefined;
  let lag: KafkaLagWatcher | undefined;
  let watcher: ReplicaWatcher | undefined;
  try {
    watcher = extras.watcher ?? (await startWatcher(flags.watch, flags.namespace));
  } catch (error) {
    await kafka?.sender.close();
    await kafka?.close();
    throw error;
  }
  const viewOptions = plan.kafka ? { kafka: flags.group === undefined ? {} : { group: flags.group } } : {};
  const live = io.stdout.isTTY === true && !io.env.CI && !flags.plain;
  const view = live ? liveView(io.stdout, viewOptions) : plainView(io.stdout, viewOptions);
  const common = { schedule, maxInFlight: flags.maxInFlight };
  const options: LoadOptions = kafka
    ? { ...common, sender: kafka.sender }
    : { ...common, targets: plan.targets, connections: flags.connections, timeoutMs: flags.timeout, maxRequestsPerConnection: extras.maxRequestsPerConnection ?? flags.maxRequestsPerConnection ?? 0 };
  const run = new LoadRun(options);
  extras.onStart?.(run);
  const timeline: TimelinePoint[] = [];
  run.on('interval', (report) => {
    const replicas = watcher?.current();
    const group = lag?.current();
    const point: TimelinePoint = replicas || group ? { ...report, ...(replicas ? { replicas } : {}), ...(group ? { kafka: group } : {}) } : report;
    timeline.push(point);
    view.update(point, { elapsedS: report.t, durationS: schedule.durationS });
  });

  // First Ctrl-C: stop sending, finish, report. Second: give up at once.
  let interrupted = false;
  const onSigint = () => {
    if (interrupted) process.exit(130);
    interrupted = true;
    run.stop();
  };
  process.on('SIGINT', onSigint);
  process.on('SIGTERM', onSigint);
  const startedAt = new Date().toISOString();
  if (kafka && flags.group !== undefined) lag = watchKafkaLag(kafka.admin, flags.group, plan.kafka!.topic);
  const summary = await run.run();
  process.off('SIGINT', onSigint);
  process.off('SIGTERM', onSigint);
  await watcher?.stop();
  // After the last ack: the figure the timeline's last seconds were heading for.
  const kafkaEnd = await lag?.stop();
  await kafka?.close();
  view.finish(summary, kafkaEnd);

  const record: RunRecord = {
    tool: 'podscale load',
    version: SERVICE_VERSION,
    startedAt,
    options: {
      targets: plan.kafka ? [{ url: plan.kafka.url, method: 'PRODUCE', weight: 1 }] : plan.targets.map((t) => ({ url: t.url.href, method: t.method, weight: t.weight })),
      stages: plan.stages,
      maxInFlight: flags.maxInFlight,
      // One producer, with one connection to each broker that leads a partition.
      connections: plan.kafka ? 1 : flags.connections,
      timeoutMs: flags.timeout,
      ...(flags.watch ? { watch: flags.watch } : {}),
    },
    timeline,
    summary,
    thresholds: [],
    ...(plan.kafka && kafka
      ? {
          kafka: {
            brokers: plan.kafka.brokers,
            topic: plan.kafka.topic,
            partitions: kafka.partitions,
            ...(flags.group === undefined ? {} : { group: flags.group }),
            ...(flags.key === undefined ? {} : { key: flags.key }),
            ...(kafkaEnd ? { end: kafkaEnd } : {}),
          },
        }
      : {}),
  };
  record.thresholds = thresholdResults(record, flags);
  extras.complete?.(record);
  if (flags.out) await writeFile(flags.out, `${JSON.stringify(record, null, 2)}\n`);
  if (flags.report) await writeFile(flags.report, renderReport(record));
  for (const threshold of record.thresholds.filter((t) => !t.passed)) {
    io.stdout.write(`threshold ${threshold.name} failed: ${threshold.actual} > ${threshold.limit}\n`);
  }
  const exitCode = record.thresholds.some((t) => !t.passed) ? EXIT_THRESHOLD_FAILED : 0;
  return { record, exitCode };
}

/** Connects the producer and admin client (kafkajs loads only here) and says what it found. */
async function openKafka(target: KafkaTarget, plan: LoadPlan, stdout: NodeJS.WritableStream) {
  const { openKafkaLoad } = await import('../load/send/kafka.ts');
  const { flags } = plan;
  const kafka = await openKafkaLoad(target, {
    timeoutMs: flags.timeout,
    ...(flags.createTopic === undefined ? {} : { createTopic: flags.createTopic }),
    ...(flags.key === undefined ? {} : { key: flags.key }),
    ...(plan.body === undefined ? {} : { value: plan.body }),
  });
  const group = flags.group === undefined ? 'no --group: lag not followed' : `lag and members of group ${flags.group} read every second`;
  stdout.write(`kafka: topic ${target.topic} on ${target.brokers.join(',')}${kafka.created ? ' created' : ''} with ${kafka.partitions} partitions · acks=all, idempotent · ${group}\n`);
  return kafka;
}

export function loadCommand(): Command {
  return new Command('load')
    .description('open-model load: requests (or Kafka messages) leave on schedule, latency counts from each due time')
    .argument('<url...>', 'target URLs (several: spread by --weights), or one kafka://HOST:PORT[,HOST:PORT]/TOPIC to produce to')
    .option('-r, --rate <rps>', 'constant arrival rate, requests per second', positiveNumber, 50)
    .addOption(new Option('-d, --duration <time>', 'how long to send at --rate (e.g. 30s, 2m)').argParser(durationMs).default(30_000, '30s'))
    .option('-s, --stages <list>', 'ramps instead of --rate/--duration: DURATION:RATE,... e.g. 30s:50,2m:400,30s:0')
    .option('--max-in-flight <n>', 'outstanding requests at most; a request due beyond it is dropped', positiveInteger, 1000)
    .option('-c, --connections <n>', 'connections per origin', positiveInteger, 64)
    .option('--max-requests-per-connection <n>', 'reconnect after this many requests, so new pods behind a Service get traffic (default: never)', positiveInteger)
    .addOption(new Option('-t, --timeout <time>', 'per-request timeout').argParser(durationMs).default(10_000, '10s'))
    .option('-X, --method <method>', 'HTTP method', 'GET')
    .addOption(new Option('-H, --header <header>', 'request header "Name: value" (repeatable)').argParser(header).default({}, 'none'))
    .option('--body <text>', 'request body (kafka://: message value; default the message number)')
    .option('--body-file <path>', 'request body (or message value) from a file')
    .option('-w, --weights <list>', 'relative share of each URL, e.g. 3,1', weights)
    .option('--watch <target>', 'follow replicas: deployment/NAME (kubeconfig) or lab')
    .option('-n, --namespace <ns>', 'namespace for --watch deployment/NAME', 'default')
    .option('-o, --out <file>', 'write the time series and summary as JSON')
    .option('--report <file>', 'write a self-contained HTML report with plots')
    .option('--max-error-rate <ratio>', 'exit 2 if failed/offered exceeds this (e.g. 0.01)', ratio)
    .addOption(new Option('--max-p99 <time>', 'exit 2 if the overall p99 latency exceeds this (e.g. 250ms)').argParser(durationMs))
    .option('--plain', 'one line per second even on a terminal')
    .option('-g, --group <id>', 'kafka://: follow this consumer group\'s lag and members every second')
    .option('--key <text>', 'kafka://: message key, {seq} replaced by the message number (default none: round robin over partitions)')
    .option('--create-topic <partitions>', 'kafka://: create the topic with this many partitions if it does not exist (default: fail)', positiveInteger)
    .action(async (urls: string[], flags: LoadFlags, command: Command) => {
      let plan: LoadPlan;
      try {
        const given = new Set(command.options.map((option) => option.attributeName()).filter((name) => command.getOptionValueSource(name) === 'cli'));
        plan = planLoad(urls, flags, given);
      } catch (error) {
        command.error(`error: ${(error as Error).message}`, { exitCode: 1 });
      }
      const { exitCode } = await executeLoad(plan!, { stdout: process.stdout, env: process.env });
      process.exitCode = exitCode;
    });
}
