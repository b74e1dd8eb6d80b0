import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { findObject, type KubeObject } from '@podscale/cli/kit/manifests.ts';
import { freePort, spawnService, ROOT, type StartedService } from './helpers/child.ts';
import { kustomizeBuild } from './helpers/kit.ts';

let service: StartedService;
let metricsPort: number;
beforeAll(async () => {
  metricsPort = await freePort();
  service = await spawnService({ METRICS_PORT: String(metricsPort), SHUTDOWN_DELAY_MS: '0' });
});
afterAll(() => service.process.stop());

describe('METRICS_PORT', () => {
  it('serves /metrics on its own port only, counting the traffic of the public port', async () => {
    await (await request(`${service.url}/`)).body.dump();
    const onPublic = await request(`${service.url}/metrics`);
    expect(onPublic.statusCode).toBe(404);
    await onPublic.body.dump();
    const scrape = await request(`http://127.0.0.1:${metricsPort}/metrics`);
    expect(scrape.statusCode).toBe(200);
    const text = await scrape.body.text();
    expect(text).toMatch(/^http_requests_total\{method="GET",path="\/",code="200"\} 1$/m);
    // The 404 for /metrics on the public port is an ordinary unmatched request.
    expect(text).toMatch(/^http_requests_total\{method="GET",path="unmatched",code="404"\} 1$/m);
  });

  it('the metrics-port overlay sets the variable, the container port and the scrape annotation together', () => {
    const deployment = findObject<KubeObject & { spec: { template: { metadata: { annotations: Record<string, string> }; spec: { containers: { env: { name: string; value?: string }[]; ports: { name: string; containerPort: number }[] }[] } } } }>(
      kustomizeBuild(join(ROOT, 'k8s/overlays/metrics-port')),
      'Deployment',
      'podscale',
    );
    const container = deployment.spec.template.spec.containers[0]!;
    const port = container.env.find((e) => e.name === 'METRICS_PORT')!.value;
    expect(container.ports).toContainEqual(expect.objectContaining({ name: 'metrics', containerPort: Number(port) }));
    expect(deployment.spec.template.metadata.annotations['prometheus.io/port']).toBe(port);
  });
});
