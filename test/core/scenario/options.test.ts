import { describe, expect, it } from 'vitest';
import { validateConfig } from '../../../core/config/load-config.ts';
import { ConfigError } from '../../../core/errors.ts';
import { buildRequestTemplate } from '../../../engine/http1.ts';
import { resolveScenario } from '../../../core/scenario/resolve.ts';
import { type ScenarioOptions } from '../../../core/scenario/options.ts';

const config = validateConfig(
  {
    target: { url: 'http://127.0.0.1:8080/submit', method: 'POST', token: 'tok-1234', headers: { 'X-Team': 'a' } },
    workload: { concurrency_levels: [1], duration_seconds: 1 },
  },
  'config.yaml',
  {},
);

function problemsOf(options: ScenarioOptions): string[] {
  try {
    resolveScenario('s', options, config);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).file).toBe('scenario "s"');
    return (error as ConfigError).problems;
  }
  throw new Error('expected a ConfigError');
}

describe('scenario options: the same bounds and header rules as config.yaml', () => {
  it('bounds duration_seconds, warmup_seconds and timeout_seconds', () => {
    expect(problemsOf({ duration_seconds: 1e300 })).toEqual(['duration_seconds: found number 1e+300: expected at most 86400 (one day)']);
    expect(problemsOf({ warmup_seconds: 86_401 })).toEqual(['warmup_seconds: found number 86401: expected at most 86400 (one day)']);
    expect(problemsOf({ timeout_seconds: 3_601 })).toEqual(['timeout_seconds: found number 3601: expected at most 3600 (one hour)']);
    const s = resolveScenario('s', { duration_seconds: 86_400, warmup_seconds: 86_400, timeout_seconds: 3_600 }, config);
    expect([s.durationSeconds, s.warmupSeconds, s.timeoutSeconds]).toEqual([86_400, 86_400, 3_600]);
  });

  it('refuses bad header names and values before any request, one line each', () => {
    expect(problemsOf({ headers: { 'x-a': 'v\r\nX-Injected: 1', 'bad name': 'z', 'content-length': '1' } })).toEqual([
      'headers.x-a: found a value with a line break, expected a single-line header value',
      expect.stringMatching(/^headers\."bad name": found the header name "bad name", expected an HTTP token/),
      expect.stringMatching(/^headers\.content-length: found a content-length header, expected none/),
    ]);
  });

  it('names an unknown option with the known scenario options, not the keys of config.yaml', () => {
    const [p, ...rest] = problemsOf({ durration_seconds: 3 } as ScenarioOptions);
    expect(rest).toEqual([]);
    expect(p).toMatch(/^\(top level\): unknown key "durration_seconds": remove it or fix the spelling \(known keys: url, method, token, headers, /);
    expect(p).toContain('duration_seconds');
    expect(p).not.toContain('run_label');
  });

  it('refuses a token with a line break (it would split the Authorization header)', () => {
    const problems = problemsOf({ token: 'tok\r\nX-Injected: 1' });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^token: .*single-line token/);
    expect(problems[0]).not.toContain('X-Injected');
  });

  it('merges valid headers over config.yaml into a request the engine can build', () => {
    const s = resolveScenario('s', { headers: { 'x-team': 'b', Host: 'example.test' } }, config);
    expect(s.headers).toMatchObject({ 'x-team': 'b', host: 'example.test', authorization: 'Bearer tok-1234' });
    expect(buildRequestTemplate(s.url, s.method, s.headers, s.body).fixed!.toString('latin1')).toContain('host: example.test\r\n');
  });
});
