import { writeFile } from 'node:fs/promises';
import { LoadRun, type LoadOptions } from './engine.ts';
import type { LoadPlan } from './plan.ts';
import type { RunRecord, TimelinePoint } from './record.ts';
import { renderReport } from './report.ts';
import { ArrivalSchedule } from './schedule.ts';
import type { KafkaTarget } from './send/kafka-target.ts';
import { EXIT_THRESHOLD_FAILED, thresholdResults } from './thresholds.ts';
import { liveView, plainView } from './view.ts';
import { readLabAnnouncement, watchLab } from './watch/lab.ts';
import { watchKafkaLag, type KafkaLagWatcher } from './watch/kafka.ts';
import { watchDeployment } from './watch/kubernetes.ts';
import type { ReplicaWatcher } from './watch/replicas.ts';
import { SERVICE_VERSION } from '@podscale/service/version.ts';

async function startWatcher(watch: string | undefined, namespace: string): Promise<ReplicaWatcher | undefined> {
  if (!watch) return undefined;
  if (watch === 'lab' || watch.startsWith('lab=')) {
    const controlUrl = watch.startsWith('lab=') ? watch.slice(4) : (await readLabAnnouncement()).controlUrl;
    return watchLab(controlUrl);
  }
  const match = /^(?:deployment|deploy|deployments)\/([a-z0-9.-]+)$/.exec(watch);
  if (!match) throw new Error(`--watch takes deployment/NAME or lab, not "${watch}"`);
  return watchDeployment(match[1]!, namespace);
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
  const { openKafkaLoad } = await import('./send/kafka.ts');
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
