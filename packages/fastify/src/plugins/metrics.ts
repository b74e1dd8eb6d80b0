import type { FastifyInstance, FastifyReply, FastifyRequest, onRequestHookHandler } from 'fastify';
import fp from 'fastify-plugin';
import { createRegistries, negotiate, type MetricsRegistries } from '../metrics/exposition.ts';
import { RequestMetrics, type RouteSeries } from '../metrics/request-metrics.ts';
import type { PodscaleResponse } from '../server-response.ts';
import { hookList } from './route-hooks.ts';

/** Routes registered with `config: { metrics: false }` (probes, /metrics) are not counted. */
declare module 'fastify' {
  interface FastifyContextConfig {
    metrics?: false;
  }
  interface FastifyInstance {
    metrics: {
      requests: RequestMetrics;
      registries: MetricsRegistries;
      /** The onRequest hook for requests no route matched (app.ts adds it to the not-found scope). */
      countUnmatched: onRequestHookHandler;
    };
  }
}

export interface MetricsPluginOptions {
  /** false when /metrics is served on a separate port (METRICS_PORT); counting still happens. */
  exposeRoute: boolean;
}

/**
 * An onRequest hook bound to one route's series: a request does no lookup to find them, and the
 * server's response records itself when it ends (server-response.ts), so no onResponse phase runs.
 * Under `inject()` the response is not the server's and has no countInto: nothing is counted.
 */
function countInto(series: RouteSeries): onRequestHookHandler {
  return (_request, reply, done) => {
    (reply.raw as Partial<PodscaleResponse>).countInto?.(series);
    done();
  };
}

async function metricsPlugin(app: FastifyInstance, options: MetricsPluginOptions): Promise<void> {
  const requests = new RequestMetrics();
  const registries = createRegistries();
  app.decorate('metrics', { requests, registries, countUnmatched: countInto(requests.unmatched) });

  // Each counted route gets its own hook, bound to its series once, at registration. (A global
  // hook had to find the series through request.routeOptions, a getter that builds an object of
  // twelve fields on every call; excluded routes, the probes, run no hook at all.) It goes first
  // among the route's onRequest hooks, so the 503s of load shedding are counted too.
  app.addHook('onRoute', (route) => {
    if (route.config?.metrics === false) return;
    route.onRequest = [countInto(requests.route(route.url)), ...hookList(route.onRequest)];
  });

  if (options.exposeRoute) app.get('/metrics', { config: { metrics: false, alwaysServe: true } }, scrapeHandler(requests, registries));
}

/** Serves a scrape in the format the Accept header asks for; also used by the metrics-only server. */
export function scrapeHandler(requests: RequestMetrics, registries: MetricsRegistries) {
  return async (request: FastifyRequest, reply: FastifyReply): Promise<string> => {
    const scrape = negotiate(requests, registries, request.headers.accept);
    void reply.type(scrape.contentType);
    return scrape.render();
  };
}

export default fp(metricsPlugin, { name: 'podscale-metrics', fastify: '5.x' });
