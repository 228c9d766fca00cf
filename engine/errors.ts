/**
 * The engine's errors, in one module. A request that fails with one of loadbench's own errors is
 * classified by its class (each carries its category); Node's system errors (ECONNREFUSED,
 * ECONNRESET, EPIPE...) have nothing but a `code` string, so those are classified by code.
 */
import type { ErrorCategory } from './types.ts';

/** A request failure raised by the engine itself; its class decides the error category. */
export abstract class RequestError extends Error {
  /** The category a request failing with this error is counted in. */
  abstract readonly category: ErrorCategory;
}

/** Raised by the engine when a request exceeds `timeout_seconds` (headers and body together). */
export class RequestTimeoutError extends RequestError {
  readonly category = 'timeout';
  constructor(timeoutMs: number) {
    super(`no complete response within ${timeoutMs} ms`);
  }
}

/** Raised by the engine when a response body exceeds `max_body_bytes`. */
export class BodyTooLargeError extends RequestError {
  readonly category = 'body_too_large';
  constructor(limit: number) {
    super(`response body larger than ${limit} bytes (workload.max_body_bytes)`);
  }
}

/** Raised by the engine when the target closes a connection before the response in flight is complete. */
export class SocketClosedError extends RequestError {
  readonly category = 'connection_reset';
  constructor() {
    super('other side closed the connection before the response was complete');
  }
}

/**
 * A malformed response. `code` names the defect after llhttp's error codes (HPE_INVALID_STATUS,
 * HPE_HEADER_OVERFLOW...), so that a message can be matched with what other HTTP tools report.
 */
export class HttpParseError extends RequestError {
  readonly category = 'invalid_response';
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Thrown into the requests still in flight when a level is cut off (its end in a closed loop, an
 * interrupt). Not a failure of the target: such requests are not counted at all.
 */
export class LevelEndedError extends Error {
  constructor() {
    super('level ended');
  }
}

/** Node's system error codes (a `code` string is all they have) and their categories. */
const SYSTEM_CODES: ReadonlyMap<string, ErrorCategory> = new Map([
  ['ETIMEDOUT', 'timeout'],
  ['ECONNREFUSED', 'connect_refused'],
  ['ECONNRESET', 'connection_reset'],
  ['EPIPE', 'connection_reset'],
  ['ECONNABORTED', 'connection_reset'],
]);

/**
 * Maps an error raised while sending a request or reading its response to a category: the
 * engine's own errors by class, Node's system errors by `code` (also along the `cause` chain).
 */
export function classifyError(error: unknown): ErrorCategory {
  for (let e: unknown = error, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    if (e instanceof RequestError) return e.category;
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') {
      const category = SYSTEM_CODES.get(code);
      if (category) return category;
    }
  }
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
