/**
 * Prometheus and prometheus-adapter agree: the adapter's rate window and relist interval fit the
 * scrape interval (a shorter window reads no rate at all), and it points at the shipped Prometheus
 * and rule, served through the APIService the HPA reads.
 */
import { describe, expect, it } from 'vitest';
import { parseDuration } from '@podscale/hpa/duration.ts';
import { rateWindowSeconds } from '@podscale/cli/kit/adapter-rule.ts';
import { findObject, type KubeObject } from '@podscale/cli/kit/manifests.ts';
import { adapter, kit, prometheusConfig, rule } from './shipped-kit.ts';

describe('Prometheus and the adapter agree', () => {
  const scrapeSeconds = parseDuration(prometheusConfig.global.scrape_interval);

  it("the adapter's rate window spans at least two scrape intervals", () => {
    expect(rateWindowSeconds(rule!)).toBeGreaterThanOrEqual(2 * scrapeSeconds);
  });

  it("the adapter's relist interval is at least one scrape interval", () => {
    const args = adapter.spec.template.spec.containers[0]!.args!;
    const relist = args.find((arg) => arg.startsWith('--metrics-relist-interval='))!.split('=')[1]!;
    expect(parseDuration(relist)).toBeGreaterThanOrEqual(scrapeSeconds);
  });

  it('the adapter points at the shipped Prometheus Service and reads the shipped rule', () => {
    const args = adapter.spec.template.spec.containers[0]!.args!;
    expect(args).toContain('--prometheus-url=http://prometheus.podscale.svc:9090/');
    expect(args).toContain('--config=/etc/adapter/config.yaml');
    const service = findObject<KubeObject & { spec: { ports: { port: number }[] } }>(kit, 'Service', 'prometheus');
    expect(service.spec.ports[0]!.port).toBe(9090);
    const apiService = findObject<KubeObject & { spec: { service: { name: string; namespace: string } } }>(kit, 'APIService', 'v1beta1.custom.metrics.k8s.io');
    expect(apiService.spec.service).toMatchObject({ name: adapter.metadata.name, namespace: adapter.metadata.namespace });
  });
});
