/**
 * What HTTP/1.1 allows in a request line and header lines: one source for the config schema
 * (which refuses bad values with a message) and the wire format (which never writes them).
 */

/** RFC 9110 `token` (tchar+): what a method and a header name may be. */
export const HTTP_TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** A field value as loadbench writes it: visible Latin-1 characters, spaces and tabs; no CR, LF, NUL or other control character. */
export const FIELD_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;

/** The request methods loadbench sends. */
export const HTTP_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'] as const;

/** One of {@link HTTP_METHODS}. */
export type HttpMethod = (typeof HTTP_METHODS)[number];

/** Methods whose requests carry no body. */
export const BODYLESS_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD']);

/** Methods that always send a Content-Length, even for an empty body. */
export const PAYLOAD_METHODS: ReadonlySet<string> = new Set(['POST', 'PUT', 'PATCH']);

/**
 * Header names the engine frames itself, with the reason a user value cannot be used:
 * it sets content-length from the body of each request and never sends a chunked one.
 */
export const ENGINE_FRAMED_HEADERS: Readonly<Record<string, string>> = {
  'content-length': 'loadbench sets content-length from the body of each request',
  'transfer-encoding': 'loadbench sends every body with a content-length, never chunked',
};

/**
 * Why `value` cannot be sent in a header line, as "found ..., expected ..." without quoting the
 * value (it may be a credential); undefined when it can. `what` names the value in the message.
 */
export function fieldValueProblem(value: string, what: string): string | undefined {
  const at = value.search(/[^\t\x20-\x7e\x80-\xff]/);
  if (at === -1) return undefined;
  if (/[\r\n]/.test(value)) return `found a value with a line break, expected a single-line ${what}`;
  if (value.includes('\0')) return `found a value with a NUL character, expected a ${what} without control characters`;
  const code = value.codePointAt(at)!;
  const hex = `U+${code.toString(16).toUpperCase().padStart(4, '0')}`;
  if (code < 0x20 || code === 0x7f) {
    return `found a value with the control character ${hex}, expected a ${what} without control characters (tab is allowed)`;
  }
  return `found a value with the character ${hex}, expected a ${what} of Latin-1 characters only (up to U+00FF)`;
}
