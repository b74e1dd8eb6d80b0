/** Pieces the operator's cluster tests share: an exporter, a real Prometheus that can be stopped and brought back on its port, controller processes. */
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { stringify } from 'yaml';
import { GuardedProcess } from '@podscale/process/guarded.ts';
import { freePort, until } from '@podscale/process/net.ts';
import { ROOT } from '../helpers/child.ts';
import { kubectl } from '../helpers/cluster.ts';

/** A tiny exporter: one gauge, `podscale_test_lag`, whose value the test sets. */
export class Exporter {
  value = 0;
  readonly #server: Server;
  port = 0;

  private constructor() {
    this.#server = createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(`# TYPE podscale_test_lag gauge\npodscale_test_lag ${this.value}\n`));
  }

  static async start(): Promise<Exporter> {
    const exporter = new Exporter();
    exporter.#server.listen(0, '127.0.0.1');
    await once(exporter.#server, 'listening');
    exporter.port = (exporter.#server.address() as { port: number }).port;
    return exporter;
  }

  async stop(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}

/** A real Prometheus on a fixed port scraping the exporter every second; stop() and start() again keep the URL. */
export class TestPrometheus {
  readonly url: string;
  readonly #port: number;
  readonly #dir: string;
  #process: GuardedProcess | undefined;

  private constructor(port: number, dir: string) {
    this.#port = port;
    this.#dir = dir;
    this.url = `http://127.0.0.1:${port}`;
  }

  static async create(exporterPort: number): Promise<TestPrometheus> {
    const dir = await mkdtemp(join(tmpdir(), 'podscale-operator-prometheus-'));
    await writeFile(
      join(dir, 'prometheus.yml'),
      stringify({ global: { scrape_interval: '1s', scrape_timeout: '1s', evaluation_interval: '1s' }, scrape_configs: [{ job_name: 'exporter', static_configs: [{ targets: [`127.0.0.1:${exporterPort}`] }] }] }),
    );
    const prometheus = new TestPrometheus(await freePort(), dir);
    await prometheus.start();
    return prometheus;
  }

  async start(): Promise<void> {
    this.#process = new GuardedProcess(
      'prometheus',
      [`--config.file=${join(this.#dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(this.#dir, 'data')}`, `--web.listen-address=127.0.0.1:${this.#port}`, '--log.level=warn'],
      { graceMs: 5000, stdout: 'ignore', stderr: 'ignore' },
    );
    await until(async () => (await fetch(`${this.url}/-/ready`)).status === 200, { timeoutMs: 30_000, what: 'Prometheus ready' });
  }

  /** Resolves once the query returns exactly this value. */
  async waitForValue(query: string, value: number, timeoutMs = 20_000): Promise<void> {
    await until(
      async () => {
        const body = (await (await fetch(`${this.url}/api/v1/query?query=${encodeURIComponent(query)}`)).json()) as { data: { result: { value: [number, string] }[] } };
        return body.data.result.length > 0 && Number(body.data.result[0]!.value[1]) === value;
      },
      { timeoutMs, intervalMs: 200, what: `${query} == ${value}` },
    );
  }

  async stop(): Promise<void> {
    const process = this.#process;
    this.#process = undefined;
    if (!process?.running) return;
    process.signal('SIGTERM');
    await process.exited;
  }

  async remove(): Promise<void> {
    await this.stop();
    await rm(this.#dir, { recursive: true, force: true });
  }
}

export interface LogLine {
  level: number;
  msg: string;
  [key: string]: unknown;
}

/** The controller (`node packages/operator/src/main.ts`) as a real child process; its JSON log lines are kept and awaitable. */
export class ControllerProcess {
  readonly lines: LogLine[] = [];
  readonly identity: string;
  readonly process: GuardedProcess;
  readonly #waiters = new Set<{ match: (line: LogLine) => boolean; resolve: (line: LogLine) => void }>();
  port = 0;

  constructor(identity: string, args: string[]) {
    this.identity = identity;
    this.process = new GuardedProcess(process.execPath, [join(ROOT, 'packages', 'operator', 'src', 'main.ts'), `--identity=${identity}`, '--host=127.0.0.1', '--port=0', ...args], { graceMs: 5000, stdout: 'pipe', stderr: 'inherit' });
    createInterface({ input: this.process.guard.stdout! }).on('line', (text) => {
      let line: LogLine;
      try {
        line = JSON.parse(text) as LogLine;
      } catch {
        return;
      }
      this.lines.push(line);
      if (line.msg === 'health and metrics listening') this.port = line.port as number;
      for (const waiter of this.#waiters) {
        if (waiter.match(line)) {
          this.#waiters.delete(waiter);
          waiter.resolve(line);
        }
      }
    });
  }

  /** The first line (already logged or still to come) that matches. */
  waitFor(match: (line: LogLine) => boolean, timeoutMs = 30_000, what = 'a log line'): Promise<LogLine> {
    const seen = this.lines.find(match);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const waiter = { match, resolve: (line: LogLine) => (clearTimeout(timer), resolve(line)) };
      const timer = setTimeout(() => {
        this.#waiters.delete(waiter);
        reject(new Error(`${this.identity}: timed out after ${timeoutMs} ms waiting for ${what}; last lines:\n${this.lines.slice(-8).map((l) => JSON.stringify(l)).join('\n')}`));
      }, timeoutMs);
      this.#waiters.add(waiter);
    });
  }

  count(match: (line: LogLine) => boolean): number {
    return this.lines.filter(match).length;
  }

  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    if (!this.process.running) return;
    this.process.signal(signal);
    await this.process.exited;
  }
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * kubectl as admin of the test's control plane (read when called: the plane starts in beforeAll):
 * `k` runs any command, `apply` a server-side strict apply of one object, `jsonpath` a get,
 * `waitFor` a `kubectl wait` with this file's default timeout.
 */
export function adminKubectl(kubeconfig: () => string, defaultWait: string) {
  const k = (args: string[], input?: string) => kubectl(kubeconfig(), args, input === undefined ? {} : { input });
  return {
    k,
    apply: (object: unknown) => k(['apply', '--server-side', '--validate=strict', '-f', '-'], stringify(object)),
    jsonpath: async (args: string[], path: string) => (await k(['get', ...args, '-o', `jsonpath=${path}`])).stdout,
    waitFor: (ns: string, what: string, condition: string, timeout = defaultWait) => k(['wait', '-n', ns, what, `--for=${condition}`, `--timeout=${timeout}`]),
  };
}
