import type { ErrorKind } from './stats.ts';

const REFUSED = new Set(['ECONNREFUSED']);
const RESET = new Set(['ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET', 'UND_ERR_CLOSED', 'ECONNABORTED']);
const TIMEOUT = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'UND_ERR_CONNECT_TIMEOUT', 'ETIMEDOUT']);

/** Sorts a failed request into the kinds the report counts separately. */
export function classifyError(error: unknown): ErrorKind {
  const { code, name, cause } = (error ?? {}) as { code?: string; name?: string; cause?: unknown };
  if (name === 'TimeoutError' || (code && TIMEOUT.has(code))) return 'timeout';
  if (code && REFUSED.has(code)) return 'refused';
  if (code && RESET.has(code)) return 'reset';
  // undici wraps some socket errors; the cause carries the system code.
  if (cause && cause !== error) return classifyError(cause);
  return 'other';
}
