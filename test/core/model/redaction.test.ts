import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ERROR_SAMPLE_LENGTH, MAX_ERROR_SAMPLE_SOURCE_LENGTH } from '../../../engine/types.ts';
import { runLevel } from '../../../engine/level-controller.ts';
import { redactErrorSamples, secretValues } from '../../../core/model/redaction.ts';
import { buildHeaders } from '../../../core/scenario/request.ts';
import { levelPlan } from '../../helpers/level-plan.ts';
import { startServer, type TestServer } from '../../helpers/servers.ts';

const TOKEN = 'yTOKENSECRETVALUE-0123456789';
const COOKIE = 'sid=COOKIESECRETVALUE-9876543210';
const PAD = 'p'.repeat(175);

/** The longest start (4 characters or more) of `secret` found in `text`, or undefined. */
function leakedPrefix(text: string, secret: string): string | undefined {
  for (let k = secret.length; k >= 4; k--) {
    if (text.includes(secret.slice(0, k))) return secret.slice(0, k);
  }
  return undefined;
}

describe('redactErrorSamples', () => {
  const secrets = secretValues(TOKEN, buildHeaders({ token: TOKEN, headers: { Cookie: COOKIE }, hasBody: false }));

  it('redacts a secret that straddles the cut, then cuts', () => {
    for (const secret of [TOKEN, COOKIE]) {
      const message = `check threw: ${PAD}${secret} and more after it`;
      // The secret starts before the cut and ends after it.
      expect(message.indexOf(secret)).toBeLessThan(ERROR_SAMPLE_LENGTH);
      expect(message.indexOf(secret) + secret.length).toBeGreaterThan(ERROR_SAMPLE_LENGTH);
      const [sample] = redactErrorSamples([{ category: 'check_failed', message }], secrets);
      expect(sample!.message).toBe(`check threw: ${PAD}REDACTED and more after it`.slice(0, ERROR_SAMPLE_LENGTH));
      expect(leakedPrefix(sample!.message, secret)).toBeUndefined();
    }
  });

  it('drops the start of a secret the engine cut off, even when redaction pulls it under the cut', () => {
    // A long credential (a JWT, say): the third copy starts 8 characters before the engine's cut,
    // and redacting the first two moves that start to the front.
    const jwt = `eyJ${'abcdefghij'.repeat(99)}xy`;
    const message = `${jwt} ${jwt} ${jwt}`.slice(0, MAX_ERROR_SAMPLE_SOURCE_LENGTH);
    expect(message.endsWith(jwt.slice(0, 8))).toBe(true);
    const [sample] = redactErrorSamples([{ category: 'http_4xx', message }], [jwt]);
    expect(sample!.message).toBe('REDACTED REDACTED ');
  });

  it('keeps short texts as they are and drops samples that read the same once cut', () => {
    const samples = [
      { category: 'http_5xx' as const, message: 'HTTP 500' },
      { category: 'check_failed' as const, message: `${PAD}${'q'.repeat(50)} request 1` },
      { category: 'check_failed' as const, message: `${PAD}${'q'.repeat(50)} request 2` },
      { category: 'timeout' as const, message: `${PAD}${'q'.repeat(50)} request 1` },
    ];
    const out = redactErrorSamples(samples, secrets);
    expect(out.map((s) => [s.category, s.message.length])).toEqual([
      ['http_5xx', 8],
      ['check_failed', ERROR_SAMPLE_LENGTH],
      ['timeout', ERROR_SAMPLE_LENGTH],
    ]);
  });
});

describe('error samples of a level, as the scenario stores them', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer((_n, _req, res) => res.end('{"ok":true}'));
  });
  afterAll(() => server.close());

  it('never keeps the start of a token or cookie that a failing check threw past the 200th character', async () => {
    const headers = buildHeaders({ token: TOKEN, headers: { cookie: COOKIE }, hasBody: true });
    let n = 0;
    const r = await runLevel(
      levelPlan(server.url, {
        concurrency: 1,
        requestsPerLevel: 20,
        headers,
        check: () => {
          n++;
          throw new Error(PAD + (n % 2 ? `${TOKEN} (token)` : `${COOKIE} (cookie)`));
        },
      }),
    );
    expect(r.errors.check_failed).toBe(20);
    // The engine keeps the whole text, so that the secret can still be found in it.
    expect(r.error_samples.map((s) => s.message).sort()).toEqual([`check threw: ${PAD}${COOKIE} (cookie)`, `check threw: ${PAD}${TOKEN} (token)`]);

    const stored = redactErrorSamples(r.error_samples, secretValues(TOKEN, headers));
    expect(stored.map((s) => s.message).sort()).toEqual([`check threw: ${PAD}REDACTED (co`, `check threw: ${PAD}REDACTED (to`]);
    for (const { category, message } of stored) {
      expect(category).toBe('check_failed');
      expect(message.length).toBeLessThanOrEqual(ERROR_SAMPLE_LENGTH);
            expect(leakedPrefix(message, TOKEN)).toBeUndefined();
      expect(leakedPrefix(message, COOKIE)).toBeUndefined();
    }
  });
});
