import type { FastifyBaseLogger, FastifyError, FastifyReply, FastifyRequest } from 'fastify';

/** A client error raised by a handler; the error handler turns it into a 400 JSON body. */
export class BadRequestError extends Error {
  readonly statusCode = 400;
  readonly code = 'PODSCALE_BAD_REQUEST';
  override name = 'BadRequestError';
}

/**
 * Fastify's Ajv coerces "1e400" to Infinity and lets it past `maximum` (Infinity % 1 is NaN), so
 * numeric query parameters are checked for finiteness once more.
 */
export function requireFinite(value: number, name: string): number {
  if (!Number.isFinite(value)) throw new BadRequestError(`${name} must be a finite integer`);
  return value;
}

export interface ErrorBody {
  statusCode: number;
  error: string;
  code: string;
  message: string;
}

const STATUS_TEXT: Record<number, string> = {
  400: 'Bad Request',
  404: 'Not Found',
  405: 'Method Not Allowed',
  408: 'Request Timeout',
  413: 'Payload Too Large',
  414: 'URI Too Long',
  415: 'Unsupported Media Type',
  431: 'Request Header Fields Too Large',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

const MAX_ECHOED_URL = 200;

/**
 * Client errors (validation, body limit, content type, bad JSON) keep Fastify's precise message;
 * server errors are logged in full (to `logger`, with the request id) and answered with a generic
 * message, never a stack trace.
 */
export function errorHandler(logger: FastifyBaseLogger | undefined) {
  return (error: FastifyError, request: FastifyRequest, reply: FastifyReply): ErrorBody => {
    const statusCode = error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 600 ? error.statusCode : 500;
    void reply.code(statusCode);
    // 503 is the service shedding load on purpose (plugins/overload.ts): expected, not a fault.
    if (statusCode >= 500 && statusCode !== 503) {
      logger?.error({ reqId: request.id, err: error }, 'request failed');
      return { statusCode, error: STATUS_TEXT[500]!, code: 'PODSCALE_INTERNAL', message: 'internal server error' };
    }
    return { statusCode, error: STATUS_TEXT[statusCode] ?? 'Client Error', code: error.code ?? 'PODSCALE_CLIENT_ERROR', message: error.message };
  };
}

export function notFoundHandler(request: FastifyRequest, reply: FastifyReply): ErrorBody {
  void reply.code(404);
  const url = request.url.length > MAX_ECHOED_URL ? `${request.url.slice(0, MAX_ECHOED_URL)}…` : request.url;
  return { statusCode: 404, error: STATUS_TEXT[404]!, code: 'PODSCALE_NOT_FOUND', message: `no route for ${request.method} ${url}` };
}
