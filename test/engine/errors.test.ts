import { describe, expect, it } from 'vitest';
import {
  BodyTooLargeError,
  HttpParseError,
  LevelEndedError,
  RequestError,
  RequestTimeoutError,
  SocketClosedError,
  classifyError,
} from '../../engine/errors.ts';

const systemError = (code: string): Error => Object.assign(new Error(`${code} 127.0.0.1:8080`), { code });

describe('engine errors', () => {
  it('are classified by class, each into its own category', () => {
    expect(classifyError(new RequestTimeoutError(250))).toBe('timeout');
    expect(classifyError(new BodyTooLargeError(1024))).toBe('body_too_large');
    expect(classifyError(new SocketClosedError())).toBe('connection_reset');
    expect(classifyError(new HttpParseError('HPE_HEADER_OVERFLOW', 'response head too large'))).toBe('invalid_response');
  });

  it('keep the messages error samples show, and llhttp-style codes on parse errors', () => {
    expect(new RequestTimeoutError(250).message).toBe('no complete response within 250 ms');
    expect(new BodyTooLargeError(1024).message).toBe('response body larger than 1024 bytes (workload.max_body_bytes)');
    expect(new SocketClosedError().message).toBe('other side closed the connection before the response was complete');
    expect(new HttpParseError('HPE_INVALID_STATUS', 'invalid status code').code).toBe('HPE_INVALID_STATUS');
  });

  it('do not trust a string code that merely looks like theirs (undici and llhttp codes are not the engine)', () => {
    for (const code of ['LOADBENCH_TIMEOUT', 'UND_ERR_SOCKET', 'UND_ERR_HEADERS_TIMEOUT', 'HPE_INVALID_STATUS']) {
      expect(classifyError(systemError(code))).toBe('other');
    }
    expect(classifyError(Object.assign(new Error('x'), { name: 'HTTPParserError' }))).toBe('other');
  });

  it('classify Node system errors by their code, also along the cause chain', () => {
    expect(classifyError(systemError('ECONNREFUSED'))).toBe('connect_refused');
    expect(classifyError(systemError('ECONNRESET'))).toBe('connection_reset');
    expect(classifyError(systemError('EPIPE'))).toBe('connection_reset');
    expect(classifyError(systemError('ECONNABORTED'))).toBe('connection_reset');
    expect(classifyError(systemError('ETIMEDOUT'))).toBe('timeout');
    expect(classifyError(systemError('EHOSTUNREACH'))).toBe('other');
    expect(classifyError(new Error('wrapped', { cause: new RequestTimeoutError(1) }))).toBe('timeout');
    expect(classifyError(undefined)).toBe('other');
  });

  it('tell the end of a level apart from a failure of the target', () => {
    expect(new LevelEndedError()).not.toBeInstanceOf(RequestError);
    expect(classifyError(new LevelEndedError())).toBe('other');
  });
});
