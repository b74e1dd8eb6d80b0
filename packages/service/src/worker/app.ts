import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Config } from '../config.ts';
import { errorHandler, notFoundHandler } from '../errors.ts';
import { Lifecycle } from '@podscale/fastify/lifecycle.ts';
import { fastifyLogger } from '../logger.ts';
import healthPlugin from '@podscale/fastify/plugins/health.ts';
import { rootRoute } from '../routes/root.ts';
import { SERVICE_NAME, SERVICE_VERSION } from '../version.ts';
import type { WorkerMetrics } from './metrics.ts';

/**
 * Readiness of a worker: ready once it has joined its consumer group (listening is not enough: a
 * worker that cannot reach the brokers serves nothing), draining from the first moment of a stop.
 */
export class WorkerLifecycle extends Lifecycle {
  override markListening(): void {
    // The health plugin calls this on listen; a worker becomes ready on joining instead.
  }

  markJoined(): void {
    super.markListening();
  }
}

export interface WorkerAppOptions {
  lifecycle: WorkerLifecycle;
  metrics: WorkerMetrics;
  logger?: FastifyBaseLogger;
}

/** The worker's HTTP side: probes, /metrics and `/`; no API routes, no listen, no signals. */
export async function buildWorkerApp(config: Config, { lifecycle, metrics, logger }: WorkerAppOptions): Promise<FastifyInstance> {
  const requestLogger = fastifyLogger(logger, config.logRequests);
  const app = Fastify({
    ...(requestLogger ? { loggerInstance: requestLogger } : { logger: false }),
    keepAliveTimeout: config.keepAliveTimeoutMs,
    requestTimeout: config.requestTimeoutMs,
    http: { headersTimeout: config.headersTimeoutMs },
  });
  app.setErrorHandler(errorHandler(logger));
  app.setNotFoundHandler(notFoundHandler);
  await app.register(healthPlugin, { lifecycle });
  await app.register(rootRoute, { service: SERVICE_NAME, version: SERVICE_VERSION, podName: config.podName, podNamespace: config.podNamespace });
  app.get('/metrics', { logLevel: 'silent' }, async (request, reply) => {
    const registry = request.headers.accept?.includes('application/openmetrics-text') ? metrics.registries.openMetrics : metrics.registries.text;
    void reply.type(registry.contentType);
    return registry.metrics();
  });
  return app;
}
