/**
 * A real Apache Kafka broker for the tests (and, later, the lab): one JVM in KRaft combined mode
 * (broker + controller, a single node, no ZooKeeper) on 127.0.0.1, from the jars that
 * `scripts/build-kafka.sh` resolved from Maven Central (tools/kafka/pom.xml). A tool: no deployable
 * imports it.
 *
 *   const broker = await KafkaBroker.start();     // temp log dir, free ports, ~3–8 s
 *   broker.bootstrap                               // "127.0.0.1:PORT"
 *   await broker.stop();                           // SIGTERM, waits for the JVM to exit
 *
 * The JVM runs under the lab's guard (packages/kube-local/src/components.ts), so it dies with the caller even
 * when that is SIGKILLed. `stop({ keepData: true })` then `KafkaBroker.start({ dir, port })` brings
 * the same broker back with its topics and offsets, for tests of an outage.
 */
import { randomBytes } from 'node:crypto';
import { access, mkdir, mkdtemp, readFile, realpath, rename, rm, writeFile } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { Component } from '@podscale/process/components.ts';
import { freePort } from '@podscale/process/net.ts';
import { commandExists } from '@podscale/process/which.ts';

const LOG4J_CONFIG = fileURLToPath(new URL('../../../tools/kafka/log4j2.properties', import.meta.url));

/** Where `scripts/build-kafka.sh` points `current`: `<cache>/kafka/current/{lib,version}`. */
export function kafkaCacheDir(): string {
  return join(process.env.PODSCALE_CACHE ?? join(homedir(), '.cache', 'podscale'), 'kafka', 'current');
}

/** `$JAVA_HOME/bin/java` when JAVA_HOME is set, else `java` from PATH. */
export function javaCommand(): string {
  return process.env.JAVA_HOME ? join(process.env.JAVA_HOME, 'bin', 'java') : 'java';
}

/** Why a broker cannot start here, in one line; undefined when it can. */
export async function brokerUnavailableReason(): Promise<string | undefined> {
  const java = javaCommand();
  const haveJava = java === 'java' ? await commandExists('java') : await access(java).then(() => true, () => false);
  if (!haveJava) return `no Java (${java}): Kafka runs on Java >= 17; install it and run \`bash scripts/setup.sh --with-kafka\``;
  try {
    await access(join(kafkaCacheDir(), 'lib'));
    await access(join(kafkaCacheDir(), 'version'));
  } catch {
    return `the Kafka broker is not built (${kafkaCacheDir()}): run \`bash scripts/setup.sh --with-kafka\``;
  }
  return undefined;
}

export interface KafkaBrokerOptions {
  /** Holds server.properties, data/ and logs/; default a new temp dir. */
  dir?: string;
  /** Whether stop() removes `dir` (default: only a temp dir the broker made itself). */
  removeDir?: boolean;
  /**
   * The address the client listener binds and advertises (default 127.0.0.1). The lab gives the
   * pod bridge's node address, which pods and the host both reach; the controller listener stays
   * on loopback.
   */
  host?: string;
  /** The client listener's port (default a free one); pass the old one to bring a broker back. */
  port?: number;
  controllerPort?: number;
  /** JVM heap ceiling in MiB (default 512). */
  heapMb?: number;
  /** Extra broker settings, over the test defaults below. */
  settings?: Record<string, string | number | boolean>;
  /** How long the JVM may take to say it started (default 60 s: a busy 2-core machine). */
  startTimeoutMs?: number;
}

/** Broker settings for a single-node test broker: every internal topic with one replica, fast groups. */
/**
 * A cluster id as Kafka makes one (Uuid.randomUuid): 22 characters of base64url, never starting
 * with "-", which the storage tool's argument parser would read as an option (one start in 64 failed so).
 */
export function kafkaClusterId(): string {
  for (;;) {
    const id = randomBytes(16).toString('base64url');
    if (!id.startsWith('-')) return id;
  }
}

function testSettings(host: string, port: number, controllerPort: number, dataDir: string): Record<string, string | number | boolean> {
  return {
    'process.roles': 'broker,controller',
    'node.id': 1,
    'controller.quorum.voters': `1@127.0.0.1:${controllerPort}`,
    listeners: `PLAINTEXT://${host}:${port},CONTROLLER://127.0.0.1:${controllerPort}`,
    'advertised.listeners': `PLAINTEXT://${host}:${port}`,
    'controller.listener.names': 'CONTROLLER',
    'inter.broker.listener.name': 'PLAINTEXT',
    'listener.security.protocol.map': 'PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT',
    'log.dirs': dataDir,
    // One replica of everything (a single node), and one partition of the offsets topic, so the
    // group coordinator is ready moments after start.
    'offsets.topic.replication.factor': 1,
    'offsets.topic.num.partitions': 1,
    'transaction.state.log.replication.factor': 1,
    'transaction.state.log.min.isr': 1,
    'share.coordinator.state.topic.replication.factor': 1,
    'share.coordinator.state.topic.min.isr': 1,
    // Rebalances in tests: no initial delay, and sessions as short as 1 s may be asked for.
    'group.initial.rebalance.delay.ms': 0,
    'group.min.session.timeout.ms': 1000,
    // Topics exist because a test made them: a typo must fail, not create a topic.
    'auto.create.topics.enable': false,
    'num.network.threads': 2,
    'num.io.threads': 2,
    'num.partitions': 1,
  };
}

export class KafkaBroker {
  readonly dir: string;
  readonly host: string;
  readonly port: number;
  readonly controllerPort: number;
  readonly bootstrap: string;
  /** From spawning the JVM to its "Kafka Server started" line (formatting not included). */
  readonly startMs: number;
  /** The Kafka version the cache holds (tools/kafka/pom.xml). */
  readonly version: string;
  readonly #component: Component;
  readonly #ownsDir: boolean;

  private constructor(fields: { dir: string; host: string; port: number; controllerPort: number; startMs: number; version: string; component: Component; ownsDir: boolean }) {
    this.dir = fields.dir;
    this.host = fields.host;
    this.port = fields.port;
    this.controllerPort = fields.controllerPort;
    this.bootstrap = `${fields.host}:${fields.port}`;
    this.startMs = fields.startMs;
    this.version = fields.version;
    this.#component = fields.component;
    this.#ownsDir = fields.ownsDir;
  }

  static async start(options: KafkaBrokerOptions = {}): Promise<KafkaBroker> {
    const reason = await brokerUnavailableReason();
    if (reason) throw new Error(reason);
    const ownsDir = options.removeDir ?? options.dir === undefined;
    const dir = options.dir ?? (await mkdtemp(join(tmpdir(), 'podscale-kafka-')));
    const port = options.port ?? (await freePort());
    const controllerPort = options.controllerPort ?? (await freePort());
    const dataDir = join(dir, 'data');
    const logDir = join(dir, 'logs');
    await mkdir(dataDir, { recursive: true });
    const host = options.host ?? '127.0.0.1';
    const settings = { ...testSettings(host, port, controllerPort, dataDir), ...options.settings };
    const propertiesFile = join(dir, 'server.properties');
    await writeFile(propertiesFile, `${Object.entries(settings).map(([key, value]) => `${key}=${String(value)}`).join('\n')}\n`);

    // The resolved directory (not `current`): the class-data archive is valid for these jars only.
    const home = await realpath(kafkaCacheDir());
    const version = (await readFile(join(home, 'version'), 'utf8')).trim();
    // Start-up is mostly class loading and JIT on a busy machine: C1 only and the serial collector
    // (measured here: 10.1 s vs 15.9 s to "started" with the JVM defaults), and an AppCDS archive of
    // the broker's classes, written by the first broker's exit into the cache (then 1.8–2.0 s vs
    // 3.4–6.1 s without it, same machine, same minute).
    const archive = join(home, 'kafka.jsa');
    const haveArchive = await access(archive).then(() => true, () => false);
    const jvm = [`-Xmx${options.heapMb ?? 512}m`, '-XX:+UseSerialGC', '-XX:TieredStopAtLevel=1', `-Dlog4j2.configurationFile=${LOG4J_CONFIG}`, '-cp', `${join(home, 'lib')}/*`];
    const writing = `${archive}.${process.pid}.${Date.now()}`;
    const cds = haveArchive ? [`-XX:SharedArchiveFile=${archive}`] : [`-XX:ArchiveClassesAtExit=${writing}`];

    // A KRaft log dir must be formatted once with a cluster id (22 characters of base64url: a UUID).
    const formatted = await access(join(dataDir, 'meta.properties')).then(() => true, () => false);
    if (!formatted) {
      const clusterId = kafkaClusterId();
      const format = await Component.start('kafka-storage', javaCommand(), [...jvm, ...(haveArchive ? cds : []), 'kafka.tools.StorageTool', 'format', '--cluster-id', clusterId, '--config', propertiesFile], { logDir, graceMs: 5_000 });
      const { code } = await format.process.exited;
      if (code !== 0) throw new Error(`formatting the Kafka log dir exited ${code}; see ${format.logFile}`);
    }

    const spawnedAt = performance.now();
    const component = await Component.start('kafka', javaCommand(), [...jvm, ...cds, 'kafka.Kafka', propertiesFile], { logDir, graceMs: 20_000 });
    if (!haveArchive) {
      // The JVM writes the archive as it exits; publish it whole, or drop a partial one.
      void component.process.exited.then(async ({ code }) => {
        if (code === 0 || code === 143) await rename(writing, archive).catch(() => undefined);
        await rm(writing, { force: true });
      });
    }
    try {
      await waitForLine(component, /Kafka Server started/, options.startTimeoutMs ?? 60_000);
    } catch (error) {
      await component.stop(5_000);
      if (ownsDir) await rm(dir, { recursive: true, force: true });
      throw error;
    }
    return new KafkaBroker({ dir, host, port, controllerPort, startMs: Math.round(performance.now() - spawnedAt), version, component, ownsDir });
  }

  get running(): boolean {
    return this.#component.running;
  }

  get logFile(): string {
    return this.#component.logFile;
  }

  /**
   * SIGTERM (the broker's controlled shutdown), SIGKILL after `graceMs`; resolves once the JVM is
   * gone. Removes a temp dir this broker made unless `keepData`.
   */
  async stop({ keepData = false, graceMs = 20_000 }: { keepData?: boolean; graceMs?: number } = {}): Promise<void> {
    await this.#component.stop(graceMs);
    if (this.#ownsDir && !keepData) await rm(this.dir, { recursive: true, force: true });
  }

  /** Brings a stopped broker back on the same ports with the same data (made with `keepData`). */
  async restart(options: Omit<KafkaBrokerOptions, 'dir' | 'port' | 'controllerPort'> = {}): Promise<KafkaBroker> {
    if (this.running) throw new Error('the broker is still running');
    return KafkaBroker.start({ ...options, dir: this.dir, removeDir: this.#ownsDir, host: this.host, port: this.port, controllerPort: this.controllerPort });
  }
}

/**
 * Resolves on the first stdout line of `component` that matches; rejects if it exits first or after
 * `timeoutMs`. The reader stays attached (closing a readline pauses its input, which would stall
 * the pipe into the log file and, once the OS buffer is full, the JVM's logging).
 */
function waitForLine(component: Component, pattern: RegExp, timeoutMs: number): Promise<void> {
  const lines = createInterface({ input: component.process.guard.stdout! });
  return new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => done(new Error(`Kafka did not start within ${timeoutMs} ms; see ${component.logFile}`)), timeoutMs);
    const onLine = (line: string) => {
      if (pattern.test(line)) done();
    };
    const done = (error?: Error) => {
      clearTimeout(timer);
      lines.off('line', onLine);
      if (error) reject(error);
      else resolve();
    };
    lines.on('line', onLine);
    void component.process.exited.then(({ code, signal }) => done(new Error(`Kafka exited (${code ?? signal}) before it started; see ${component.logFile}`)));
  });
}
