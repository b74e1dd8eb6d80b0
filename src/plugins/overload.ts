import underPressure from '@fastify/under-pressure';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';

export interface OverloadOptions {
  /** 0 disables shedding. */
  maxEventLoopDelayMs: number;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Routes that must answer even when the service sheds load (probes, /metrics). */
    alwaysServe?: true;
  }
}

export const RETRY_AFTER_SECONDS = 1;

export class OverloadedError extends Error {
  readonly statusCode = 503;
  readonly code = 'PODSCALE_OVERLOADED';
  override name = 'OverloadedError';

  constructor() {
    super(`overloaded, retry in ${RETRY_AFTER_SECONDS} s`);
  }
}

/**
 * Load shedding: while the event loop lags more than the threshold, API requests get an immediate
 * 503 with Retry-After instead of queueing behind the backlog, so the pod keeps answering the
 * requests it does accept in bounded time. Probes and /metrics are always served: a liveness
 * probe failing under load would make kubelet kill pods exactly when they are needed, and the
 * HPA must keep seeing the load. Readiness does not change with load either (only with the
 * lifecycle): an overloaded pod taken out of the Service would push its load onto the others.
 */
async function overloadPlugin(app: FastifyInstance, { maxEventLoopDelayMs }: OverloadOptions): Promise<void> {
  if (maxEventLoopDelayMs === 0) return;
  await app.register(underPressure, {
    maxEventLoopDelay: maxEventLoopDelayMs,
    // Re-evaluated 4× a second: shedding starts and stops within 250 ms of the lag changing.
    sampleInterval: 250,
    retryAfter: RETRY_AFTER_SECONDS,
    // Returning nothing lets the request through; a rejection goes to the error handler.
    pressureHandler: (request, reply) => {
      if (request.routeOptions.config.alwaysServe) return undefined;
      void reply.header('retry-after', RETRY_AFTER_SECONDS);
      return Promise.reject(new OverloadedError());
    },
  });
}

export default fp(overloadPlugin, { name: 'podscale-overload', fastify: '5.x' });
