import type * as Http from 'node:http';
import type { IncomingMessage, OutgoingHttpHeader, OutgoingHttpHeaders, ServerResponse as ServerResponseType } from 'node:http';
import { createRequire } from 'node:module';
import type { Lifecycle } from './lifecycle.ts';
import type { RouteSeries } from './metrics/request-metrics.ts';

// require(), not `import … from 'node:http'`: an ES module import of a built-in makes Node build
// its ESM facade, which reads every export, and node:http's WebSocket/EventSource getters load
// Node's bundled undici — 45 ms of a 280 ms start-up in the profile, for nothing the service uses.
const { ServerResponse } = createRequire(import.meta.url)('node:http') as typeof Http;

export const SERVED_BY_HEADER = 'x-served-by';

export interface ServerResponseOptions {
  lifecycle: Lifecycle;
  podName: string;
}

/** The two per-request jobs the server's response does itself instead of a Fastify hook phase each. */
export interface PodscaleResponse extends ServerResponseType<IncomingMessage> {
  /**
   * Counts this response into `series` (method and status code as they are when the response
   * ends; duration from this call to the end). The metrics plugin calls it from the route's first
   * onRequest hook, where Fastify itself starts a reply's elapsed time.
   */
  countInto(series: RouteSeries): void;
}

/**
 * The server's ServerResponse class (Fastify's `http.ServerResponse` option, see app.ts).
 *
 * Headers: `x-served-by` lets a load generator split traffic per pod; while draining,
 * `Connection: close` makes keep-alive clients reconnect — through the Service, to a pod that is
 * staying — instead of reusing a socket this pod is about to close. They go into the header
 * object Fastify passes to writeHead: that covers every response (routes, errors, 404s, requests
 * Fastify rejects before routing), decides `Connection: close` at the moment the response is sent
 * (so requests in flight when the drain begins get it too), and costs one property write, where
 * an onSend hook cost a hook phase per request (~2 % of a hello request's CPU in the profile).
 *
 * Counting: recorded when the response ends. A Fastify onResponse hook cost a hook phase plus
 * the 'finish' and 'error' listeners Fastify adds and removes on every response to run it
 * (design notes §5, docs/performance.md). Responses Fastify's `inject()` produces do not come
 * through this class and are not counted.
 */
export function podscaleResponse({ lifecycle, podName }: ServerResponseOptions): typeof ServerResponseType {
  class Response extends ServerResponse<IncomingMessage> implements PodscaleResponse {
    // Set only on counted responses, never initialised per instance: with no field initialisers
    // the class keeps V8's default derived constructor, which is skipped at construction; two
    // fields in it cost ~1 % of a hello request in the profile.
    declare podscaleSeries: RouteSeries | undefined;
    declare podscaleStartedAt: number;

    countInto(series: RouteSeries): void {
      this.podscaleSeries = series;
      this.podscaleStartedAt = performance.now();
    }

    override writeHead(statusCode: number, reasonOrHeaders?: string | OutgoingHttpHeaders | OutgoingHttpHeader[], maybeHeaders?: OutgoingHttpHeaders | OutgoingHttpHeader[]): this {
      const headers = typeof reasonOrHeaders === 'string' ? maybeHeaders : reasonOrHeaders;
      if (headers && !Array.isArray(headers)) {
        headers[SERVED_BY_HEADER] = podName;
        if (lifecycle.draining) headers.connection = 'close';
      } else if (!this.headersSent) {
        // writeHead(status) alone, or raw header arrays: rare (Node's implicit headers, streams).
        this.setHeader(SERVED_BY_HEADER, podName);
        if (lifecycle.draining) this.setHeader('connection', 'close');
      }
      return typeof reasonOrHeaders === 'string' ? super.writeHead(statusCode, reasonOrHeaders, maybeHeaders) : super.writeHead(statusCode, reasonOrHeaders);
    }

    // Three parameters passed through as given, as Fastify calls it (`end(payload, null, null)`).
    override end(chunk?: unknown, encoding?: unknown, callback?: unknown): this {
      const ended = (super.end as (chunk: unknown, encoding: unknown, callback: unknown) => this)(chunk, encoding, callback);
      const series = this.podscaleSeries;
      if (series !== undefined) {
        // Once: a second end() is a no-op for Node and must be one here too.
        this.podscaleSeries = undefined;
        series.record(this.req.method!, this.statusCode, (performance.now() - this.podscaleStartedAt) / 1000);
      }
      return ended;
    }
  }
  return Response as typeof ServerResponseType;
}
