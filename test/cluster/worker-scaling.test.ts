/**
 * Kafka consumers scaled on lag, end to end on the real control plane: the shipped k8s/controller
 * and k8s/worker as pods (on the real node where it can run, else the node agent), a real broker on the pod bridge, the backlog lab's set-up
 * (packages/cli/src/lab/backlog.ts). A burst of messages scales the workers up to the partition count; a rollout
 * runs while they consume; the policy scales them down as the lag falls; every message is processed
 * at least once and the duplicates are at most what was in flight at each SIGTERM.
 */
import { open, readdir, type FileHandle } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Cluster } from '@podscale/kube-local/cluster.ts';
import { backlogUnavailable, BacklogLab } from '@podscale/cli/lab/backlog.ts';
import { until } from '@podscale/process/net.ts';
import { produceCounts } from '../helpers/kafka.ts';

const PARTITIONS = 3;
// 3 600 messages at a threshold of 500: 8 proposed, capped at the 3 partitions; the policy asks for
// fewer as the lag falls below 1 000 and 500, while the workers still consume.
const PER_PARTITION = 1200;
const THRESHOLD = 500;
const COOLDOWN_S = 10;
const RESYNC_S = 2;
const WORK_MS = 10;

const skip = await backlogUnavailable();
if (skip) process.stderr.write(`skipped: ${skip}\n`);

/**
 * Holds each worker pod's log file open from the moment it appears: the node (kubelet or the agent)
 * removes a pod's logs when the pod is deleted, and an open file outlives its name.
 */
class WorkerLogs {
  readonly #cluster: Cluster;
  readonly #handles = new Map<string, FileHandle>();
  readonly #timer: NodeJS.Timeout;
  #polling = Promise.resolve();

  constructor(cluster: Cluster) {
    this.#cluster = cluster;
    this.#timer = setInterval(() => (this.#polling = this.#polling.then(() => this.#poll())), 100);
  }

  async #poll(): Promise<void> {
    for (const entry of await readdir(this.#cluster.podLogsDir).catch(() => [])) {
      if (!entry.startsWith('podscale_podscale-worker-') || this.#handles.has(entry)) continue;
      const handle = await open(this.#cluster.podLogFile(entry, 'worker'), 'r').catch(() => undefined);
      if (handle) this.#handles.set(entry, handle);
    }
  }

  get pods(): number {
    return this.#handles.size;
  }

  /** Every JSON line every worker wrote, and closes the files. */
  async lines(): Promise<Record<string, unknown>[]> {
    clearInterval(this.#timer);
    await this.#polling;
    const lines: Record<string, unknown>[] = [];
    for (const handle of this.#handles.values()) {
      const text = (await handle.readFile({ encoding: 'utf8' })).split('\n');
      await handle.close();
      // kubelet's CRI log lines carry "<time> <stream> <F|P> " before the line the worker wrote.
      for (const raw of text) {
        const line = raw.replace(/^\S+ (?:stdout|stderr) [FP] /, '');
        if (line.startsWith('{')) lines.push(JSON.parse(line) as Record<string, unknown>);
      }
    }
    return lines;
  }
}

describe.skipIf(skip)('Kafka workers scaled on lag by the AutoScalerPolicy controller, as pods on a real control plane', () => {
  let lab: BacklogLab;
  let logs: WorkerLogs;

  beforeAll(async () => {
    lab = await BacklogLab.start({ partitions: PARTITIONS, threshold: THRESHOLD, cooldownS: COOLDOWN_S, resyncS: RESYNC_S, maxReplicas: 8, workMsPerMessage: WORK_MS, workerLogLevel: 'debug', log: (line) => process.stdout.write(`backlog lab: ${line}\n`) });
    for (const override of lab.overrides) process.stdout.write(`override: ${override}\n`);
    process.stdout.write(`worker-scaling.test.ts: ${lab.cluster.node === 'real' ? 'real node' : 'node agent'}\n`);
    logs = new WorkerLogs(lab.cluster);
    await until(async () => logs.pods >= 1, { timeoutMs: 10_000, intervalMs: 100, what: "the first worker's log" });
  }, 300_000);

  afterAll(async () => {
    if (!lab) return;
    await logs?.lines().catch(() => undefined);
    await lab.stop();
    expect(await lab.cluster.leftovers()).toEqual([]);
    expect(lab.broker.running).toBe(false);
  }, 180_000);

  it('scales up to the partition count on a burst, rolls out and scales down while consuming, and loses nothing', async () => {
    const started = performance.now();
    const at = () => `${((performance.now() - started) / 1000).toFixed(1)} s`;
    const timeline: string[] = [];
    const sample = setInterval(() => {
      void lab.lag().then(
        (lag) => timeline.push(`${at()} lag ${lag.total} replicas ${lab.watcher.current()?.desired ?? '?'}/${lab.watcher.current()?.ready ?? '?'}`),
        () => undefined,
      );
    }, 1000);
    try {
      const produced = PARTITIONS * PER_PARTITION;
      await produceCounts(lab.kafka, lab.topic, Array.from({ length: PARTITIONS }, () => PER_PARTITION));
      process.stdout.write(`${at()}: produced ${produced} messages over ${PARTITIONS} partitions (lag ${produced}, threshold ${THRESHOLD}: ceil = ${Math.ceil(produced / THRESHOLD)}, capped at ${PARTITIONS})\n`);

      await until(async () => (await lab.replicas()) === PARTITIONS, { timeoutMs: 30_000, intervalMs: 250, what: `the policy to scale the workers to ${PARTITIONS}` });
      // The status is written just after the scale: wait for the decision that scaled to say why.
      type Condition = { type: string; status: string; reason?: string };
      const conditions = async () => (JSON.parse((await lab.cluster.kubectl(['get', 'asp', 'podscale-worker', '-n', 'podscale', '-o', 'json'])).stdout) as { status: { conditions?: Condition[] } }).status.conditions ?? [];
      await until(async () => (await conditions()).some((c) => c.type === 'ScalingLimited' && c.status === 'True' && c.reason === 'PartitionCount'), { timeoutMs: 15_000, intervalMs: 250, what: 'ScalingLimited=True, PartitionCount in the status' });
      process.stdout.write(`${at()}: scaled to ${PARTITIONS}; conditions ${JSON.stringify((await conditions()).map((c) => `${c.type}=${c.status} ${c.reason ?? ''}`))}\n`);
      await until(async () => (lab.watcher.current()?.ready ?? 0) >= PARTITIONS, { timeoutMs: 60_000, intervalMs: 250, what: `${PARTITIONS} ready workers` });

      const lagAtRollout = (await lab.lag()).total;
      process.stdout.write(`${at()}: kubectl rollout restart deployment/podscale-worker with a lag of ${lagAtRollout}\n`);
      expect(lagAtRollout).toBeGreaterThan(0);
      await lab.cluster.kubectl(['rollout', 'restart', 'deployment/podscale-worker', '-n', 'podscale']);
      await lab.cluster.kubectl(['rollout', 'status', 'deployment/podscale-worker', '-n', 'podscale', '--timeout=120s']);
      process.stdout.write(`${at()}: rollout complete, lag ${(await lab.lag()).total}\n`);

      await until(async () => (await lab.lag()).total === 0, { timeoutMs: 120_000, intervalMs: 500, what: 'the lag to drain' });
      process.stdout.write(`${at()}: lag 0\n`);
      await until(async () => (await lab.replicas()) === 1, { timeoutMs: (2 * COOLDOWN_S + 4 * RESYNC_S) * 1000 * 2, intervalMs: 500, what: 'the policy to scale the workers back to 1' });
      await until(async () => (await lab.cluster.kubectl(['get', 'pods', '-n', 'podscale', '-l', 'app.kubernetes.io/name=podscale-worker', '-o', 'name'])).stdout.trim().split('\n').length === 1, { timeoutMs: 60_000, intervalMs: 500, what: 'one worker pod left' });
      process.stdout.write(`${at()}: back to 1 worker\n`);
    } finally {
      clearInterval(sample);
      process.stdout.write(`lag and replicas (desired/ready) per second:\n${timeline.join('\n')}\n`);
    }

    const events = (await lab.cluster.kubectl(['get', 'events', '-n', 'podscale', '--field-selector', 'involvedObject.kind=AutoScalerPolicy', '-o', 'jsonpath={range .items[*]}{.reason}: {.message}{"\\n"}{end}'])).stdout;
    process.stdout.write(`policy events:\n${events}`);
    expect(events).toMatch(new RegExp(`Scaled Deployment podscale-worker from 1 to ${PARTITIONS}`));
    // Down while the lag was still above zero (ceil(lag / threshold) fell below the replicas), then to 1.
    const down = new RegExp(`Scaled Deployment podscale-worker from ${PARTITIONS} to [12]: KafkaLag \\S+ (\\d+) vs threshold`).exec(events);
    expect(down, 'a scale-down from the partition count').not.toBeNull();
    expect(Number(down![1]), 'the lag the scale-down from the partition count read').toBeGreaterThan(0);

    // Every message processed at least once, and committed: the group's lag is 0 on every partition.
    const lag = await lab.lag();
    expect(lag.partitions.map((p) => [p.committedOffset, p.logEndOffset])).toEqual(Array.from({ length: PARTITIONS }, () => [PER_PARTITION, PER_PARTITION]));
    const lines = await logs.lines();
    const processed = lines.filter((line) => line.msg === 'message processed').map((line) => `${String(line.partition)}:${String(line.offset)}`);
    const distinct = new Set(processed);
    expect(distinct.size).toBe(PARTITIONS * PER_PARTITION);
    const drains = lines.filter((line) => line.phase === 'drain');
    const inFlightAtSigterm = drains.reduce((sum, line) => sum + Number(line.inFlightCount), 0);
    const duplicates = processed.length - distinct.size;
    process.stdout.write(`${drains.length} workers drained (SIGTERM): ${inFlightAtSigterm} messages in flight at their SIGTERMs, ${duplicates} processed twice, of ${distinct.size}\n`);
    // The rollout stopped each of the scaled-up workers, and the scale-down all but one.
    expect(drains.length).toBeGreaterThanOrEqual(PARTITIONS + (PARTITIONS - 1));
    expect(duplicates).toBeLessThanOrEqual(inFlightAtSigterm);
    for (const exit of lines.filter((line) => line.phase === 'exit')) expect(exit.exitCode).toBe(0);
  }, 420_000);
});
