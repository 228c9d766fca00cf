import { describe, expect, it } from 'vitest';
import { redactCredentials, redactUrl as redactUrlText } from '../../../core/model/redaction.ts';
import { codeBlock, codeSpan, escapeMarkdown } from '../../../reporters/report/markdown.ts';
import { PLANTED_TOKEN } from '../../fixtures/summaries.ts';

describe('escapeMarkdown', () => {
  it('keeps hostile text on one line and inert', () => {
    expect(escapeMarkdown('a | b `c` **d** <script>x</script> [l](http://e) # f ~g~ _h_')).toBe(
      'a \\| b \\`c\\` \\*\\*d\\*\\* &lt;script&gt;x&lt;/script&gt; \\[l\\](http://e) \\# f \\~g\\~ \\_h\\_',
    );
    expect(escapeMarkdown('# title\n- item\r\n> quote\u2028x')).toBe('\\# title - item &gt; quote x');
  });

  it('truncates to 200 characters by default', () => {
    const out = escapeMarkdown('y'.repeat(500));
    expect(out).toBe(`${'y'.repeat(200)}…`);
    expect(escapeMarkdown('a\nb|c`d', 5)).toBe('a b\\|c…');
  });
});

describe('code spans and blocks', () => {
  it('fences code with more backticks than it contains and keeps table cells intact', () => {
    expect(codeSpan('benches/my_scenario.bench.ts')).toBe('`benches/my_scenario.bench.ts`');
    expect(codeSpan('a`b')).toBe('``a`b``');
    expect(codeSpan('`x`')).toBe('`` `x` ``');
    expect(codeSpan('a|b\nc')).toBe('`a¦b c`');
    expect(codeBlock('{\n  "a": "```"\n}', 'json')).toBe('````json\n{\n  "a": "```"\n}\n````');
  });
});

describe('credential redaction', () => {
  it('removes userinfo and credential-like query values from URLs', () => {
    expect(redactUrlText(`http://admin:${PLANTED_TOKEN}@localhost:8080/submit?token=${PLANTED_TOKEN}&api_key=${PLANTED_TOKEN}&mode=fast`)).toBe(
      'http://localhost:8080/submit?token=REDACTED&api_key=REDACTED&mode=fast',
    );
    expect(redactUrlText('not a url token=abc')).toBe('not a url token=REDACTED');
  });

  it('removes bearer tokens, credential pairs and URL userinfo from free text, and leaves other text alone', () => {
    const cases: [string, string][] = [
      [`Authorization: Bearer ${PLANTED_TOKEN}`, 'Authorization: Bearer REDACTED'],
      [`{"access_token":"${PLANTED_TOKEN}","ok":1}`, '{"access_token":"REDACTED","ok":1}'],
      [`GET https://u:${PLANTED_TOKEN}@h/x?password=${PLANTED_TOKEN}&n=1`, 'GET https://h/x?password=REDACTED&n=1'],
      [`api-key: ${PLANTED_TOKEN}; retry`, 'api-key: REDACTED; retry'],
      ['connect ECONNREFUSED 127.0.0.1:8080', 'connect ECONNREFUSED 127.0.0.1:8080'],
      ['HTTP 503: upstream unavailable, token expired', 'HTTP 503: upstream unavailable, token expired'],
    ];
    for (const [input, output] of cases) expect(redactCredentials(input)).toBe(output);
  });
});
