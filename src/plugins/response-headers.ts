import { ServerResponse, type IncomingMessage, type OutgoingHttpHeader, type OutgoingHttpHeaders } from 'node:http';
import type { Lifecycle } from '../lifecycle.ts';

export const SERVED_BY_HEADER = 'x-served-by';

export interface ResponseHeadersOptions {
  lifecycle: Lifecycle;
  podName: string;
}

/**
 * Headers every response carries. `x-served-by` lets a load generator split traffic per pod.
 * While draining, `Connection: close` makes keep-alive clients reconnect — through the Service, to
 * a pod that is staying — instead of reusing a socket this pod is about to close.
 *
 * Not a Fastify hook: the server's own ServerResponse class (Fastify's `http.ServerResponse`
 * option, see app.ts) adds them to the header object Fastify passes to writeHead. That covers every
 * response — routes, errors, 404s, requests Fastify rejects before routing — decides
 * `Connection: close` at the moment the response is sent (so requests in flight when the drain
 * begins get it too), and costs one property write, where an onSend hook cost a hook phase per
 * request (~2 % of a hello request's CPU in the profile).
 */
export function responseWithHeaders({ lifecycle, podName }: ResponseHeadersOptions): typeof ServerResponse {
  class PodscaleResponse extends ServerResponse<IncomingMessage> {
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
  }
  return PodscaleResponse as typeof ServerResponse;
}
