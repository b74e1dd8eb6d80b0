import type { FastifyInstance, FastifyReply, FastifyRequest, onResponseHookHandler } from 'fastify';
import fp from 'fastify-plugin';
import { createRegistries, negotiate, type MetricsRegistries } from '../metrics/exposition.ts';
import { RequestMetrics, type RouteSeries } from '../metrics/request-metrics.ts';

/** Routes registered with `config: { metrics: false }` (probes, /metrics) are not counted. */
declare module 'fastify' {
  interface FastifyContextConfig {
    metrics?: false;
  }
  interface FastifyInstance {
    metrics: {
      requests: RequestMetrics;
      registries: MetricsRegistries;
      /** The onResponse hook for requests no route matched (app.ts adds it to the not-found scope). */
      countUnmatched: onResponseHookHandler;
    };
  }
}

export interface MetricsPluginOptions {
  /** false when /metrics is served on a separate port (METRICS_PORT); counting still happens. */
  exposeRoute: boolean;
}

/** An onResponse hook bound to one route's series: a request does no lookup to find them. */
function countInto(series: RouteSeries): onResponseHookHandler {
  return (request, reply, done) => {
    series.record(request.method, reply.statusCode, reply.elapsedTime / 1000);
    done();
  };
}

async function metricsPlugin(app: FastifyInstance, options: MetricsPluginOptions): Promise<void> {
  const requests = new RequestMetrics();
  const registries = createRegistries();
  app.decorate('metrics', { requests, registries, countUnmatched: countInto(requests.unmatched) });

  // Each counted route gets its own hook, bound to its series once, at registration. (A global
  // hook had to find the series through request.routeOptions, a getter that builds an object of
  // twelve fields on every call; excluded routes, the probes, now run no hook at all.)
  app.addHook('onRoute', (route) => {
    if (route.config?.metrics === false) return;
    const hooks = route.onResponse === undefined ? [] : Array.isArray(route.onResponse) ? route.onResponse : [route.onResponse];
    route.onResponse = [...hooks, countInto(requests.route(route.url))];
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
