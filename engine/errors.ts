import type { ErrorCategory } from './types.ts';

/** Raised by the engine when a request exceeds `timeout_seconds` (headers and body together). */
export class RequestTimeoutError extends Error {
  readonly code = 'LOADBENCH_TIMEOUT';
  constructor(timeoutMs: number) {
    super(`no complete response within ${timeoutMs} ms`);
  }
}

/** Raised by the engine when a response body exceeds `max_body_bytes`. */
export class BodyTooLargeError extends Error {
  readonly code = 'LOADBENCH_BODY_TOO_LARGE';
  constructor(limit: number) {
    super(`response body larger than ${limit} bytes (workload.max_body_bytes)`);
  }
}

/** Raised by the engine when the target closes a connection before the response in flight is complete. */
export class SocketClosedError extends Error {
  readonly code = 'LOADBENCH_SOCKET_CLOSED';
  constructor() {
    super('other side closed the connection before the response was complete');
  }
}

const TIMEOUT_CODES = new Set([
  'LOADBENCH_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_CONNECT_TIMEOUT',
  'ETIMEDOUT',
]);
const RESET_CODES = new Set(['ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET', 'ECONNABORTED', 'LOADBENCH_SOCKET_CLOSED']);
const INVALID_CODES = new Set([
  'UND_ERR_RES_CONTENT_LENGTH_MISMATCH',
  'UND_ERR_HEADERS_OVERFLOW',
  'UND_ERR_INFO',
  'HPE_INVALID_CONSTANT',
]);

/**
 * Maps an error raised while sending a request or reading its response to a category.
 * Looks at `code` first (stable across Node and undici versions), then at the cause chain.
 */
export function classifyError(error: unknown): ErrorCategory {
  for (let e: unknown = error, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code !== 'string') continue;
    if (TIMEOUT_CODES.has(code)) return 'timeout';
    if (code === 'ECONNREFUSED') return 'connect_refused';
    if (RESET_CODES.has(code)) return 'connection_reset';
    if (code === 'LOADBENCH_BODY_TOO_LARGE') return 'body_too_large';
    if (INVALID_CODES.has(code) || code.startsWith('HPE_')) return 'invalid_response';
  }
  if ((error as { name?: unknown } | null)?.name === 'HTTPParserError') return 'invalid_response';
  return 'other';
}

/** Category of a completed HTTP response; `undefined` means the status counts as a success. */
export function classifyStatus(status: number): ErrorCategory | undefined {
  if (status >= 200 && status < 300) return undefined;
  if (status >= 400 && status < 500) return 'http_4xx';
  if (status >= 500 && status < 600) return 'http_5xx';
  if (status < 100 || status > 599) return 'invalid_response';
  return 'other';
}
