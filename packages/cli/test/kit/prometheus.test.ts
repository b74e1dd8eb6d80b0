import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { parse } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAdapterConfig, rateWindowSeconds, renderPodsQuery, type AdapterRule } from '@podscale/cli/kit/adapter-rule.ts';
import { SHIPPED_KIT_DIR, type KubeObject } from '@podscale/cli/kit/manifests.ts';
import { PrometheusServer, type PrometheusConfig } from '@podscale/cli/lab/prometheus.ts';
import { until } from '@podscale/process/net.ts';
import { spawnService, type StartedService } from '../../../../test/helpers/child.ts';
import { kustomizeBuild } from '../../../../test/helpers/kit.ts';
import { PacedTraffic } from '../../../../test/helpers/paced.ts';

const kit = kustomizeBuild(SHIPPED_KIT_DIR);
const configMapData = (prefix: string, key: string) =>
  (kit.find((object) => object.kind === 'ConfigMap' && object.metadata.name.startsWith(prefix)) as KubeObject & { data: Record<string, string> }).data[key]!;
const shippedPrometheus = parse(configMapData('prometheus-config', 'prometheus.yml')) as PrometheusConfig;
const [rule] = parseAdapterConfig(configMapData('prometheus-adapter-config', 'config.yaml')) as [AdapterRule];

const NAMESPACE = 'podscale-test';
const SCRAPE_S = 1;
// Different per pod, so a query that mixed pods up would fail.
const RATES = { 'pod-a': 4, 'pod-b': 9, 'pod-c': 16 } as const;
type PodName = keyof typeof RATES;

const pods = new Map<PodName, StartedService>();
const traffic: PacedTraffic[] = [];
let prometheus: PrometheusServer | undefined;

beforeAll(async () => {
  for (const name of Object.keys(RATES) as PodName[]) pods.set(name, await spawnService({ POD_NAME: name, SHUTDOWN_DELAY_MS: '0' }));
  prometheus = await PrometheusServer.start(shippedPrometheus, { scrapeInterval: `${SCRAPE_S}s` });
});

afterAll(async () => {
  await Promise.all(traffic.map((t) => t.stop()));
  await prometheus?.stop();
  await Promise.all([...pods.values()].map((pod) => pod.process.stop()));
});

describe('the shipped scrape config and adapter rule against a real Prometheus', () => {
  it('the derived configuration (shipped relabeling, file discovery) passes promtool check config', async () => {
    const { stdout } = await promisify(execFile)('promtool', ['check', 'config', prometheus!.configFile]);
    expect(stdout).toMatch(/SUCCESS/);
  });

  it("the adapter's metricsQuery gives each pod the rate driven at it, and probes and scrapes add nothing", { timeout: 180_000 }, async () => {
    await prometheus!.setTargets(
      [...pods].map(([pod, service]) => ({ address: `127.0.0.1:${service.port}`, namespace: NAMESPACE, pod, app: 'podscale', port: service.port, metricsPath: '/metrics' })),
    );
    // File discovery refreshes, and each target is scraped, once per interval: a few intervals, or it hangs.
    await until(async () => (await prometheus!.activeTargets()).filter((t) => t.health === 'up').length === 3, { timeoutMs: 20 * SCRAPE_S * 1000, what: 'three healthy targets' });
    const targetLabels = (await prometheus!.activeTargets()).map((t) => t.labels);
    expect(targetLabels.map((l) => [l.namespace, l.pod]).sort()).toEqual([...pods.keys()].map((pod) => [NAMESPACE, pod]).sort());

    for (const [pod, rate] of Object.entries(RATES) as [PodName, number][]) traffic.push(new PacedTraffic(pods.get(pod)!.url, '/api/delay?ms=1', rate));
    // Probe and scrape traffic on top, as kubelet and a second Prometheus would send.
    traffic.push(new PacedTraffic(pods.get('pod-a')!.url, '/healthz', 20), new PacedTraffic(pods.get('pod-a')!.url, '/readyz', 20));
    traffic.push(new PacedTraffic(pods.get('pod-b')!.url, '/metrics', 5));

    // rate() over a series younger than its window reads low: wait until every pod's series (which
    // appears with its first request) is older than the shipped window by two scrapes, by the
    // timestamps of the samples Prometheus holds, not by this machine's clock. Age, not a sample
    // count: a scrape missed on a busy machine leaves a gap but does not make the window younger.
    const windowS = rateWindowSeconds(rule);
    const youngest = `time() - max(min_over_time(timestamp(http_requests_total{namespace="${NAMESPACE}",path="/api/delay"})[${2 * windowS}s:${SCRAPE_S}s]))`;
    await until(async () => ((await prometheus!.query(youngest))[0]?.value ?? 0) >= windowS + 2 * SCRAPE_S, {
      timeoutMs: (windowS + 10 * SCRAPE_S) * 1000,
      intervalMs: 500,
      what: 'the rate window to fill',
    });

    const all = renderPodsQuery(rule, { series: 'http_requests_total', namespace: NAMESPACE, pods: [...pods.keys()] });
    expect(all).toBe(`sum(rate(http_requests_total{namespace="${NAMESPACE}",pod=~"pod-a|pod-b|pod-c"}[1m])) by (pod)`);
    const samples = await prometheus!.query(all);
    const measured = Object.fromEntries(samples.map((sample) => [sample.metric.pod, sample.value]));
    console.info(`per-pod http_requests_per_second via the shipped rule: ${JSON.stringify(measured)} for driven ${JSON.stringify(RATES)}`);
    expect(Object.keys(measured).sort()).toEqual(Object.keys(RATES).sort());
    for (const [pod, rate] of Object.entries(RATES)) {
      expect(measured[pod], pod).toBeGreaterThan(rate * 0.85);
      expect(measured[pod], pod).toBeLessThan(rate * 1.15);
    }

    const single = renderPodsQuery(rule, { series: 'http_requests_total', namespace: NAMESPACE, pods: ['pod-a'] });
    expect(single).toContain('pod="pod-a"');
    expect((await prometheus!.query(single)).map((s) => s.metric.pod)).toEqual(['pod-a']);

    // Prometheus scraped the service (it asks for OpenMetrics first) and found the counter by its name.
    const series = await prometheus!.query(`count(http_requests_total{namespace="${NAMESPACE}"}) by (pod)`);
    expect(series).toHaveLength(3);
    const probes = await prometheus!.query(`http_requests_total{path=~"/healthz|/readyz|/metrics"}`);
    expect(probes).toEqual([]);
    expect(traffic.reduce((sum, t) => sum + t.failed, 0)).toBe(0);
  });
});
