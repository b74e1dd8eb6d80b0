import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import { request } from 'undici';
import { renderPodsQuery, type AdapterRule } from '../kit/adapter-rule.ts';
import { PrometheusServer, type PrometheusConfig } from './prometheus.ts';

export interface RateTarget {
  pod: string;
  port: number;
}

/** Where the lab's HPA reads the per-pod request rate from. */
export interface PodRateSource {
  readonly description: string;
  setTargets(targets: RateTarget[]): Promise<void>;
  /** Per-pod rate; a pod missing from the map has no value (the HPA treats it as missing). */
  perPodRate(pods: string[]): Promise<Map<string, number>>;
  stop(): Promise<void>;
}

export interface RateSourceOptions {
  rule: AdapterRule;
  /** The counter the rule reads (its seriesQuery's metric). */
  series: string;
  namespace: string;
  scrapeIntervalS: number;
}

/** The real thing: Prometheus scrapes the pods, and the adapter's metricsQuery runs on its API. */
export class PrometheusRateSource implements PodRateSource {
  readonly description = 'Prometheus + shipped adapter rule';
  readonly #server: PrometheusServer;
  readonly #options: RateSourceOptions;

  private constructor(server: PrometheusServer, options: RateSourceOptions) {
    this.#server = server;
    this.#options = options;
  }

  static async start(config: PrometheusConfig, options: RateSourceOptions): Promise<PrometheusRateSource> {
    return new PrometheusRateSource(await PrometheusServer.start(config, { scrapeInterval: `${options.scrapeIntervalS}s` }), options);
  }

  get pid(): number | undefined {
    return this.#server.pid;
  }

  async setTargets(targets: RateTarget[]): Promise<void> {
    await this.#server.setTargets(targets.map((t) => ({ address: `127.0.0.1:${t.port}`, namespace: this.#options.namespace, pod: t.pod, app: 'podscale', port: t.port, metricsPath: '/metrics' })));
  }

  async perPodRate(pods: string[]): Promise<Map<string, number>> {
    if (pods.length === 0) return new Map();
    const query = renderPodsQuery(this.#options.rule, { series: this.#options.series, namespace: this.#options.namespace, pods });
    const samples = await this.#server.query(query);
    return new Map(samples.map((sample) => [sample.metric.pod!, sample.value]));
  }

  stop(): Promise<void> {
    return this.#server.stop();
  }
}

interface Sample {
  t: number;
  v: number;
}

/**
 * Prometheus' rate(): the increase between the first and last samples in the window, extrapolated
 * towards the window's edges (promql/functions.go extrapolatedRate), divided by the window.
 */
export function extrapolatedRate(samples: Sample[], rangeStart: number, rangeEnd: number): number | undefined {
  const inRange = samples.filter((s) => s.t > rangeStart && s.t <= rangeEnd);
  if (inRange.length < 2) return undefined;
  const first = inRange[0]!;
  const last = inRange.at(-1)!;
  let increase = last.v - first.v;
  for (let i = 1; i < inRange.length; i += 1) if (inRange[i]!.v < inRange[i - 1]!.v) increase += inRange[i - 1]!.v; // counter reset
  const sampledInterval = last.t - first.t;
  const averageBetween = sampledInterval / (inRange.length - 1);
  let durationToStart = first.t - rangeStart;
  const durationToEnd = rangeEnd - last.t;
  if (increase > 0 && first.v >= 0) {
    const durationToZero = sampledInterval * (first.v / increase);
    if (durationToZero < durationToStart) durationToStart = durationToZero;
  }
  const threshold = averageBetween * 1.1;
  let extrapolateTo = sampledInterval;
  extrapolateTo += durationToStart < threshold ? durationToStart : averageBetween / 2;
  extrapolateTo += durationToEnd < threshold ? durationToEnd : averageBetween / 2;
  return (increase * (extrapolateTo / sampledInterval)) / (rangeEnd - rangeStart);
}

/**
 * Without Prometheus: scrape each pod's /metrics on the same interval, sum the counter per pod and
 * apply the same rate() over the same window as the shipped rule.
 */
export class EmbeddedRateSource implements PodRateSource {
  readonly description = 'embedded scraper (Prometheus not installed)';
  readonly #options: RateSourceOptions & { windowS: number };
  readonly #samples = new Map<string, Sample[]>();
  #targets: RateTarget[] = [];
  readonly #timer: NodeJS.Timeout;

  constructor(options: RateSourceOptions & { windowS: number }) {
    this.#options = options;
    this.#timer = setInterval(() => void this.#scrapeAll(), options.scrapeIntervalS * 1000);
  }

  async setTargets(targets: RateTarget[]): Promise<void> {
    this.#targets = targets;
    for (const pod of this.#samples.keys()) if (!targets.some((t) => t.pod === pod)) this.#samples.delete(pod);
  }

  async #scrapeAll(): Promise<void> {
    const now = performance.now() / 1000;
    await Promise.all(
      this.#targets.map(async ({ pod, port }) => {
        try {
          const response = await request(`http://127.0.0.1:${port}/metrics`, { headersTimeout: 2000, bodyTimeout: 2000 });
          const families = parsePrometheusTextFormat(await response.body.text());
          const family = families.find((f) => f.name === this.#options.series);
          const total = (family?.metrics ?? []).reduce((sum, m) => sum + Number(m.value ?? 0), 0);
          const samples = this.#samples.get(pod) ?? [];
          samples.push({ t: now, v: total });
          // Keep a little more than one window.
          while (samples.length > 0 && samples[0]!.t < now - this.#options.windowS * 2) samples.shift();
          this.#samples.set(pod, samples);
        } catch {
          // a failed scrape leaves a gap, as it would in Prometheus
        }
      }),
    );
  }

  async perPodRate(pods: string[]): Promise<Map<string, number>> {
    const now = performance.now() / 1000;
    const rates = new Map<string, number>();
    for (const pod of pods) {
      const rate = extrapolatedRate(this.#samples.get(pod) ?? [], now - this.#options.windowS, now);
      if (rate !== undefined) rates.set(pod, rate);
    }
    return rates;
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer);
  }
}
