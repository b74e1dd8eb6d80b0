import type { ErrorKind } from './stats.ts';

const REFUSED = new Set(['ECONNREFUSED']);
const RESET = new Set(['ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET', 'UND_ERR_CLOSED', 'ECONNABORTED']);
const TIMEOUT = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'UND_ERR_CONNECT_TIMEOUT', 'ETIMEDOUT']);
/** kafkajs error classes (by name: kafkajs is loaded only for kafka:// runs) that mean "too slow". */
const KAFKA_TIMEOUT = new Set(['KafkaJSRequestTimeoutError', 'KafkaJSTimeout', 'KafkaJSLockTimeout']);

/** Sorts a failed request (or produce) into the kinds the report counts separately. */
export function classifyError(error: unknown): ErrorKind {
  const { code, name, cause, type, message } = (error ?? {}) as { code?: unknown; name?: string; cause?: unknown; type?: string; message?: string };
  if (name === 'TimeoutError' || (typeof code === 'string' && TIMEOUT.has(code))) return 'timeout';
  if (typeof code === 'string' && REFUSED.has(code)) return 'refused';
  if (typeof code === 'string' && RESET.has(code)) return 'reset';
  if (name && KAFKA_TIMEOUT.has(name)) return 'timeout';
  // The broker's own error codes: a produce the broker could not complete within its timeout.
  if (name === 'KafkaJSProtocolError' && type === 'REQUEST_TIMED_OUT') return 'timeout';
  // kafkajs keeps the socket's code on connection errors (handled above); these two carry none.
  if (name === 'KafkaJSConnectionClosedError') return 'reset';
  if (name === 'KafkaJSConnectionError' && message === 'Connection timeout') return 'timeout';
  // undici wraps some socket errors, and kafkajs' KafkaJSNumberOfRetriesExceeded wraps the last
  // attempt's error: the cause says what went wrong.
  if (cause && cause !== error) return classifyError(cause);
  return 'other';
}
