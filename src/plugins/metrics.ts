import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { createRegistries, negotiate, type MetricsRegistries } from '../metrics/exposition.ts';
import { RequestMetrics, type RouteSeries } from '../metrics/request-metrics.ts';

/** Routes registered with `config: { metrics: false }` (probes, /metrics) are not counted. */
declare module 'fastify' {
  interface FastifyContextConfig {
    metrics?: false;
    [ROUTE_SERIES]?: RouteSeries | null;
  }
  interface FastifyInstance {
    metrics: { requests: RequestMetrics; registries: MetricsRegistries };
  }
}

const ROUTE_SERIES = Symbol('podscale.routeSeries');

export interface MetricsPluginOptions {
  /** false when /metrics is served on a separate port (METRICS_PORT); counting still happens. */
  exposeRoute: boolean;
}

async function metricsPlugin(app: FastifyInstance, options: MetricsPluginOptions): Promise<void> {
  const requests = new RequestMetrics();
  const registries = createRegistries();
  app.decorate('metrics', { requests, registries });

  // Resolve each route's series once, at registration, so a request needs no string keys.
  app.addHook('onRoute', (route) => {
    const excluded = route.config?.metrics === false;
    route.config = { ...route.config, [ROUTE_SERIES]: excluded ? null : requests.route(route.url) };
  });

  app.addHook('onResponse', (request, reply, done) => {
    const series = request.routeOptions.config[ROUTE_SERIES];
    // undefined: the not-found handler or a request rejected before routing.
    if (series !== null) (series ?? requests.unmatched).record(request.method, reply.statusCode, reply.elapsedTime / 1000);
    done();
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
