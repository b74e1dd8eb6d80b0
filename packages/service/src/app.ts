import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Config } from './config.ts';
import { errorHandler, notFoundHandler } from './errors.ts';
import { Lifecycle } from '@podscale/fastify/lifecycle.ts';
import { fastifyLogger } from './logger.ts';
import healthPlugin from '@podscale/fastify/plugins/health.ts';
import metricsPlugin from '@podscale/fastify/plugins/metrics.ts';
import overloadPlugin from '@podscale/fastify/plugins/overload.ts';
import { delayRoute } from './routes/delay.ts';
import { echoRoute } from './routes/echo.ts';
import { rootRoute } from './routes/root.ts';
import { workRoute } from './routes/work.ts';
import { podscaleResponse } from '@podscale/fastify/server-response.ts';
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
 * Socket timeouts (all from config), with the reasoning behind the defaults:
 * - keep-alive (65 s) outlives the 60 s idle timeout of common load balancers, so the balancer
 *   closes first and never sends a request on a socket the pod has just closed;
 * - headers must arrive within 10 s, so slow-header (slowloris) clients cannot hold sockets;
 * - a whole request within 30 s — the body limit is small, so that is generous.
 * Node checks these on an interval (default 30 s); 1 s makes the limits mean what they say.
 */
export const MAX_PARAM_LENGTH = 100;
export const CONNECTIONS_CHECKING_INTERVAL_MS = 1000;

/** Builds the whole service without listening or touching signals: the factory tests use. */
export async function buildApp(config: Config, options: BuildOptions = {}): Promise<FastifyInstance> {
  const lifecycle = new Lifecycle();
  const requestLogger = fastifyLogger(options.logger, config.logRequests);
  const app = Fastify({
    ...(requestLogger ? { loggerInstance: requestLogger } : { logger: false }),
    requestIdHeader: 'x-request-id',
    bodyLimit: config.bodyLimitBytes,
    routerOptions: { maxParamLength: MAX_PARAM_LENGTH },
    // The route schemas are ours, fixed and tested: not checking them against JSON Schema's
    // meta-schema spares compiling that meta-schema at start-up (37 ms of ~240 in the profile).
    ajv: { customOptions: { validateSchema: false } },
    keepAliveTimeout: config.keepAliveTimeoutMs,
    requestTimeout: config.requestTimeoutMs,
    http: {
      headersTimeout: config.headersTimeoutMs,
      connectionsCheckingInterval: CONNECTIONS_CHECKING_INTERVAL_MS,
      // x-served-by, Connection: close while draining, and the request metrics (server-response.ts).
      ServerResponse: podscaleResponse({ lifecycle, podName: config.podName }),
    },
    // During close, requests already on open sockets are served (with Connection: close), not 503'd.
    return503OnClosing: false,
    onProtoPoisoning: 'error',
    onConstructorPoisoning: 'error',
  }).withTypeProvider<TypeBoxTypeProvider>();

  app.decorate('lifecycle', lifecycle);
  app.setErrorHandler(errorHandler(options.logger));

  await app.register(metricsPlugin, { exposeRoute: config.metricsPort === undefined });
  await app.register(overloadPlugin, { maxEventLoopDelayMs: config.overloadMaxEventLoopDelayMs });
  await app.register(healthPlugin, { lifecycle });

  await app.register(rootRoute, {
    service: SERVICE_NAME,
    version: SERVICE_VERSION,
    podName: config.podName,
    podNamespace: config.podNamespace,
  });
  await app.register(workRoute, { maxMs: config.workMaxMs });
  await app.register(delayRoute, { maxMs: config.delayMaxMs });
  await app.register(echoRoute);
  // Requests no route matched, in a scope of their own: only they run the hook that counts them
  // under path="unmatched" (every route has its own, plugins/metrics.ts).
  await app.register(async (notFound) => {
    notFound.addHook('onRequest', app.metrics.countUnmatched);
    notFound.setNotFoundHandler(notFoundHandler);
  });
  return app;
}
