import { once } from 'node:events';
import { rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { metricName } from '@podscale/hpa/compute-metric.ts';
import type { KubernetesVersion } from '@podscale/hpa/gates.ts';
import type { HpaSpec, MetricSpec } from '@podscale/hpa/types.ts';
import { parseDuration } from '@podscale/hpa/duration.ts';
import { publishedMetricName, rateWindowSeconds, type AdapterRule } from '../kit/adapter-rule.ts';
import { LAB_ANNOUNCE_FILE, type LabAnnouncement } from '../load/watch/lab.ts';
import type { ReplicaState } from '../load/watch/replicas.ts';
import { LabController, type SyncRecord } from './controller.ts';
import { LabDeployment } from './deployment.ts';
import type { LabKit } from './kit.ts';
import { until } from '@podscale/process/net.ts';
import { LabServiceProxy } from './proxy.ts';
import { EmbeddedRateSource, PrometheusRateSource, type PodRateSource } from './rates.ts';
import { commandExists } from '@podscale/process/which.ts';
import { REPO_ROOT } from '../repo-root.ts';

export const DEFAULT_SERVER_ENTRY = join(REPO_ROOT, 'dist', 'service', 'server.mjs');

export interface HpaOverrides {
  minReplicas?: number;
  maxReplicas?: number;
  qpsTarget?: number;
  cpuTarget?: number;
  scaleDownWindowS?: number;
  /** Keep only these metrics (by name: cpu, http_requests_per_second): the others drive nothing. */
  onlyMetrics?: string[];
}

export interface LabOptions {
  kit: LabKit;
  serverEntry?: string;
  syncPeriodS?: number;
  propagationDelayMs?: number;
  scrapeIntervalS?: number;
  rateWindowS?: number;
  hpa?: HpaOverrides;
  prometheus?: 'auto' | 'off';
  podEnv?: Record<string, string>;
  /** Write the announcement file so `podscale load --watch lab` finds this lab. */
  announce?: boolean;
  /** The kube-controller-manager minor the lab's HPA follows (default: the pinned control plane). */
  kubernetesVersion?: KubernetesVersion;
}

export interface LabState extends ReplicaState {
  t: number;
  metricsSource: string;
  overrides: string[];
  serviceUrl: string;
  pods: { name: string; pid: number | undefined; port: number; ready: boolean | null; deleting: boolean; revision: number; qps: number | null; cpuPercent: number | null }[];
  prometheusPid: number | undefined;
  crashes: number;
}

/** The HPA spec with demo overrides applied, and a line describing each override. */
export function applyOverrides(spec: HpaSpec, overrides: HpaOverrides): { spec: HpaSpec; described: string[] } {
  const described: string[] = [];
  const copy = structuredClone(spec);
  if (overrides.minReplicas !== undefined) {
    described.push(`minReplicas ${spec.minReplicas} → ${overrides.minReplicas}`);
    copy.minReplicas = overrides.minReplicas;
  }
  if (overrides.maxReplicas !== undefined) {
    described.push(`maxReplicas ${spec.maxReplicas} → ${overrides.maxReplicas}`);
    copy.maxReplicas = overrides.maxReplicas;
  }
  const metrics: MetricSpec[] = copy.metrics ?? [];
  for (const metric of metrics) {
    if (metric.type === 'Pods' && overrides.qpsTarget !== undefined) {
      described.push(`${metric.pods.metric.name} target ${metric.pods.target.averageValue} → ${overrides.qpsTarget}`);
      metric.pods.target.averageValue = String(overrides.qpsTarget);
    }
    if (metric.type === 'Resource' && metric.resource.name === 'cpu' && overrides.cpuTarget !== undefined) {
      described.push(`cpu utilization target ${metric.resource.target.averageUtilization}% → ${overrides.cpuTarget}%`);
      metric.resource.target.averageUtilization = overrides.cpuTarget;
    }
  }
  if (overrides.onlyMetrics !== undefined) {
    const names = metrics.map(metricName);
    const unknown = overrides.onlyMetrics.filter((name) => !names.includes(name));
    if (unknown.length > 0) throw new Error(`the HPA has no metric ${unknown.join(', ')} (it has ${names.join(', ')})`);
    copy.metrics = metrics.filter((metric) => overrides.onlyMetrics!.includes(metricName(metric)));
    described.push(`metrics ${names.join(', ')} → ${copy.metrics.map(metricName).join(', ')}`);
  }
  if (overrides.scaleDownWindowS !== undefined) {
    const previous = copy.behavior?.scaleDown?.stabilizationWindowSeconds ?? 300;
    described.push(`scaleDown stabilization ${previous}s → ${overrides.scaleDownWindowS}s`);
    copy.behavior = { ...copy.behavior, scaleDown: { ...copy.behavior?.scaleDown, stabilizationWindowSeconds: overrides.scaleDownWindowS } };
  }
  return { spec: copy, described };
}

function withRateWindow(rule: AdapterRule, seconds: number): AdapterRule {
  return { ...rule, metricsQuery: rule.metricsQuery.replace(/(rate\([^[]*\[)[0-9a-z]+(\]\))/, `$1${seconds}s$2`) };
}

/**
 * The whole lab: pods as processes behind a Service proxy, Prometheus (or the embedded scraper)
 * reading them through the shipped adapter rule, and the HPA controller scaling the Deployment.
 */
export class Lab {
  readonly options: LabOptions;
  readonly proxy: LabServiceProxy;
  readonly deployment: LabDeployment;
  readonly controller: LabController;
  readonly rates: PodRateSource;
  readonly overrides: string[];
  readonly serviceUrl: string;
  readonly controlUrl: string;
  readonly #control: Server;
  readonly #targetsTimer: NodeJS.Timeout;
  readonly #startedAt: number;
  #stopped = false;

  private constructor(fields: {
    options: LabOptions;
    proxy: LabServiceProxy;
    deployment: LabDeployment;
    controller: LabController;
    rates: PodRateSource;
    overrides: string[];
    serviceUrl: string;
    controlUrl: string;
    control: Server;
    targetsTimer: NodeJS.Timeout;
    startedAt: number;
  }) {
    this.options = fields.options;
    this.proxy = fields.proxy;
    this.deployment = fields.deployment;
    this.controller = fields.controller;
    this.rates = fields.rates;
    this.overrides = fields.overrides;
    this.serviceUrl = fields.serviceUrl;
    this.controlUrl = fields.controlUrl;
    this.#control = fields.control;
    this.#targetsTimer = fields.targetsTimer;
    this.#startedAt = fields.startedAt;
  }

  static async start(options: LabOptions): Promise<Lab> {
    const startedAt = performance.now();
    const clock = () => (performance.now() - startedAt) / 1000;
    const { kit } = options;
    const overrides: string[] = [];
    const { spec, described } = applyOverrides(kit.hpa, options.hpa ?? {});
    overrides.push(...described);
    const scrapeIntervalS = options.scrapeIntervalS ?? parseDuration(String(kit.prometheus.global?.scrape_interval ?? '15s'));
    if (options.scrapeIntervalS !== undefined) overrides.push(`scrape interval → ${scrapeIntervalS}s`);
    let rule = kit.adapterRule;
    if (options.rateWindowS !== undefined) {
      overrides.push(`adapter rate window ${rateWindowSeconds(rule)}s → ${options.rateWindowS}s`);
      rule = withRateWindow(rule, options.rateWindowS);
    }
    // The classic "metric not found": a rate() window holding fewer than two scrapes is empty.
    if (rateWindowSeconds(rule) < 2 * scrapeIntervalS) {
      throw new Error(`the adapter rate window (${rateWindowSeconds(rule)}s) must span at least two scrape intervals (${scrapeIntervalS}s each), or rate() returns nothing and the HPA sees <unknown>`);
    }
    const syncPeriodS = options.syncPeriodS ?? 15;
    if (syncPeriodS !== 15) overrides.push(`HPA sync period 15s → ${syncPeriodS}s`);
    const series = /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(rule.seriesQuery)![0];
    const podsMetricName = publishedMetricName(rule, series) ?? series;
    const rateOptions = { rule, series, namespace: kit.namespace, scrapeIntervalS };

    const usePrometheus = options.prometheus !== 'off' && (await commandExists('prometheus'));
    const rates: PodRateSource = usePrometheus
      ? await PrometheusRateSource.start(kit.prometheus, rateOptions)
      : new EmbeddedRateSource({ ...rateOptions, windowS: rateWindowSeconds(rule) });

    const proxy = new LabServiceProxy(options.propagationDelayMs ?? 2000);
    const servicePort = await proxy.listen();
    const deployment = new LabDeployment({ kit, serverEntry: options.serverEntry ?? DEFAULT_SERVER_ENTRY, proxy, clock, ...(options.podEnv ? { env: options.podEnv } : {}) });
    const controller = new LabController({ deployment, spec, rates, podsMetricName, cpuRequestMilli: kit.cpuRequestMilli, syncPeriodS, clock, kubernetesVersion: options.kubernetesVersion });
    // Prometheus discovers running pods; the lab rewrites its file targets as pods come and go.
    const targetsTimer = setInterval(() => {
      void rates.setTargets(deployment.pods.filter((pod) => pod.port > 0 && pod.phase === 'Running').map((pod) => ({ pod: pod.name, port: pod.port })));
    }, 500);

    const control = createServer((request, response) => {
      if (request.url === '/lab/state') {
        response.setHeader('content-type', 'application/json');
        response.end(JSON.stringify(lab.state()));
      } else {
        response.statusCode = 404;
        response.end();
      }
    });
    control.listen(0, '127.0.0.1');
    await once(control, 'listening');
    const controlUrl = `http://127.0.0.1:${(control.address() as { port: number }).port}`;
    const lab = new Lab({ options, proxy, deployment, controller, rates, overrides, serviceUrl: `http://127.0.0.1:${servicePort}`, controlUrl, control, targetsTimer, startedAt });
    if (options.announce) {
      const announcement: LabAnnouncement = { pid: process.pid, serviceUrl: lab.serviceUrl, controlUrl };
      await writeFile(LAB_ANNOUNCE_FILE, JSON.stringify(announcement));
    }
    deployment.reconcile();
    controller.start();
    return lab;
  }

  clock(): number {
    return (performance.now() - this.#startedAt) / 1000;
  }

  /** Resolves once `count` pods are ready and the proxy routes to them. */
  async waitForReady(count: number, timeoutMs = 60_000): Promise<void> {
    await until(async () => this.deployment.readyCount >= count && this.proxy.endpoints().length >= count, { timeoutMs, what: `${count} ready pods` });
  }

  state(): LabState {
    const last: SyncRecord | undefined = this.controller.syncs.at(-1);
    const podInputs = new Map(last?.pods.map((p) => [p.name, p]) ?? []);
    return {
      source: 'lab',
      name: this.options.kit.deploymentName,
      t: Math.round(this.clock() * 10) / 10,
      desired: this.deployment.desired,
      ready: this.deployment.readyCount,
      metrics: (last?.decision.metrics ?? []).map((m) => ({ name: m.name, current: m.current, target: m.target })),
      ...(last ? { reason: `${last.decision.desiredReplicas === last.from ? 'kept' : `${last.from} → ${last.decision.desiredReplicas}`}: ${last.decision.reason}` } : {}),
      metricsSource: this.rates.description,
      overrides: this.overrides,
      serviceUrl: this.serviceUrl,
      pods: this.deployment.pods.map((pod) => ({
        name: pod.name,
        pid: pod.pid,
        port: pod.port,
        ready: pod.ready,
        deleting: pod.deleting,
        revision: pod.revision,
        qps: podInputs.get(pod.name)?.qps ?? null,
        cpuPercent: podInputs.get(pod.name)?.cpuPercent ?? null,
      })),
      prometheusPid: this.rates instanceof PrometheusRateSource ? this.rates.pid : undefined,
      crashes: this.deployment.crashes,
    };
  }

  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    this.controller.stop();
    clearInterval(this.#targetsTimer);
    await this.deployment.stop();
    await this.rates.stop();
    await this.proxy.close();
    this.#control.closeAllConnections();
    this.#control.close();
    if (this.options.announce) await rm(LAB_ANNOUNCE_FILE, { force: true });
  }
}
