import { describe, expect, it } from 'vitest';
import { HttpParseError } from '../../engine/errors.ts';
import { ResponseParser, buildRequestTemplate, requestWithBody, type ResponseHandler } from '../../engine/http1.ts';

interface Seen {
  status: number;
  body: string;
  keepAlive: boolean;
}

/** A handler that records every response it is told about. */
function recorder(): ResponseHandler & { responses: Seen[]; current: Seen | null } {
  return {
    responses: [],
    current: null,
    onResponseHead(status) {
      this.current = { status, body: '', keepAlive: true };
    },
    onResponseBody(buf, start, end) {
      this.current!.body += buf.toString('latin1', start, end);
      return true;
    },
    onResponseEnd(keepAlive) {
      this.current!.keepAlive = keepAlive;
      this.responses.push(this.current!);
      this.current = null;
    },
  };
}

/** Feeds `wire` in pieces cut at `cuts`, as reads from a socket would; returns what was parsed. */
function parse(wire: string, cuts: number[] = [], options: { isHead?: boolean; close?: boolean } = {}): Seen[] {
  const h = recorder();
  const p = new ResponseParser(h);
  p.isHead = options.isHead ?? false;
  const bytes = Buffer.from(wire, 'latin1');
  const bounds = [0, ...cuts, bytes.length];
  for (let i = 0; i + 1 < bounds.length; i++) {
    // Each read lands in a reused buffer at offset 0, like the engine's shared read buffer.
    const read = Buffer.alloc(bytes.length + 8, 0x58);
    const n = bytes.copy(read, 0, bounds[i], bounds[i + 1]);
    let pos = 0;
    while (pos < n) pos = p.execute(read, pos, n);
  }
  if (options.close) p.finish();
  return h.responses;
}

/** Every way of cutting `wire` in two, and byte by byte: the result must not depend on how reads fall. */
function everySplit(wire: string, options: { isHead?: boolean; close?: boolean } = {}): Seen[] {
  const whole = parse(wire, [], options);
  for (let cut = 1; cut < wire.length; cut++) expect(parse(wire, [cut], options), `cut at ${cut}`).toEqual(whole);
  expect(parse(wire, Array.from({ length: wire.length - 1 }, (_, i) => i + 1), options)).toEqual(whole);
  return whole;
}

const ok = (body: string, extra = ''): string => `HTTP/1.1 200 OK\r\ncontent-length: ${body.length}\r\n${extra}\r\n${body}`;

describe('ResponseParser', () => {
  it('parses Content-Length bodies, back to back, however the reads are cut', () => {
    const r = everySplit(`${ok('{"ok":true}', 'content-type: application/json\r\nkeep-alive: timeout=5\r\n')}${ok('')}`);
    expect(r).toEqual([
      { status: 200, body: '{"ok":true}', keepAlive: true },
      { status: 200, body: '', keepAlive: true },
    ]);
  });

  it('decodes chunked bodies with extensions and trailers', () => {
    const wire =
      'HTTP/1.1 201 Created\r\nTransfer-Encoding: gzip, Chunked\r\n\r\n' +
      '5;name=value\r\nhello\r\nA\r\n, chunked!\r\n0\r\nx-trailer: 1\r\n\r\n' +
      'HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n0\r\n\r\n';
    expect(everySplit(wire)).toEqual([
      { status: 201, body: 'hello, chunked!', keepAlive: true },
      { status: 200, body: '', keepAlive: true },
    ]);
  });

  it('skips 1xx heads and answers to the final one', () => {
    const wire = 'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nlink: </a>\r\n\r\n' + ok('done');
    expect(everySplit(wire)).toEqual([{ status: 200, body: 'done', keepAlive: true }]);
  });

  it('knows responses without a body: HEAD, 204, 304', () => {
    expect(everySplit('HTTP/1.1 200 OK\r\ncontent-length: 1234\r\n\r\n', { isHead: true })).toEqual([{ status: 200, body: '', keepAlive: true }]);
    expect(everySplit('HTTP/1.1 204 No Content\r\n\r\nHTTP/1.1 304 Not Modified\r\ncontent-length: 5\r\n\r\n')).toEqual([
      { status: 204, body: '', keepAlive: true },
      { status: 304, body: '', keepAlive: true },
    ]);
  });

  it('reads a body without length to the end of the connection, and never keeps that connection', () => {
    expect(everySplit('HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\n\r\nall of it', { close: true })).toEqual([
      { status: 200, body: 'all of it', keepAlive: false },
    ]);
    expect(parse('HTTP/1.1 200 OK\r\n\r\npartial')).toEqual([]);
  });

  it('follows Connection and the HTTP version for keep-alive', () => {
    expect(parse(ok('a', 'Connection: Close\r\n'))[0]!.keepAlive).toBe(false);
    expect(parse(ok('a', 'connection: upgrade, close\r\n'))[0]!.keepAlive).toBe(false);
    expect(parse('HTTP/1.0 200 OK\r\ncontent-length: 1\r\n\r\na')[0]!.keepAlive).toBe(false);
    expect(parse('HTTP/1.0 200 OK\r\ncontent-length: 1\r\nconnection: keep-alive\r\n\r\na')[0]!.keepAlive).toBe(true);
  });

  it('accepts bare LF line ends and empty lines before a status line', () => {
    expect(everySplit('\r\n\nHTTP/1.1 404 Not Found\ncontent-length: 2\n\nno')).toEqual([{ status: 404, body: 'no', keepAlive: true }]);
  });

  it('gives statuses outside 100-599 to the caller as they are', () => {
    expect(parse('HTTP/1.1 999 Weird\r\ncontent-length: 2\r\n\r\n{}')[0]!.status).toBe(999);
  });

  it.each([
    ['SURPRISE nothing like HTTP\r\n\r\n', 'HPE_INVALID_CONSTANT'],
    ['HTTP/1.1 2x0 OK\r\n\r\n', 'HPE_INVALID_STATUS'],
    ['HTTP/1.1 200 OK\r\ncontent-length: 1x\r\n\r\n', 'HPE_INVALID_CONTENT_LENGTH'],
    ['HTTP/1.1 200 OK\r\ncontent-length: 1\r\ncontent-length: 2\r\n\r\n', 'HPE_UNEXPECTED_CONTENT_LENGTH'],
    ['HTTP/1.1 200 OK\r\nno colon here\r\n\r\n', 'HPE_INVALID_HEADER_TOKEN'],
    ['HTTP/1.1 200 OK\r\nx: 1\r\n folded\r\n\r\n', 'HPE_INVALID_HEADER_TOKEN'],
    ['HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\nzz\r\n', 'HPE_INVALID_CHUNK_SIZE'],
    ['HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n1\r\nab\r\n', 'HPE_STRICT'],
    ['HTTP/1.1 101 Switching Protocols\r\n\r\n', 'HPE_UNEXPECTED_UPGRADE'],
    // Found by test/engine/http1-fuzz.test.ts: field names are tokens, and no NUL, bare CR or other control in a value.
    ['HTTP/1.1 200 OK\r\nx(y): 1\r\n\r\n', 'HPE_INVALID_HEADER_TOKEN'],
    ['HTTP/1.1 200 OK\r\nx: a\0b\r\n\r\n', 'HPE_INVALID_HEADER_TOKEN'],
    ['HTTP/1.1 200 OK\r\nx: a\x7fb\r\n\r\n', 'HPE_INVALID_HEADER_TOKEN'],
    ['HTTP/1.1 200 OK\r\nx: a\rcontent-length: 0\r\n\r\n', 'HPE_INVALID_HEADER_TOKEN'],
    ['HTTP/1.1 200 OK\rcontent-length: 0\r\n\r\n', 'HPE_STRICT'],
    ['HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5\r5\r\n', 'HPE_STRICT'],
    ['HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5 5\r\n', 'HPE_INVALID_CHUNK_SIZE'],
    ['HTTP/1.1 200 OK\r\ncontent-length: 1000000000000000\r\n\r\n', 'HPE_INVALID_CONTENT_LENGTH'],
    ['HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n1000000000000\r\n', 'HPE_INVALID_CHUNK_SIZE'],
  ])('rejects %j with %s', (wire, code) => {
    expect(() => parse(wire)).toThrow(HttpParseError);
    try {
      parse(wire);
    } catch (error) {
      expect((error as HttpParseError).code).toBe(code);
    }
  });

  it('lets "close" in any Connection field win over "keep-alive" in another', () => {
    for (const fields of ['connection: close\r\nconnection: keep-alive\r\n', 'connection: keep-alive\r\nconnection: close\r\n']) {
      expect(parse(ok('a', fields))[0]!.keepAlive).toBe(false);
      expect(parse(`HTTP/1.0 200 OK\r\ncontent-length: 1\r\n${fields}\r\na`)[0]!.keepAlive).toBe(false);
    }
  });

  it('reads leading zeros in Content-Length and chunk sizes, and spaces before a chunk extension', () => {
    expect(everySplit('HTTP/1.1 200 OK\r\ncontent-length: 000000000000000000002\r\n\r\nok')).toEqual([{ status: 200, body: 'ok', keepAlive: true }]);
    const chunked = 'HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n00000000000000000002 ;x=1\r\nok\r\n0\r\n\r\n';
    expect(everySplit(chunked)).toEqual([{ status: 200, body: 'ok', keepAlive: true }]);
  });

  it('takes a status below 100 as a final response, not an interim one', () => {
    expect(parse('HTTP/1.1 099 Odd\r\ncontent-length: 2\r\n\r\nok')).toEqual([{ status: 99, body: 'ok', keepAlive: true }]);
  });

  it('does not count the body as head when a head spans reads and a large body follows in the same read', () => {
    const body = 'b'.repeat(40_000);
    const wire = `HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: ${body.length}\r\n\r\n${body}`;
    expect(parse(wire, [20])).toEqual([{ status: 200, body, keepAlive: true }]);
  });

  it('bounds the head size, in one read or many', () => {
    const huge = `HTTP/1.1 200 OK\r\nx-big: ${'a'.repeat(20_000)}\r\ncontent-length: 0\r\n\r\n`;
    expect(() => parse(huge)).toThrow(/head too large/);
    expect(() => parse(huge, [100, 5000, 12000])).toThrow(/head too large/);
  });

  it('collects lower-cased headers only when asked', () => {
    const h = recorder();
    const p = new ResponseParser(h);
    p.collectHeaders = true;
    const wire = Buffer.from(ok('{}', 'Content-Type: application/json\r\nX-Id:  7 \r\n'));
    p.execute(wire, 0, wire.length);
    expect(p.headers).toEqual(['content-length', '2', 'content-type', 'application/json', 'x-id', '7']);
  });
});

describe('request templates', () => {
  const url = new URL('http://127.0.0.1:8080/submit?x=1');

  it('builds a fixed request once: request line, host, keep-alive, headers, length, body', () => {
    const t = buildRequestTemplate(url, 'POST', { 'content-type': 'application/json', 'Content-Length': '999' }, '{"a":"é"}');
    expect(t.fixed!.toString('latin1')).toBe(
      'POST /submit?x=1 HTTP/1.1\r\nhost: 127.0.0.1:8080\r\nconnection: keep-alive\r\ncontent-type: application/json\r\n' +
        `content-length: 10\r\n\r\n${Buffer.from('{"a":"é"}').toString('latin1')}`,
    );
    expect(t.isHead).toBe(false);
  });

  it('keeps a caller Host and Connection, sends no length for a bodiless GET and 0 for an empty POST', () => {
    const get = buildRequestTemplate(url, 'GET', { Host: 'example.test', connection: 'close' }, undefined);
    expect(get.fixed!.toString()).toBe('GET /submit?x=1 HTTP/1.1\r\nHost: example.test\r\nconnection: close\r\n\r\n');
    expect(buildRequestTemplate(url, 'POST', {}, undefined).fixed!.toString()).toContain('content-length: 0\r\n\r\n');
    expect(buildRequestTemplate(url, 'HEAD', {}, undefined).isHead).toBe(true);
  });

  it('builds per-request bodies with their byte length', () => {
    const t = buildRequestTemplate(url, 'PUT', {}, () => '');
    expect(t.fixed).toBeUndefined();
    expect(String(requestWithBody(t, '{"n":"ü"}'))).toMatch(/content-length: 10\r\n\r\n\{"n":"ü"\}$/);
  });

  it('refuses header injection and bad names before anything is sent', () => {
    expect(() => buildRequestTemplate(url, 'POST', { 'x-a': 'ok\r\nx-evil: 1' }, '')).toThrow(/x-a/);
    expect(() => buildRequestTemplate(url, 'POST', { 'bad name': '1' }, '')).toThrow(/header name/);
    expect(() => buildRequestTemplate(url, 'POST', { 'transfer-encoding': 'chunked' }, '')).toThrow(/transfer-encoding/);
  });
});
