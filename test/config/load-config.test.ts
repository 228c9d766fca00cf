import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, interpolateEnv, loadConfig, validateConfig } from '../../plugin/config/load-config.ts';

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
    expect(config.workload.concurrency_levels.length).toBeGreaterThan(0);
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
