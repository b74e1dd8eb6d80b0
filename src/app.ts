import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Config } from './config.ts';
import { errorHandler, notFoundHandler } from './errors.ts';
import { Lifecycle } from './lifecycle.ts';
import healthPlugin from './plugins/health.ts';
import metricsPlugin from './plugins/metrics.ts';
import responseHeadersPlugin from './plugins/response-headers.ts';
import { delayRoute } from './routes/delay.ts';
import { echoRoute } from './routes/echo.ts';
import { rootRoute } from './routes/root.ts';
import { workRoute } from './routes/work.ts';
import { SERVICE_NAME, SERVICE_VERSION } from './version.ts';

declare module 'fastify' {
  interface FastifyInstance {
    lifecycle: Lifecycle;
  }
}

export interface BuildOptions {
  /** A pino logger (the process entry makes one); omitted = no logging, as tests want. */
  logger?: FastifyBaseLogger;
}

/**
 * Socket timeouts, with the reasoning that sets them:
 * - keep-alive outlives the idle timeout of the load balancers in front (AWS ALB/NLB 60 s, GCP 600 s
 *   uses its own), otherwise the balancer reuses a socket the pod just closed and gets a reset;
 * - headers must arrive within 10 s so slow-header (slowloris) clients cannot hold sockets;
 * - a whole request body must arrive within 30 s — the body limit is small, so that is generous.
 */
export const KEEP_ALIVE_TIMEOUT_MS = 65_000;
export const HEADERS_TIMEOUT_MS = 10_000;
export const REQUEST_TIMEOUT_MS = 30_000;
export const MAX_PARAM_LENGTH = 100;

/** Builds the whole service without listening or touching signals: the factory tests use. */
export async function buildApp(config: Config, options: BuildOptions = {}): Promise<FastifyInstance> {
  const app = Fastify({
    ...(options.logger ? { loggerInstance: options.logger } : { logger: false }),
    logController: new LogController({ disableRequestLogging: !config.logRequests }),
    requestIdHeader: 'x-request-id',
    bodyLimit: config.bodyLimitBytes,
    routerOptions: { maxParamLength: MAX_PARAM_LENGTH },
    keepAliveTimeout: KEEP_ALIVE_TIMEOUT_MS,
    requestTimeout: REQUEST_TIMEOUT_MS,
    // During close, requests already on open sockets are served (with Connection: close), not 503'd.
    return503OnClosing: false,
    onProtoPoisoning: 'error',
    onConstructorPoisoning: 'error',
  }).withTypeProvider<TypeBoxTypeProvider>();
  app.server.headersTimeout = HEADERS_TIMEOUT_MS;

  const lifecycle = new Lifecycle();
  app.decorate('lifecycle', lifecycle);
  app.setErrorHandler(errorHandler);
  app.setNotFoundHandler(notFoundHandler);

  await app.register(metricsPlugin, { exposeRoute: config.metricsPort === undefined });
  await app.register(healthPlugin, { lifecycle });
  await app.register(responseHeadersPlugin, { lifecycle, podName: config.podName });

  await app.register(rootRoute, {
    service: SERVICE_NAME,
    version: SERVICE_VERSION,
    podName: config.podName,
    podNamespace: config.podNamespace,
  });
  await app.register(workRoute, { maxMs: config.workMaxMs });
  await app.register(delayRoute, { maxMs: config.delayMaxMs });
  await app.register(echoRoute);
  return app;
}
