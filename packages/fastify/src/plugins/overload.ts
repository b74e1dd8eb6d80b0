import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { FastifyInstance, onRequestHookHandler } from 'fastify';
import fp from 'fastify-plugin';
import { hookList } from './route-hooks.ts';

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

/** The lag is sampled by a 10 ms timer and re-evaluated 4× a second: shedding starts and stops within 250 ms. */
const RESOLUTION_MS = 10;
const SAMPLE_INTERVAL_MS = 250;

/**
 * Load shedding: while the event loop lags more than the threshold, API requests get an immediate
 * 503 with Retry-After instead of queueing behind the backlog, so the pod keeps answering the
 * requests it does accept in bounded time. Probes and /metrics are always served: a liveness
 * probe failing under load would make kubelet kill pods exactly when they are needed, and the
 * HPA must keep seeing the load. Readiness does not change with load either (only with the
 * lifecycle): an overloaded pod taken out of the Service would push its load onto the others.
 *
 * The lag is measured as @fastify/under-pressure measures it (the mean delay of the sampling
 * timer, less its resolution; a window without a single sample means the loop was blocked
 * throughout), but the check is a hook on each sheddable route, added at registration: the
 * plugin's global hook read request.routeOptions (a getter that builds an object per call) on
 * every request to find the route's handler, ~2 % of a hello request's CPU. Unmatched requests
 * (404) are not shed: answering them costs less than the 503 would.
 */
async function overloadPlugin(app: FastifyInstance, { maxEventLoopDelayMs }: OverloadOptions): Promise<void> {
  if (maxEventLoopDelayMs === 0) return;
  const histogram = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
  histogram.enable();
  let overloaded = false;
  const sampler = setInterval(() => {
    const lagMs = histogram.count === 0 ? Infinity : Math.max(0, histogram.mean / 1e6 - RESOLUTION_MS);
    overloaded = lagMs > maxEventLoopDelayMs;
    histogram.reset();
  }, SAMPLE_INTERVAL_MS);
  sampler.unref();
  app.addHook('onClose', async () => {
    clearInterval(sampler);
    histogram.disable();
  });

  const shed: onRequestHookHandler = (_request, reply, done) => {
    if (!overloaded) return done();
    void reply.header('retry-after', RETRY_AFTER_SECONDS);
    done(new OverloadedError());
  };
  // Routes registered from here on (app.ts registers this plugin before the probes and the API).
  app.addHook('onRoute', (route) => {
    if (route.config?.alwaysServe) return;
    route.onRequest = [...hookList(route.onRequest), shed];
  });
}

export default fp(overloadPlugin, { name: 'podscale-overload', fastify: '5.x' });
