/**
 * The engine's HTTP/1.1 wire format: requests built once as bytes, responses parsed straight
 * from the socket's read buffer. It does only what a closed-loop load generator needs (one
 * request in flight per connection, keep-alive, Content-Length, chunked and close-delimited
 * bodies, 1xx skipped), so that no string, object or buffer is allocated per response unless
 * a check asks for the headers and body. See perf/README.md for why this replaced undici.
 */
import { maxHeaderSize } from 'node:http';
import { HttpParseError } from './errors.ts';
import { FIELD_VALUE, HTTP_TOKEN, PAYLOAD_METHODS } from './http-syntax.ts';

/** Receives what the parser finds; implemented by the engine's connection, called synchronously. */
export interface ResponseHandler {
  /** Status line and headers complete. `headers` is filled only when the parser collects them. */
  onResponseHead(status: number): void;
  /** Body bytes `buf[start, end)`; only valid during the call. Returns false to stop parsing (the connection is being dropped). */
  onResponseBody(buf: Buffer, start: number, end: number): boolean;
  /** The response ended; `keepAlive` false means the connection must not carry another request. */
  onResponseEnd(keepAlive: boolean): void;
}

const CR = 13;
const LF = 10;
const SP = 32;
const HT = 9;
const COLON = 58;

const enum State {
  Head,
  BodyLength,
  ChunkSize,
  ChunkSizeSpace,
  ChunkExtension,
  ChunkData,
  ChunkDataEnd,
  Trailers,
  BodyUntilClose,
  Done,
}

/** 1 for the bytes of a token (RFC 9110, 5.6.2), which is what a field name must be. */
const TCHAR = new Uint8Array(256);
for (const c of "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ") TCHAR[c.charCodeAt(0)] = 1;

/** Bounds on a number before its next digit is added, so that * 10 or * 16 stays exact (below 2^53). */
const MAX_LENGTH_BEFORE_DIGIT = 1e14;
const MAX_CHUNK_SIZE_BEFORE_DIGIT = 2 ** 44;

/** Lower-cases an ASCII letter byte. */
const lower = (b: number): number => (b >= 65 && b <= 90 ? b + 32 : b);

function equalsLower(buf: Buffer, start: number, end: number, name: Buffer): boolean {
  if (end - start !== name.length) return false;
  for (let i = 0; i < name.length; i++) if (lower(buf[start + i]!) !== name[i]) return false;
  return true;
}

/** Whether the comma-separated token list `buf[start, end)` holds `token` (lower case), case-insensitively. */
function hasToken(buf: Buffer, start: number, end: number, token: Buffer): boolean {
  let i = start;
  while (i < end) {
    while (i < end && (buf[i] === SP || buf[i] === HT || buf[i] === 44)) i++;
    let j = i;
    while (j < end && buf[j] !== 44) j++;
    let k = j;
    while (k > i && (buf[k - 1] === SP || buf[k - 1] === HT)) k--;
    if (equalsLower(buf, i, k, token)) return true;
    i = j + 1;
  }
  return false;
}

/** Whether the last coding of a Transfer-Encoding value is `chunked`. */
function lastTokenIs(buf: Buffer, start: number, end: number, token: Buffer): boolean {
  let k = end;
  while (k > start && (buf[k - 1] === SP || buf[k - 1] === HT)) k--;
  let i = k;
  while (i > start && buf[i - 1] !== 44) i--;
  while (i < k && (buf[i] === SP || buf[i] === HT)) i++;
  return equalsLower(buf, i, k, token);
}

const CONTENT_LENGTH = Buffer.from('content-length');
const TRANSFER_ENCODING = Buffer.from('transfer-encoding');
const CONNECTION = Buffer.from('connection');
const CHUNKED = Buffer.from('chunked');
const CLOSE = Buffer.from('close');
const KEEP_ALIVE = Buffer.from('keep-alive');

/**
 * Incremental HTTP/1.1 response parser for one connection. Feed it whatever the socket read;
 * it calls the handler as the status line, body bytes and end of each response are found.
 * Reusable across responses; allocates only when a head spans reads or headers are collected.
 */
export class ResponseParser {
  /** Set before each request: a HEAD response has no body whatever its headers say. */
  isHead = false;
  /** When true, `headers` receives lower-cased name/value pairs (for checks). */
  collectHeaders = false;
  /** Lower-cased name, value, name, value... of the last response head (only with `collectHeaders`). */
  headers: string[] = [];

  private state = State.Head;
  private remaining = 0;
  private keepAlive = true;
  private chunkSizeDigits = 0;
  private trailerLineLength = 0;
  private sawCr = false;
  /** Bytes of a head that spans reads. */
  private pending: Buffer | null = null;
  private pendingLength = 0;

  constructor(
    private readonly handler: ResponseHandler,
    private readonly maxHead = maxHeaderSize,
  ) {}

  /** True between the start of a response and its end (bytes were seen). */
  get inMessage(): boolean {
    return this.state !== State.Head || this.pendingLength > 0;
  }

  /** True when the current response's body ends with the connection. */
  get readsUntilClose(): boolean {
    return this.state === State.BodyUntilClose;
  }

  /** Ready for a new response (after an error or a dropped connection). */
  reset(): void {
    this.state = State.Head;
    this.pending = null;
    this.pendingLength = 0;
    this.remaining = 0;
    this.sawCr = false;
  }

  /** The connection ended: completes a close-delimited body. Returns false when a response was cut short. */
  finish(): boolean {
    if (this.state === State.BodyUntilClose) {
      this.state = State.Head;
      this.handler.onResponseEnd(false);
      return true;
    }
    return !this.inMessage;
  }

  /**
   * Parses `buf[start, end)`. Returns the offset where parsing stopped: `end`, or earlier when a
   * response ended and bytes follow it (the caller decides what unsolicited bytes mean) or the
   * handler refused body bytes.
   * @throws HttpParseError on a malformed response
   */
  execute(buf: Buffer, start: number, end: number): number {
    let pos = start;
    while (pos < end) {
      switch (this.state) {
        case State.Head:
          pos = this.readHead(buf, pos, end);
          if ((this.state as State) === State.Done) {
            this.state = State.Head;
            this.handler.onResponseEnd(this.keepAlive);
            return pos;
          }
          break;
        case State.BodyLength: {
          const n = Math.min(this.remaining, end - pos);
          this.remaining -= n;
          if (!this.handler.onResponseBody(buf, pos, pos + n)) return pos + n;
          pos += n;
          if (this.remaining === 0) {
            this.state = State.Head;
            this.handler.onResponseEnd(this.keepAlive);
            return pos;
          }
          break;
        }
        case State.ChunkSize: {
          const b = buf[pos]!;
          const digit = b >= 48 && b <= 57 ? b - 48 : b >= 97 && b <= 102 ? b - 87 : b >= 65 && b <= 70 ? b - 55 : -1;
          if (digit >= 0 && !this.sawCr) {
            // Leading zeros are valid (RFC 9112, 7.1): bound the value, not the number of digits.
            if (this.remaining >= MAX_CHUNK_SIZE_BEFORE_DIGIT) throw new HttpParseError('HPE_INVALID_CHUNK_SIZE', 'chunk size too large');
            this.remaining = this.remaining * 16 + digit;
            this.chunkSizeDigits++;
          } else if (this.chunkSizeDigits === 0) {
            throw new HttpParseError('HPE_INVALID_CHUNK_SIZE', 'invalid chunk size');
          } else if (b === LF) {
            this.endChunkSizeLine();
          } else if (this.sawCr) {
            // A bare CR is invalid (RFC 9112, 2.2); "5\r5" must not read as 0x55.
            throw new HttpParseError('HPE_STRICT', 'expected LF after CR in a chunk size line');
          } else if (b === CR) {
            this.sawCr = true;
          } else if (b === 59) {
            this.state = State.ChunkExtension;
          } else if (b === SP || b === HT) {
            this.state = State.ChunkSizeSpace;
          } else {
            throw new HttpParseError('HPE_INVALID_CHUNK_SIZE', 'invalid character in chunk size');
          }
          pos++;
          break;
        }
        case State.ChunkSizeSpace: {
          // Whitespace after the size may only lead to an extension or the line end ("5 5" is not a size).
          const b = buf[pos++]!;
          if (b === 59) {
            this.state = State.ChunkExtension;
          } else if (b === LF) {
            this.endChunkSizeLine();
          } else if (b === CR) {
            this.state = State.ChunkSize;
            this.sawCr = true;
          } else if (b !== SP && b !== HT) {
            throw new HttpParseError('HPE_INVALID_CHUNK_SIZE', 'invalid character after chunk size');
          }
          break;
        }
        case State.ChunkExtension: {
          // Extensions are ignored: skip to the end of the line.
          const lf = buf.indexOf(LF, pos);
          if (lf === -1 || lf >= end) return end;
          pos = lf + 1;
          this.endChunkSizeLine();
          break;
        }
        case State.ChunkData: {
          const n = Math.min(this.remaining, end - pos);
          this.remaining -= n;
          if (!this.handler.onResponseBody(buf, pos, pos + n)) return pos + n;
          pos += n;
          if (this.remaining === 0) {
            this.state = State.ChunkDataEnd;
            this.sawCr = false;
          }
          break;
        }
        case State.ChunkDataEnd: {
          const b = buf[pos++]!;
          if (b === CR && !this.sawCr) {
            this.sawCr = true;
          } else if (b === LF) {
            this.state = State.ChunkSize;
            this.chunkSizeDigits = 0;
            this.remaining = 0;
            this.sawCr = false;
          } else {
            throw new HttpParseError('HPE_STRICT', 'expected CRLF after chunk data');
          }
          break;
        }
        case State.Trailers: {
          const b = buf[pos++]!;
          if (b === LF) {
            if (this.trailerLineLength === 0) {
              this.state = State.Head;
              this.handler.onResponseEnd(this.keepAlive);
              return pos;
            }
            this.trailerLineLength = 0;
          } else if (b !== CR) {
            if (++this.trailerLineLength > this.maxHead) throw new HttpParseError('HPE_HEADER_OVERFLOW', 'trailers too large');
          }
          break;
        }
        case State.BodyUntilClose:
          if (!this.handler.onResponseBody(buf, pos, end)) return end;
          return end;
        default:
          throw new HttpParseError('HPE_INTERNAL', 'parser in an unexpected state');
      }
    }
    return pos;
  }

  private endChunkSizeLine(): void {
    this.sawCr = false;
    if (this.remaining === 0) {
      this.state = State.Trailers;
      this.trailerLineLength = 0;
    } else {
      this.state = State.ChunkData;
    }
  }

  /** Consumes head bytes; acts on the head once its empty line is seen. */
  private readHead(buf: Buffer, start: number, end: number): number {
    let pos = start;
    if (this.pendingLength === 0) {
      // Empty lines before a status line are allowed (RFC 9112, 2.2).
      while (pos < end && (buf[pos] === CR || buf[pos] === LF)) pos++;
      if (pos === end) return end;
      const headEnd = this.parseHead(buf, pos, end);
      if (headEnd !== -1) return headEnd;
      this.append(buf, pos, end);
      return end;
    }
    // A head that spans reads (rare): gather it, then parse it whole. Only what can still be head is
    // copied: the rest of this read may be a body far larger than the head limit.
    const before = this.pendingLength;
    const take = Math.min(end - pos, this.maxHead - before);
    this.append(buf, pos, pos + take);
    const pending = this.pending!;
    const headEnd = this.parseHead(pending, 0, this.pendingLength);
    if (headEnd === -1) {
      if (take < end - pos) throw new HttpParseError('HPE_HEADER_OVERFLOW', 'response head too large');
      return end;
    }
    this.pending = null;
    this.pendingLength = 0;
    return start + (headEnd - before);
  }

  /** No complete head in `buf[start, end)` yet: -1, unless it is already too large. */
  private incompleteHead(start: number, end: number): number {
    if (end - start > this.maxHead) throw new HttpParseError('HPE_HEADER_OVERFLOW', 'response head too large');
    return -1;
  }

  private append(buf: Buffer, start: number, end: number): void {
    const need = this.pendingLength + (end - start);
    if (need > this.maxHead) throw new HttpParseError('HPE_HEADER_OVERFLOW', 'response head too large');
    if (!this.pending || this.pending.length < need) {
      const grown = Buffer.allocUnsafe(Math.min(this.maxHead, Math.max(need, 1024) * 2));
      if (this.pending) this.pending.copy(grown, 0, 0, this.pendingLength);
      this.pending = grown;
    }
    buf.copy(this.pending, this.pendingLength, start, end);
    this.pendingLength = need;
  }

  /**
   * Parses a head starting at `start` in one pass. Returns the offset just past its empty line
   * and acts on it (handler call, body framing), or -1 when `buf[start, end)` holds no complete
   * head yet (nothing is kept: the caller gathers the bytes and calls again).
   */
  private parseHead(buf: Buffer, start: number, end: number): number {
    // The status line: "HTTP/1.x SSS reason".
    let lf = start;
    for (; lf < end; lf++) {
      const b = buf[lf]!;
      if (b === LF) break;
      // A CR not followed by LF makes the line invalid (RFC 9112, 2.2): it must not end it either.
      if (b === CR && lf + 1 < end && buf[lf + 1] !== LF) throw new HttpParseError('HPE_STRICT', 'bare CR in the status line');
    }
    if (lf === end) return this.incompleteHead(start, end);
    if (
      lf - start < 12 ||
      buf[start] !== 72 ||
      buf[start + 1] !== 84 ||
      buf[start + 2] !== 84 ||
      buf[start + 3] !== 80 ||
      buf[start + 4] !== 47 ||
      buf[start + 5] !== 49 ||
      buf[start + 6] !== 46 ||
      buf[start + 8] !== SP
    ) {
      throw new HttpParseError('HPE_INVALID_CONSTANT', 'expected an HTTP/1.x status line');
    }
    const minor = buf[start + 7]! - 48;
    const d0 = buf[start + 9]! - 48;
    const d1 = buf[start + 10]! - 48;
    const d2 = buf[start + 11]! - 48;
    if (minor < 0 || minor > 9 || d0 < 0 || d0 > 9 || d1 < 0 || d1 > 9 || d2 < 0 || d2 > 9) {
      throw new HttpParseError('HPE_INVALID_STATUS', 'invalid status code');
    }
    if (lf - start > 12 && buf[start + 12] !== SP && buf[start + 12] !== CR) {
      throw new HttpParseError('HPE_INVALID_STATUS', 'invalid status code');
    }
    const status = d0 * 100 + d1 * 10 + d2;
    let close = false;
    let keepAliveToken = false;
    let contentLength = -1;
    let chunked = false;
    let transferEncoding = false;
    const collect = this.collectHeaders;
    if (collect) this.headers = [];

    // Header lines, up to the empty line.
    let line = lf + 1;
    for (;;) {
      // The field name is a token (RFC 9110, 5.1), directly followed by the colon (RFC 9112, 5.1):
      // this also rejects obs-fold and a space before the colon.
      let i = line;
      while (i < end && TCHAR[buf[i]!] === 1) i++;
      if (i === end) return this.incompleteHead(start, end);
      if (i === line) {
        const b = buf[i]!;
        if (b === LF || (b === CR && i + 1 < end && buf[i + 1] === LF)) {
          line = b === LF ? i + 1 : i + 2;
          break;
        }
        if (b === CR && i + 1 === end) return this.incompleteHead(start, end);
        throw new HttpParseError('HPE_INVALID_HEADER_TOKEN', 'invalid header line');
      }
      if (buf[i] !== COLON) throw new HttpParseError('HPE_INVALID_HEADER_TOKEN', 'invalid header line');
      const colon = i;
      // The value: visible bytes, obs-text, spaces and tabs. No other control byte: a NUL, CR or LF in a
      // value must be rejected (RFC 9110, 5.5), and a CR is only allowed right before the LF.
      for (i = colon + 1; i < end; i++) {
        const b = buf[i]!;
        if (b < SP || b === 127) {
          if (b === LF) break;
          if (b === HT || (b === CR && (i + 1 === end || buf[i + 1] === LF))) continue;
          throw new HttpParseError('HPE_INVALID_HEADER_TOKEN', 'invalid character in a header value');
        }
      }
      if (i === end) return this.incompleteHead(start, end);
      const lineEnd = buf[i - 1] === CR ? i - 1 : i;
      let vs = colon + 1;
      while (vs < lineEnd && (buf[vs] === SP || buf[vs] === HT)) vs++;
      let ve = lineEnd;
      while (ve > vs && (buf[ve - 1] === SP || buf[ve - 1] === HT)) ve--;
      const nameLength = colon - line;
      if (nameLength === 14 && equalsLower(buf, line, colon, CONTENT_LENGTH)) {
        if (ve === vs) throw new HttpParseError('HPE_INVALID_CONTENT_LENGTH', 'invalid content-length');
        let n = 0;
        for (let k = vs; k < ve; k++) {
          const d = buf[k]! - 48;
          if (d < 0 || d > 9) throw new HttpParseError('HPE_INVALID_CONTENT_LENGTH', 'invalid content-length');
          // Leading zeros are valid (RFC 9110, 8.6): bound the value, not the number of digits.
          if (n >= MAX_LENGTH_BEFORE_DIGIT) throw new HttpParseError('HPE_INVALID_CONTENT_LENGTH', 'content-length too large');
          n = n * 10 + d;
        }
        if (contentLength !== -1 && contentLength !== n) {
          throw new HttpParseError('HPE_UNEXPECTED_CONTENT_LENGTH', 'conflicting content-length headers');
        }
        contentLength = n;
      } else if (nameLength === 17 && equalsLower(buf, line, colon, TRANSFER_ENCODING)) {
        transferEncoding = true;
        chunked = lastTokenIs(buf, vs, ve, CHUNKED);
      } else if (nameLength === 10 && equalsLower(buf, line, colon, CONNECTION)) {
        // "close" in any Connection field wins (RFC 9112, 9.6), whatever another one says.
        if (hasToken(buf, vs, ve, CLOSE)) close = true;
        else if (hasToken(buf, vs, ve, KEEP_ALIVE)) keepAliveToken = true;
      }
      if (collect) this.headers.push(buf.toString('latin1', line, colon).toLowerCase(), buf.toString('latin1', vs, ve));
      line = i + 1;
    }
    if (line - start > this.maxHead) throw new HttpParseError('HPE_HEADER_OVERFLOW', 'response head too large');

    // Persistence (RFC 9112, 9.3): HTTP/1.1 unless "close"; HTTP/1.0 only with "keep-alive".
    const keepAlive = !close && (minor >= 1 || keepAliveToken);
    // A status below 100 is not informational: like 600-999 it goes to the caller as a final response.
    if (status >= 100 && status < 200) {
      // 1xx: informational, the real head follows (101 would switch protocols, which loadbench never asks for).
      if (status === 101) throw new HttpParseError('HPE_UNEXPECTED_UPGRADE', 'unexpected 101 Switching Protocols');
      this.state = State.Head;
      return line;
    }
    this.keepAlive = keepAlive;
    this.handler.onResponseHead(status);
    if (this.isHead || status === 204 || status === 304) {
      this.state = State.Done;
    } else if (transferEncoding) {
      // A transfer coding other than chunked is delimited by the connection's end (RFC 9112, 6.3).
      if (chunked) {
        this.state = State.ChunkSize;
        this.chunkSizeDigits = 0;
        this.remaining = 0;
        this.sawCr = false;
      } else {
        this.state = State.BodyUntilClose;
        this.keepAlive = false;
      }
    } else if (contentLength >= 0) {
      this.remaining = contentLength;
      this.state = contentLength === 0 ? State.Done : State.BodyLength;
    } else {
      this.state = State.BodyUntilClose;
      this.keepAlive = false;
    }
    return line;
  }
}


/** What a request looks like on the wire, prepared once per level. */
export interface RequestTemplate {
  /** The whole request, when the body is fixed: written as is for every request. */
  fixed?: Buffer;
  /** Everything up to the Content-Length value, for bodies produced per request. */
  prefix: string;
  /** Whether the prefix is plain ASCII (then head and body can be encoded as one UTF-8 string). */
  asciiPrefix: boolean;
  /** Whether a response to this request has no body (HEAD). */
  isHead: boolean;
}

/**
 * Builds the request bytes for a level: request line, Host, the caller's headers, Content-Length.
 * Validates the headers here, once, rather than per request.
 * @throws Error naming a header that is not valid HTTP
 */
export function buildRequestTemplate(
  url: URL,
  method: string,
  headers: Record<string, string>,
  body: string | undefined | ((...args: never[]) => string),
): RequestTemplate {
  if (!HTTP_TOKEN.test(method)) throw new Error(`invalid HTTP method ${JSON.stringify(method)}`);
  const path = `${url.pathname || '/'}${url.search}`;
  if (/[^\u0021-\u00ff]/.test(path)) throw new Error(`invalid request path ${JSON.stringify(path)}`);
  let head = `${method} ${path} HTTP/1.1\r\n`;
  const names = new Set<string>();
  let lines = '';
  for (const [name, value] of Object.entries(headers)) {
    const lower = name.toLowerCase();
    if (!HTTP_TOKEN.test(name)) throw new Error(`invalid header name ${JSON.stringify(name)}`);
    if (!FIELD_VALUE.test(value)) throw new Error(`invalid value for header ${name}: control characters are not allowed`);
    // Framing is the engine's: it sets Content-Length itself and never sends a chunked request.
    if (lower === 'content-length') continue;
    if (lower === 'transfer-encoding') throw new Error('the transfer-encoding request header is not supported');
    names.add(lower);
    lines += `${name}: ${value}\r\n`;
  }
  if (!names.has('host')) head += `host: ${url.host}\r\n`;
  if (!names.has('connection')) head += 'connection: keep-alive\r\n';
  head += lines;
  const isHead = method === 'HEAD';
  if (typeof body === 'function') {
    return { prefix: `${head}content-length: `, asciiPrefix: /^[\x00-\x7f]*$/.test(head), isHead };
  }
  const bytes = body === undefined ? undefined : Buffer.from(body);
  const length = bytes?.length ?? 0;
  if (length > 0 || PAYLOAD_METHODS.has(method)) head += `content-length: ${length}\r\n`;
  head += '\r\n';
  const fixed = Buffer.concat(bytes ? [Buffer.from(head, 'latin1'), bytes] : [Buffer.from(head, 'latin1')]);
  return { fixed, prefix: '', asciiPrefix: true, isHead };
}

/** The wire bytes of one request whose body was produced for it. */
export function requestWithBody(template: RequestTemplate, body: string): Buffer | string {
  const length = Buffer.byteLength(body);
  if (template.asciiPrefix) return `${template.prefix}${length}\r\n\r\n${body}`;
  return Buffer.concat([Buffer.from(`${template.prefix}${length}\r\n\r\n`, 'latin1'), Buffer.from(body)]);
}
