import { mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { stringify } from 'yaml';
import { GuardedProcess } from '@podscale/process/guarded.ts';
import { freePort, until } from '@podscale/process/net.ts';

/** A pod as the shipped scrape config sees it through Kubernetes service discovery. */
export interface ScrapeTarget {
  address: string;
  namespace: string;
  pod: string;
  app: string;
  port: number;
  metricsPath: string;
}

interface ScrapeJob {
  job_name: string;
  kubernetes_sd_configs?: unknown;
  file_sd_configs?: unknown;
  [key: string]: unknown;
}

export interface PrometheusConfig {
  global?: Record<string, unknown>;
  scrape_configs: ScrapeJob[];
}

/**
 * The shipped configuration with Kubernetes discovery swapped for file discovery: the same
 * relabeling rules then turn the `__meta_kubernetes_*` labels of each file target into the
 * `namespace` and `pod` labels, exactly as in a cluster.
 */
export function withFileDiscovery(shipped: PrometheusConfig, targetsFile: string, scrapeInterval: string): PrometheusConfig {
  return {
    ...shipped,
    global: { ...shipped.global, scrape_interval: scrapeInterval, scrape_timeout: scrapeInterval, evaluation_interval: scrapeInterval },
    scrape_configs: shipped.scrape_configs.map(({ kubernetes_sd_configs: _discovery, ...job }) => ({
      ...job,
      file_sd_configs: [{ files: [targetsFile], refresh_interval: scrapeInterval }],
    })),
  };
}

/** The labels Kubernetes pod discovery would attach to the target (only those the shipped rules read). */
export function discoveredLabels(target: ScrapeTarget): Record<string, string> {
  return {
    __meta_kubernetes_namespace: target.namespace,
    __meta_kubernetes_pod_name: target.pod,
    __meta_kubernetes_pod_phase: 'Running',
    __meta_kubernetes_pod_label_app_kubernetes_io_name: target.app,
    __meta_kubernetes_pod_annotation_prometheus_io_scrape: 'true',
    __meta_kubernetes_pod_annotation_prometheus_io_port: String(target.port),
    __meta_kubernetes_pod_annotation_prometheus_io_path: target.metricsPath,
  };
}

export interface InstantSample {
  metric: Record<string, string>;
  value: number;
}

/** A real Prometheus server in a temporary data directory, scraping file-discovered targets. */
export class PrometheusServer {
  readonly url: string;
  readonly #process: GuardedProcess;
  readonly #dir: string;
  readonly #targetsFile: string;
  readonly #stderr: string[] = [];
  #lastTargets = '[]';

  private constructor(url: string, process: GuardedProcess, dir: string, targetsFile: string) {
    this.url = url;
    this.#process = process;
    this.#dir = dir;
    this.#targetsFile = targetsFile;
    process.guard.stderr?.on('data', (chunk: Buffer) => this.#stderr.push(chunk.toString()));
  }

  static async start(shipped: PrometheusConfig, { scrapeInterval = '1s', binary = 'prometheus' } = {}): Promise<PrometheusServer> {
    const dir = await mkdtemp(join(tmpdir(), 'podscale-prometheus-'));
    const targetsFile = join(dir, 'targets.json');
    await writeFile(targetsFile, '[]');
    const configFile = join(dir, 'prometheus.yml');
    await writeFile(configFile, stringify(withFileDiscovery(shipped, targetsFile, scrapeInterval)));
    // Prometheus cannot listen on port 0 and report the port back, so pick a free one first.
    const port = await freePort();
    // Guarded: Prometheus stops when whoever started it exits, however it exits.
    const child = new GuardedProcess(
      binary,
      [`--config.file=${configFile}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn'],
      { graceMs: 5000, stdout: 'ignore', stderr: 'pipe' },
    );
    const server = new PrometheusServer(`http://127.0.0.1:${port}`, child, dir, targetsFile);
    const exitedEarly = child.exited.then(({ code }) => Promise.reject(new Error(`prometheus exited with code ${code}`)));
    exitedEarly.catch(() => undefined); // only the race below cares; a later exit is expected
    try {
      await Promise.race([exitedEarly, until(async () => (await request(`${server.url}/-/ready`)).statusCode === 200, { timeoutMs: 20_000, what: 'Prometheus to be ready' })]);
    } catch (error) {
      await server.stop();
      throw new Error(`Prometheus did not start: ${(error as Error).message}\n${server.#stderr.join('')}`);
    }
    return server;
  }

  get pid(): number | undefined {
    return this.#process.childPid;
  }

  get configFile(): string {
    return join(this.#dir, 'prometheus.yml');
  }

  /** Replaces the target list; written atomically, and only when it changed (each write makes Prometheus re-sync its scrape pools). */
  async setTargets(targets: ScrapeTarget[]): Promise<void> {
    const text = JSON.stringify(targets.map((target) => ({ targets: [target.address], labels: discoveredLabels(target) })));
    if (text === this.#lastTargets) return;
    this.#lastTargets = text;
    const temporary = `${this.#targetsFile}.tmp`;
    await writeFile(temporary, text);
    await rename(temporary, this.#targetsFile);
  }

  async query(promql: string): Promise<InstantSample[]> {
    const response = await request(`${this.url}/api/v1/query`, { method: 'POST', body: new URLSearchParams({ query: promql }).toString(), headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    const body = (await response.body.json()) as { status: string; error?: string; data?: { resultType: string; result: { metric: Record<string, string>; value: [number, string] }[] } };
    if (body.status !== 'success' || !body.data) throw new Error(`Prometheus query failed: ${body.error ?? response.statusCode}: ${promql}`);
    return body.data.result.map((sample) => ({ metric: sample.metric, value: Number(sample.value[1]) }));
  }

  /** Active scrape targets with their health, to wait until Prometheus has picked targets up. */
  async activeTargets(): Promise<{ labels: Record<string, string>; health: string }[]> {
    const response = await request(`${this.url}/api/v1/targets?state=active`);
    const body = (await response.body.json()) as { data: { activeTargets: { labels: Record<string, string>; health: string }[] } };
    return body.data.activeTargets;
  }

  async stop(): Promise<void> {
    await this.#process.stop(5000);
    await rm(this.#dir, { recursive: true, force: true });
  }
}
