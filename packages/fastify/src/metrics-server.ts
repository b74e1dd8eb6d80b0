import Fastify, { type FastifyInstance } from 'fastify';
import type { MetricsRegistries } from './metrics/exposition.ts';
import type { RequestMetrics } from './metrics/request-metrics.ts';
import { scrapeHandler } from './plugins/metrics.ts';

/**
 * The scrape endpoint alone, for clusters that keep /metrics off the public port (METRICS_PORT).
 * It reads the main app's registries, so both ports would expose the same numbers.
 */
export function buildMetricsServer(requests: RequestMetrics, registries: MetricsRegistries): FastifyInstance {
  const server = Fastify({ logger: false });
  server.get('/metrics', scrapeHandler(requests, registries));
  return server;
}
