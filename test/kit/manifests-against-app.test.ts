/**
 * The kit against the app it deploys, started here: probe paths, the port, the env variables and
 * the HPA's custom metric must be ones the service really serves, reads and exposes. A rename on
 * either side fails here instead of leaving pods unready or the HPA without a metric.
 */
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENV_VARIABLES, loadConfig } from '@podscale/service/config.ts';
import { publishedMetricName } from '@podscale/cli/kit/adapter-rule.ts';
import { startApp, type RunningApp } from '../helpers/app.ts';
import { container, deployment, env, hpa, rule } from './shipped-kit.ts';

describe('cross-references against the real app', () => {
  let running: RunningApp;
  beforeAll(async () => {
    running = await startApp();
  });
  afterAll(() => running.close());

  it('probe paths exist on the app and answer on the named container port', async () => {
    for (const probe of [container.readinessProbe, container.livenessProbe, container.startupProbe]) {
      expect(running.app.hasRoute({ method: 'GET', url: probe.httpGet.path })).toBe(true);
      expect(container.ports.map((port) => port.name)).toContain(probe.httpGet.port);
      expect((await request(`${running.url}${probe.httpGet.path}`)).statusCode).toBe(200);
    }
  });

  it('the container port is the port the service listens on', () => {
    const http = container.ports.find((port) => port.name === 'http')!;
    expect(http.containerPort).toBe(Number(env.PORT));
    expect(loadConfig({ PORT: env.PORT! }).port).toBe(http.containerPort);
    expect(deployment.spec.template.metadata.annotations['prometheus.io/port']).toBe(String(http.containerPort));
    expect(running.app.hasRoute({ method: 'GET', url: deployment.spec.template.metadata.annotations['prometheus.io/path']! })).toBe(true);
  });

  it('every env variable the Deployment sets is one the config accepts, with a valid value', () => {
    for (const variable of container.env) expect(ENV_VARIABLES).toContain(variable.name);
    const literal = Object.fromEntries(container.env.filter((v) => v.value !== undefined).map((v) => [v.name, v.value!]));
    expect(() => loadConfig(literal)).not.toThrow();
    expect(container.env.find((v) => v.name === 'POD_NAME')!.valueFrom).toEqual({ fieldRef: { fieldPath: 'metadata.name' } });
    expect(container.env.find((v) => v.name === 'POD_NAMESPACE')!.valueFrom).toEqual({ fieldRef: { fieldPath: 'metadata.namespace' } });
  });

  it("the HPA's Pods metric is what the adapter rule publishes from a counter the app exposes", async () => {
    const exposed = await (await request(`${running.url}/metrics`)).body.text();
    const series = /^[a-z_]+/.exec(rule!.seriesQuery)![0];
    expect(exposed).toMatch(new RegExp(`^# TYPE ${series} counter$`, 'm'));
    const podsMetric = hpa.spec.metrics.find((metric) => metric.type === 'Pods')!.pods!;
    expect(publishedMetricName(rule!, series)).toBe(podsMetric.metric.name);
    expect(podsMetric.metric.name).toBe('http_requests_per_second');
    expect(podsMetric.target).toEqual({ type: 'AverageValue', averageValue: '100' });
  });
});
