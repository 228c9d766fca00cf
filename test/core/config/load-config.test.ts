import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { interpolateEnv, loadConfig, validateConfig } from '../../../core/config/load-config.ts';
import { ConfigError } from '../../../core/errors.ts';

const base = {
  target: { url: 'http://localhost:8080/submit', method: 'POST', token: 't' },
  workload: { concurrency_levels: [1, 2], duration_seconds: 1 },
};

function problemsOf(raw: unknown, env: NodeJS.ProcessEnv = {}): string[] {
  try {
    validateConfig(raw, 'config.yaml', env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems;
  }
  throw new Error('expected a ConfigError');
}

function withYaml(text: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'loadbench-config-'));
  writeFileSync(join(dir, 'config.yaml'), text);
  return dir;
}

describe('validateConfig', () => {
  it('fills defaults for a minimal valid config', () => {
    const c = validateConfig(base, 'config.yaml', {});
    expect(c.run_label).toBe('baseline');
    expect(c.output_dir).toBe('runs');
    expect(c.workload.timeout_seconds).toBe(10);
    expect(c.workload.warmup_seconds).toBe(0);
    expect(c.report.hardware_env).toBe('auto');
    expect(c.slo).toEqual({});
  });

  it('names an unknown key, with the known keys', () => {
    const [p, ...rest] = problemsOf({ ...base, worklod: {} });
    expect(rest).toEqual([]);
    expect(p).toContain('"worklod"');
    expect(p).toContain('known keys: run_label, output_dir, target, workload');
  });

  it('names a nested unknown key with its path', () => {
    const problems = problemsOf({ ...base, workload: { ...base.workload, durration_seconds: 3 } });
    expect(problems.join('\n')).toMatch(/^workload: unknown key "durration_seconds"/m);
  });

  it('reports a wrong type with what was found and what is expected', () => {
    const problems = problemsOf({ ...base, workload: { ...base.workload, timeout_seconds: 'ten' } });
    expect(problems).toEqual(['workload.timeout_seconds: found the string "ten", expected number']);
  });

  it('refuses a level listed twice, and points at repetitions', () => {
    expect(problemsOf({ ...base, workload: { duration_seconds: 1, concurrency_levels: [2, 1, 2, 4, 4] } })).toEqual([
      'workload.concurrency_levels: levels 2, 4 listed more than once: expected each level once (use repetitions to repeat levels)',
    ]);
  });

  it('refuses a report.template that does not exist when the config is loaded, before any load', () => {
    const dir = withYaml(
      'target: { url: "http://localhost:8080/submit", method: POST }\nworkload: { concurrency_levels: [1], duration_seconds: 1 }\nreport: { template: no/such/template.mustache }\n',
    );
    expect(() => loadConfig(undefined, dir, {})).toThrow(ConfigError);
    try {
      loadConfig(undefined, dir, {});
    } catch (error) {
      expect((error as ConfigError).problems).toEqual([
        `report.template: found "no/such/template.mustache": no such file (relative to ${dir}); fix the path, or remove the key to use the built-in report`,
      ]);
    }
    writeFileSync(join(dir, 'mine.mustache'), '# {{run_label}}\n');
    writeFileSync(join(dir, 'config.yaml'), 'target: { url: "http://localhost:8080/submit", method: POST }\nworkload: { concurrency_levels: [1], duration_seconds: 1 }\nreport: { template: mine.mustache }\n');
    expect(loadConfig(undefined, dir, {}).config.report.template).toBe('mine.mustache');
  });

  it('refuses an empty and a negative concurrency list', () => {
    expect(problemsOf({ ...base, workload: { duration_seconds: 1, concurrency_levels: [] } })[0]).toMatch(
      /^workload.concurrency_levels: found an empty list: .*at least one concurrency level/,
    );
    expect(problemsOf({ ...base, workload: { duration_seconds: 1, concurrency_levels: [4, -2] } })[0]).toMatch(
      /^workload.concurrency_levels.1: found number -2/,
    );
  });

  it('requires exactly one of duration_seconds and requests_per_level', () => {
    expect(problemsOf({ ...base, workload: { concurrency_levels: [1] } })).toEqual([
      'workload: neither duration_seconds nor requests_per_level is set: expected exactly one of them',
    ]);
    expect(
      problemsOf({ ...base, workload: { concurrency_levels: [1], duration_seconds: 1, requests_per_level: 5 } }),
    ).toEqual(['workload: both duration_seconds and requests_per_level are set: expected exactly one of them']);
  });

  it('refuses an unparsable URL', () => {
    const problems = problemsOf({ ...base, target: { ...base.target, url: 'localhost:8080/submit' } });
    expect(problems[0]).toMatch(/^target.url: found the string "localhost:8080\/submit": expected an absolute http/);
  });

  it('reports every problem at once, one line each', () => {
    const problems = problemsOf({ target: { url: 'nope', method: 'POST' }, workload: { concurrency_levels: [] } });
    expect(problems.length).toBeGreaterThanOrEqual(2);
    expect(problems.every((p) => !p.includes('\n'))).toBe(true);
  });

  it('refuses run labels and output folders that would escape the output folder', () => {
    expect(problemsOf({ ...base, run_label: '../x' })[0]).toMatch(/^run_label: .*no "\/", ".."/);
    expect(problemsOf({ ...base, output_dir: '../elsewhere' })[0]).toMatch(/^output_dir: .*inside the project/);
    expect(problemsOf({ ...base, output_dir: '/tmp' })[0]).toMatch(/^output_dir: /);
  });

  it('applies the LOADBENCH_* environment overrides', () => {
    const c = validateConfig(base, 'config.yaml', {
      LOADBENCH_RUN_LABEL: '2x',
      LOADBENCH_TARGET_URL: 'http://127.0.0.1:9999/x',
      LOADBENCH_TOKEN: 'from-env',
    });
    expect(c.run_label).toBe('2x');
    expect(c.target.url).toBe('http://127.0.0.1:9999/x');
    expect(c.target.token).toBe('from-env');
  });
});

describe('validateConfig: times that setTimeout can hold', () => {
  const workload = (extra: Record<string, unknown>): unknown => ({ ...base, workload: { ...base.workload, ...extra } });

  it('bounds duration_seconds and warmup_seconds at one day', () => {
    expect(problemsOf(workload({ duration_seconds: 1e300 }))).toEqual([
      'workload.duration_seconds: found number 1e+300: expected at most 86400 (one day)',
    ]);
    expect(problemsOf(workload({ warmup_seconds: 86_401 }))).toEqual([
      'workload.warmup_seconds: found number 86401: expected at most 86400 (one day)',
    ]);
    const c = validateConfig(workload({ duration_seconds: 86_400, warmup_seconds: 86_400 }), 'config.yaml', {});
    expect(c.workload.duration_seconds).toBe(86_400);
  });

  it('bounds timeout_seconds and target.start.timeout_seconds at one hour', () => {
    expect(problemsOf(workload({ timeout_seconds: 3_601 }))).toEqual([
      'workload.timeout_seconds: found number 3601: expected at most 3600 (one hour)',
    ]);
    const start = { command: 'node server.js', ready_url: 'http://localhost:8080/healthz' };
    expect(problemsOf({ ...base, target: { ...base.target, start: { ...start, timeout_seconds: 1e10 } } })).toEqual([
      'target.start.timeout_seconds: found number 10000000000: expected at most 3600 (one hour)',
    ]);
    const c = validateConfig({ ...base, target: { ...base.target, start: { ...start, timeout_seconds: 3_600 } } }, 'config.yaml', {});
    expect(c.target.start?.timeout_seconds).toBe(3_600);
    expect(validateConfig(workload({ timeout_seconds: 3_600 }), 'config.yaml', {}).workload.timeout_seconds).toBe(3_600);
  });

  it('reports every bound at once, with the key path', () => {
    const problems = problemsOf(workload({ duration_seconds: 1e9, warmup_seconds: 1e9, timeout_seconds: 1e9 }));
    expect(problems.map((p) => p.split(':')[0])).toEqual([
      'workload.duration_seconds',
      'workload.warmup_seconds',
      'workload.timeout_seconds',
    ]);
  });
});

describe('validateConfig: headers and token', () => {
  const headers = (h: Record<string, unknown>): unknown => ({ ...base, target: { ...base.target, headers: h } });

  it('refuses a header value with a line break (header injection), without quoting the value', () => {
    expect(problemsOf(headers({ 'x-a': 'v\r\nX-Injected: 1' }))).toEqual([
      'target.headers.x-a: found a value with a line break, expected a single-line header value',
    ]);
    expect(problemsOf(headers({ 'x-a': 'only\nLF' }))).toEqual([
      'target.headers.x-a: found a value with a line break, expected a single-line header value',
    ]);
  });

  it('refuses NUL, other control characters and characters beyond Latin-1 in a value; allows tab and Latin-1', () => {
    expect(problemsOf(headers({ 'x-a': 'a\0b' }))).toEqual([
      'target.headers.x-a: found a value with a NUL character, expected a header value without control characters',
    ]);
    expect(problemsOf(headers({ 'x-a': 'bell\u0007' }))).toEqual([
      'target.headers.x-a: found a value with the control character U+0007, expected a header value without control characters (tab is allowed)',
    ]);
    expect(problemsOf(headers({ 'x-a': 'del\u007f' }))[0]).toMatch(/control character U\+007F/);
    expect(problemsOf(headers({ 'x-a': '5 €' }))).toEqual([
      'target.headers.x-a: found a value with the character U+20AC, expected a header value of Latin-1 characters only (up to U+00FF)',
    ]);
    const c = validateConfig(headers({ 'x-a': 'tab\there, café', 'x-n': 42 }), 'config.yaml', {});
    expect(c.target.headers).toEqual({ 'x-a': 'tab\there, café', 'x-n': '42' });
  });

  it('refuses a header name that is not an HTTP token', () => {
    expect(problemsOf(headers({ 'bad name': 'z' }))).toEqual([
      `target.headers."bad name": found the header name "bad name", expected an HTTP token: letters, digits and !#$%&'*+-.^_\`|~ only (no spaces, no ":")`,
    ]);
    expect(problemsOf(headers({ 'x-a:': 'z' }))[0]).toMatch(/^target\.headers\.x-a:: found the header name "x-a:", expected an HTTP token/);
    expect(problemsOf(headers({ 'x-ü': 'z' }))[0]).toMatch(/expected an HTTP token/);
    expect(problemsOf(headers({ '': 'z' }))).toEqual([
      'target.headers."": found an empty header name, expected a name such as x-request-id',
    ]);
    expect(validateConfig(headers({ "X-A!#$%&'*+-.^_`|~09": 'z' }), 'config.yaml', {}).target.headers).toHaveProperty("X-A!#$%&'*+-.^_`|~09");
  });

  it('reports the example of a bad value and a bad name together, one line each', () => {
    expect(problemsOf(headers({ 'x-a': 'v\r\nX-Injected: 1', 'bad name': 'z' }))).toEqual([
      'target.headers.x-a: found a value with a line break, expected a single-line header value',
      expect.stringMatching(/^target\.headers\."bad name": found the header name "bad name", expected an HTTP token/),
    ]);
  });

  it('refuses the framing headers the engine sets itself, and a header given twice', () => {
    expect(problemsOf(headers({ 'Content-Length': '3' }))).toEqual([
      'target.headers.Content-Length: found a content-length header, expected none: loadbench sets content-length from the body of each request',
    ]);
    expect(problemsOf(headers({ 'transfer-encoding': 'chunked' }))).toEqual([
      'target.headers.transfer-encoding: found a transfer-encoding header, expected none: loadbench sends every body with a content-length, never chunked',
    ]);
    expect(problemsOf(headers({ 'X-Request-Id': '1', 'x-request-id': '2' }))).toEqual([
      'target.headers.x-request-id: found the header name "X-Request-Id" as well, expected each header once (names are case-insensitive)',
    ]);
  });

  it('allows host and connection (they replace the engine defaults), but not an empty host', () => {
    const c = validateConfig(headers({ Host: 'example.test', connection: 'close' }), 'config.yaml', {});
    expect(c.target.headers).toEqual({ Host: 'example.test', connection: 'close' });
    expect(problemsOf(headers({ host: ' ' }))).toEqual([
      'target.headers.host: found an empty host header, expected a host such as example.test:8080, or no host header',
    ]);
  });

  it('refuses a token that is not a single-line Latin-1 value, without quoting it', () => {
    const token = (t: string): unknown => ({ ...base, target: { ...base.target, token: t } });
    expect(problemsOf(token('secret\r\nX-Injected: 1'))).toEqual([
      'target.token: found a value with a line break, expected a single-line token',
    ]);
    expect(problemsOf(token('secret\u0001'))).toEqual([
      'target.token: found a value with the control character U+0001, expected a token without control characters (tab is allowed)',
    ]);
    expect(problemsOf(token('sécret€'))[0]).toBe(
      'target.token: found a value with the character U+20AC, expected a token of Latin-1 characters only (up to U+00FF)',
    );
    expect(problemsOf(token('secret\nX')).join('\n')).not.toContain('secret');
  });
});

describe('validateConfig: values from the environment', () => {
  it('names LOADBENCH_RUN_LABEL, not the YAML key alone, for a bad run label from the environment', () => {
    expect(problemsOf(base, { LOADBENCH_RUN_LABEL: '../x' })).toEqual([
      'run_label (from the environment variable LOADBENCH_RUN_LABEL): found the string "../x": expected letters, digits, ".", "_" or "-" only (no "/", "..", spaces), e.g. baseline or 2x-replicas',
    ]);
    // The same value written in the YAML names only the key.
    expect(problemsOf({ ...base, run_label: '../x' })[0]).toMatch(/^run_label: found the string "\.\.\/x"/);
  });

  it('names LOADBENCH_TARGET_URL and LOADBENCH_TOKEN', () => {
    expect(problemsOf(base, { LOADBENCH_TARGET_URL: 'localhost:8080', LOADBENCH_TOKEN: 'a\nb' })).toEqual([
      'target.url (from the environment variable LOADBENCH_TARGET_URL): found the string "localhost:8080": expected an absolute http:// or https:// URL, e.g. http://localhost:8080/submit',
      'target.token (from the environment variable LOADBENCH_TOKEN): found a value with a line break, expected a single-line token',
    ]);
  });

  it('names the ${VAR} that filled in a bad value', () => {
    expect(problemsOf({ ...base, target: { ...base.target, token: '${MY_TOKEN}' } }, { MY_TOKEN: 'x\ry' })).toEqual([
      'target.token (with ${MY_TOKEN} from the environment): found a value with a line break, expected a single-line token',
    ]);
    expect(problemsOf({ ...base, target: { ...base.target, headers: { 'x-id': 'run-${RUN}' } } }, { RUN: '1\n2' })).toEqual([
      'target.headers.x-id (with ${RUN} from the environment): found a value with a line break, expected a single-line header value',
    ]);
  });
});

describe('interpolateEnv', () => {
  it('replaces ${VAR} and ${VAR:-default}', () => {
    const problems: string[] = [];
    const out = interpolateEnv({ a: '${A}', b: ['x-${B:-dflt}'], c: 3 }, { A: 'one' }, [], problems);
    expect(out).toEqual({ a: 'one', b: ['x-dflt'], c: 3 });
    expect(problems).toEqual([]);
  });

  it('names an unset variable without a default', () => {
    const problems = problemsOf({ ...base, target: { ...base.target, token: '${NOPE_TOKEN}' } });
    expect(problems).toEqual([
      'target.token: environment variable NOPE_TOKEN is not set: set it, or write ${NOPE_TOKEN:-default}',
    ]);
  });
});

describe('loadConfig', () => {
  it('reads the shipped config.yaml', () => {
    const { config } = loadConfig('config.yaml', process.cwd(), {});
    expect(config.target.token).toBe('dev-token');
    expect(config.workload.concurrency_levels!.length).toBeGreaterThan(0);
  });

  it('says a missing file is missing, and how to fix it', () => {
    expect(() => loadConfig('nope.yaml', tmpdir(), {})).toThrowError(/file not found: create it/);
  });

  it('reports a YAML syntax error with its line', () => {
    const dir = withYaml('target:\n  url: "http://x\nworkload: [\n');
    try {
      loadConfig(undefined, dir, {});
      throw new Error('expected a ConfigError');
    } catch (error) {
      expect((error as ConfigError).problems[0]).toMatch(/^YAML syntax error at line \d+, column \d+/);
    }
  });

  it('uses LOADBENCH_CONFIG when no path is given', () => {
    const dir = withYaml(
      'target: { url: "http://127.0.0.1:1/x", method: GET }\nworkload: { concurrency_levels: [3], requests_per_level: 7 }\n',
    );
    const { config } = loadConfig(undefined, '/', { LOADBENCH_CONFIG: join(dir, 'config.yaml') });
    expect(config.workload.requests_per_level).toBe(7);
    expect(config.target.method).toBe('GET');
  });
});
