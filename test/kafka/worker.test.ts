/**
 * PODSCALE_MODE=worker as the image runs it: the service bundle (dist/service/, copied where no node_modules
 * can be found) as real child processes, against a real broker (one for the file). Every message
 * the test produced must be processed at least once across a SIGTERM mid-stream, and the messages
 * processed twice must be at most those the stopped worker had in flight.
 */
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Admin, Kafka } from 'kafkajs';
import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import { request } from 'undici';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { serviceEnv, SERVICE_DIR } from '../../scripts/service-bundle.ts';
import { ConfigError, loadConfig } from '@podscale/service/config.ts';
import { createKafka } from '@podscale/kafka/client.ts';
import { readConsumerLag } from '@podscale/kafka/lag.ts';
import { until } from '@podscale/process/net.ts';
import { freePort, ROOT, runServiceExpectingExit, spawnService, type LogLine, type StartedService } from '../helpers/child.ts';
import { kafkaSkipReason, KafkaBroker, produceCounts } from '../helpers/kafka.ts';
import { OPENMETRICS_ACCEPT, promtoolCheckMetrics, scrape } from '../helpers/metrics.ts';
import { createTopic as createKafkaTopic } from '@podscale/kafka/topics.ts';

const skip = await kafkaSkipReason();

let broker: KafkaBroker;
let kafka: Kafka;
let admin: Admin;
let bundleDir: string;
const workers: StartedService[] = [];

const isProcessed = (line: LogLine) => line.msg === 'message processed';
const joined = (line: LogLine) => line.msg === 'worker: joined the consumer group';

async function createTopic(topic: string, partitions: number): Promise<void> {
  await createKafkaTopic(admin, topic, partitions);
}

/** `count` messages spread evenly over the partitions. */
async function produce(topic: string, count: number, partitions: number): Promise<void> {
  await produceCounts(kafka, topic, Array.from({ length: partitions }, (_, p) => Math.floor(count / partitions) + (p < count % partitions ? 1 : 0)));
}

/** A worker from the copied bundle: short sessions so a rebalance takes a second, not ten. */
async function worker(name: string, env: Record<string, string>): Promise<StartedService> {
  const started = await spawnService(
    {
      PODSCALE_MODE: 'worker',
      POD_NAME: name,
      KAFKA_BROKERS: broker.bootstrap,
      KAFKA_SESSION_TIMEOUT_MS: '3000',
      KAFKA_HEARTBEAT_INTERVAL_MS: '300',
      SHUTDOWN_TIMEOUT_MS: '15000',
      ...serviceEnv(bundleDir),
      ...env,
    },
    [],
    join(bundleDir, 'server.mjs'),
  );
  workers.push(started);
  return started;
}

async function status(service: StartedService, path: string): Promise<number> {
  const response = await request(`${service.url}${path}`);
  await response.body.dump();
  return response.statusCode;
}

beforeAll(async () => {
  if (skip) return;
  bundleDir = await mkdtemp(join(tmpdir(), 'podscale-worker-bundle-'));
  await cp(join(ROOT, SERVICE_DIR), bundleDir, { recursive: true });
  broker = await KafkaBroker.start();
  kafka = createKafka({ brokers: [broker.bootstrap], clientId: 'worker-test' });
  admin = kafka.admin();
  await admin.connect();
}, 120_000);

afterEach(async () => {
  await Promise.all(workers.splice(0).map((w) => w.process.stop()));
});

afterAll(async () => {
  await admin?.disconnect();
  await broker?.stop();
  if (bundleDir) await rm(bundleDir, { recursive: true, force: true });
}, 60_000);

describe('worker configuration', () => {
  it('names the variable that is missing or wrong, and reads the Kafka variables only in worker mode', () => {
    expect(() => loadConfig({ PODSCALE_MODE: 'worker' })).toThrow(/KAFKA_BROKERS must be set when PODSCALE_MODE=worker; KAFKA_TOPIC must be set when PODSCALE_MODE=worker; KAFKA_GROUP_ID must be set when PODSCALE_MODE=worker/);
    const base = { PODSCALE_MODE: 'worker', KAFKA_BROKERS: 'kafka-0.kafka:9092', KAFKA_TOPIC: 'orders', KAFKA_GROUP_ID: 'billing' };
    expect(loadConfig(base).worker).toEqual({ brokers: ['kafka-0.kafka:9092'], topic: 'orders', groupId: 'billing', workMsPerMessage: 10, concurrency: 1, sessionTimeoutMs: 10_000, heartbeatIntervalMs: 3_000 });
    expect(loadConfig({ ...base, KAFKA_BROKERS: '10.0.0.1:9092,[::1]:9093' }).worker?.brokers).toEqual(['10.0.0.1:9092', '[::1]:9093']);
    const cases: [Record<string, string>, RegExp][] = [
      [{ PODSCALE_MODE: 'batch' }, /PODSCALE_MODE must be one of http, worker, got "batch"/],
      [{ KAFKA_BROKERS: 'localhost' }, /KAFKA_BROKERS must be a comma-separated list of host:port, got "localhost"/],
      [{ KAFKA_BROKERS: 'a:9092,,b:9092' }, /KAFKA_BROKERS must be a comma-separated list of host:port/],
      [{ KAFKA_BROKERS: 'a:70000' }, /KAFKA_BROKERS must be a comma-separated list of host:port, got a port out of range in "a:70000"/],
      [{ KAFKA_TOPIC: 'two words' }, /KAFKA_TOPIC must be a Kafka topic name/],
      [{ WORK_MS_PER_MESSAGE: '-1' }, /WORK_MS_PER_MESSAGE must be an integer from 0 to 60000, got "-1"/],
      [{ WORKER_CONCURRENCY: '0' }, /WORKER_CONCURRENCY must be an integer from 1 to 256/],
      [{ KAFKA_HEARTBEAT_INTERVAL_MS: '10000' }, /KAFKA_HEARTBEAT_INTERVAL_MS \(10000\) must be less than KAFKA_SESSION_TIMEOUT_MS \(10000\)/],
    ];
    for (const [env, message] of cases) {
      expect(() => loadConfig({ ...base, ...env }), JSON.stringify(env)).toThrow(ConfigError);
      expect(() => loadConfig({ ...base, ...env }), JSON.stringify(env)).toThrow(message);
    }
    // MODE is someone else's (Vitest sets MODE=test for every child, the lab's pods inherit it).
    expect(loadConfig({ MODE: 'test' }).worker).toBeUndefined();
    // The HTTP mode does not read them (nor compile their validators at start-up).
    expect(loadConfig({ KAFKA_BROKERS: 'nonsense', WORK_MS_PER_MESSAGE: 'x' }).worker).toBeUndefined();
  });

  it('stops the process with exit 1 and the message', async () => {
    const { code, stderr } = await runServiceExpectingExit({ PODSCALE_MODE: 'worker', KAFKA_TOPIC: 't', KAFKA_GROUP_ID: 'g' });
    expect(code).toBe(1);
    expect(stderr).toMatch(/^podscale: invalid configuration: KAFKA_BROKERS must be set when PODSCALE_MODE=worker$/m);
  });
});

describe.skipIf(skip)('worker mode of the service bundle, against a real broker', () => {
  it('the HTTP mode runs without the Kafka bundle: it never loads it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'podscale-no-kafka-'));
    try {
      await cp(bundleDir, dir, { recursive: true });
      await rm(join(dir, 'kafka.mjs'));
      // No load shedding: on a busy machine the event loop's start-up lag would 503 the request.
      const http = await spawnService({ SHUTDOWN_DELAY_MS: '0', OVERLOAD_MAX_EVENT_LOOP_DELAY_MS: '0', ...serviceEnv(dir) }, [], join(dir, 'server.mjs'));
      workers.push(http);
      expect(await status(http, '/readyz')).toBe(200);
      expect(await status(http, '/api/delay?ms=1')).toBe(200);
    } finally {
      await Promise.all(workers.splice(0).map((w) => w.process.stop()));
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('is live but not ready until it joins the group, and exits 0 on SIGTERM before it ever did', async () => {
    const nowhere = `127.0.0.1:${await freePort()}`;
    const w = await worker('unjoined', { KAFKA_BROKERS: nowhere, KAFKA_TOPIC: 'none', KAFKA_GROUP_ID: 'none' });
    await w.process.waitFor((line) => line.msg === 'worker: joining the consumer group');
    expect(await status(w, '/healthz')).toBe(200);
    expect(await status(w, '/readyz')).toBe(503);
    w.process.child.kill('SIGTERM');
    expect((await w.process.exited).code).toBe(0);
  });

  it('processes every message, reports them and its partitions on /metrics in both formats', async () => {
    await createTopic('metrics-topic', 3);
    await produce('metrics-topic', 30, 3);
    const w = await worker('metrics', { KAFKA_TOPIC: 'metrics-topic', KAFKA_GROUP_ID: 'metrics-group', WORK_MS_PER_MESSAGE: '1', LOG_LEVEL: 'debug' });
    expect((await w.process.waitFor(joined)).partitions).toEqual([0, 1, 2]);
    expect(await status(w, '/readyz')).toBe(200);
    let processed = 0;
    await w.process.waitFor((line) => isProcessed(line) && ++processed === 30);
    // The lag gauge reaches 0 once the last message of each partition is processed.
    const text = (await scrape(w.url)).body;
    const families = parsePrometheusTextFormat(text);
    const value = (name: string) => families.find((f) => f.name === name)?.metrics ?? [];
    expect(value('messages_processed_total')).toEqual([{ labels: { topic: 'metrics-topic' }, value: '30' }]);
    expect(text).toMatch(/^message_processing_duration_seconds_count\{topic="metrics-topic"\} 30$/m);
    expect(text).toMatch(/^message_processing_duration_seconds_bucket\{le="\+Inf",topic="metrics-topic"\} 30$/m);
    expect(value('kafka_consumer_lag').map((m) => [m.labels?.partition, m.value]).sort()).toEqual([['0', '0'], ['1', '0'], ['2', '0']]);
    expect(value('messages_in_flight')).toEqual([{ value: '0' }]);
    expect(value('process_cpu_seconds_total')).toHaveLength(1);
    const check = await promtoolCheckMetrics(text);
    expect(check.ok, check.output).toBe(true);
    const openMetrics = await scrape(w.url, OPENMETRICS_ACCEPT);
    expect(openMetrics.contentType).toMatch(/^application\/openmetrics-text/);
    expect(openMetrics.body).toMatch(/^# TYPE messages_processed counter$/m);
    expect(openMetrics.body).toMatch(/^messages_processed_total\{topic="metrics-topic"\} 30$/m);
    // …and the text format still says _total after an OpenMetrics scrape (design notes §6).
    expect((await scrape(w.url)).body).toMatch(/^messages_processed_total\{topic="metrics-topic"\} 30$/m);
  });

  it('loses nothing when one of two workers is stopped mid-stream, and redelivers at most its in-flight messages', async () => {
    const N = 600;
    const PARTITIONS = 4;
    await createTopic('drain-topic', PARTITIONS);
    await produce('drain-topic', N, PARTITIONS);
    const env = { KAFKA_TOPIC: 'drain-topic', KAFKA_GROUP_ID: 'drain-group', WORK_MS_PER_MESSAGE: '10', WORKER_CONCURRENCY: '2', LOG_LEVEL: 'debug' };
    const first = await worker('first', env);
    await first.process.waitFor(joined);
    const second = await worker('second', env);
    await second.process.waitFor(joined);
    // Both are members now (the first re-joined with half of the partitions).
    const firstSplit = await first.process.waitFor((line) => joined(line) && (line.partitions as number[]).length < PARTITIONS);

    // Mid-stream: once the first has processed 60 more messages under the shared assignment.
    let sinceSplit = 0;
    const splitAt = first.process.lines.indexOf(firstSplit);
    await first.process.waitFor((line) => isProcessed(line) && first.process.lines.indexOf(line) > splitAt && ++sinceSplit === 60);
    const signalledAt = performance.now();
    first.process.child.kill('SIGTERM');
    const drain = await first.process.waitFor((line) => line.phase === 'drain');
    expect((await first.process.exited).code).toBe(0);
    const drainMs = Math.round(performance.now() - signalledAt);
    const inFlightAtSigterm = drain.inFlightCount as number;

    // The second takes all partitions over and finishes the topic.
    const seen = (line: LogLine) => `${String(line.partition)}:${String(line.offset)}`;
    const all = () => [...first.process.lines, ...second.process.lines].filter(isProcessed).map(seen);
    await second.process.waitFor((line) => isProcessed(line) && new Set(all()).size === N);
    const processed = all();
    const distinct = new Set(processed);
    const redelivered = processed.length - distinct.size;
    console.log(`worker drain: SIGTERM → exit ${drainMs} ms, ${inFlightAtSigterm} in flight at SIGTERM, ${redelivered} redelivered of ${N}`);

    expect(distinct.size).toBe(N);
    expect(redelivered).toBeLessThanOrEqual(inFlightAtSigterm);
    // Everything processed gets committed (the second commits at the end of its batch): no lag left.
    await until(async () => (await readConsumerLag(admin, 'drain-group', 'drain-topic')).total === 0, { timeoutMs: 10_000, what: 'the group to commit everything' });
    const phases = first.process.lines.filter((line) => line.phase).map((line) => line.phase);
    expect(phases).toEqual(['drain', 'left-group', 'exit']);
  }, 90_000);
});
