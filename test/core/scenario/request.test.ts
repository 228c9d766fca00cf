import { describe, expect, it } from 'vitest';
import { redactSecrets, redactUrl, secretValues } from '../../../core/model/redaction.ts';
import { buildHeaders, fillTemplate, payloadShape, renderPayload } from '../../../core/scenario/request.ts';

describe('request building', () => {
  it('sends the token as a bearer header and a JSON content type with a body', () => {
    expect(buildHeaders({ token: 'tok', headers: { 'X-Trace': '1' }, hasBody: true })).toEqual({
      'content-type': 'application/json',
      authorization: 'Bearer tok',
      'x-trace': '1',
    });
    expect(buildHeaders({ headers: {}, hasBody: false })).toEqual({});
  });

  it('fills {{challenge_id}} in every string of a static payload, once', () => {
    expect(fillTemplate({ a: '{{challenge_id}}', b: ['x-{{challenge_id}}', 3] }, 'c1')).toEqual({ a: 'c1', b: ['x-c1', 3] });
    expect(renderPayload({ challenge_id: '{{challenge_id}}' }, 'demo')).toBe('{"challenge_id":"demo"}');
    const f = renderPayload(({ worker, iteration }: { worker: number; iteration: number }) => ({ id: `${worker}.${iteration}` }), 'x');
    expect(typeof f).toBe('function');
    expect((f as (c: object) => string)({ level: 1, worker: 2, iteration: 3, challengeId: 'x' })).toBe('{"id":"2.3"}');
  });

  it('describes a payload by its shape, never its values', () => {
    expect(payloadShape({ challenge_id: 'secret', n: 3, tags: ['a'], x: null })).toEqual({
      challenge_id: 'string',
      n: 'number',
      tags: ['string'],
      x: 'null',
    });
  });

  it('redacts credentials in URLs and texts', () => {
    expect(redactUrl(new URL('http://user:pw@h:1/p?token=abc&x=1'))).toBe('http://h:1/p?token=REDACTED&x=1');
    const secrets = secretValues('tok-123', { authorization: 'Bearer tok-123', 'x-api-key': 'key-456', accept: 'json' });
    expect(secrets).toEqual(['Bearer tok-123', 'tok-123', 'key-456']);
    expect(redactSecrets('saw Bearer tok-123 and key-456; accept json', secrets)).toBe('saw REDACTED and REDACTED; accept json');
  });
});
