/**
 * The scaling sweep (issue 16): one config per replica count, the level runs per count, and a
 * whole sweep through runSweep() against a small target whose latency follows the replica count
 * (`{{replicas}}` in target.start.command), so that one count passes its SLO and the other fails.
 */
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runSweep } from '../../../api/run-sweep.ts';
import { validateConfig } from '../../../core/config/load-config.ts';
import { ConfigError } from '../../../core/errors.ts';
import { readRunSummary } from '../../../core/model/read-summary.ts';
import { measuredLevels } from '../../../core/model/summary.ts';
import { replicaConfigs, replicaRunLabel } from '../../../core/run/scaling.ts';
import { combinedOutcome } from '../../../core/run/scaling-sweep.ts';
import { levelRuns } from '../../../core/scenario/resolve.ts';
import { closedPort } from '../../helpers/servers.ts';

const SERVER = fileURLToPath(new URL('fixtures/delay-server.mjs', import.meta.url));

const base = {
  run_label: 'sweep',
  target: {
    url: 'http://127.0.0.1:8080/submit',
    method: 'POST',
    start: { command: 'node gateway.js --port 8080', ready_url: 'http://127.0.0.1:8080/healthz', env: { MODE: 'x{{replicas}}' } },
  },
  workload: { concurrency_levels: [1, 4], duration_seconds: 1 },
  report: { num_nodes: 'gateway=1, worker=${WORKERS:-2}' },
  baseline: { file: 'baselines/submit-${WORKERS:-2}x.json' },
};

describe('replicaConfigs', () => {
  it('with scaling.env: the config as WORKERS=<n> would give it, under the label <run_label>-<n>x', () => {
    const raw = { ...base, scaling: { replicas: [1, 2, 4], env: 'WORKERS' } };
    const config = validateConfig(raw, 'config.yaml', {});
    const counts = replicaConfigs(config, (env) => validateConfig(raw, 'config.yaml', env), { WORKERS: '7' });
    expect(counts.map((c) => c.replicas)).toEqual([1, 2, 4]);
    expect(counts.map((c) => c.config.run_label)).toEqual(['sweep-1x', 'sweep-2x', 'sweep-4x']);
    expect(counts.map((c) => c.config.report.num_nodes)).toEqual(['gateway=1, worker=1', 'gateway=1, worker=2', 'gateway=1, worker=4']);
    // Each count against its own baseline.
    expect(counts.map((c) => c.config.baseline?.file)).toEqual(['baselines/submit-1x.json', 'baselines/submit-2x.json', 'baselines/submit-4x.json']);
    expect(counts[2]!.config.target.start!.env).toEqual({ MODE: 'x4', WORKERS: '4' });
    expect(counts[2]!.config.target.start!.command).toBe('node gateway.js --port 8080');
  });

  it('with {{replicas}} in target.start.command: the count replaces it there, in its env, num_nodes and baseline.file', () => {
    const raw = {
      ...base,
      target: { ...base.target, start: { ...base.target.start, command: 'docker compose up --scale worker={{replicas}}' } },
      report: { num_nodes: 'worker={{replicas}}' },
      baseline: { file: 'baselines/submit-{{replicas}}x.json' },
      scaling: { replicas: [2, 3] },
    };
    const config = validateConfig(raw, 'config.yaml', {});
    const counts = replicaConfigs(config, (env) => validateConfig(raw, 'config.yaml', env), {});
    expect(counts.map((c) => c.config.target.start!.command)).toEqual(['docker compose up --scale worker=2', 'docker compose up --scale worker=3']);
    expect(counts.map((c) => [c.config.report.num_nodes, c.config.baseline!.file, c.config.target.start!.env.MODE])).toEqual([
      ['worker=2', 'baselines/submit-2x.json', 'x2'],
      ['worker=3', 'baselines/submit-3x.json', 'x3'],
    ]);
    expect(replicaRunLabel('baseline', 4)).toBe('baseline-4x');
  });

  it('refuses a scaling sweep loadbench cannot restart or tell the count', () => {
    const problems = (raw: unknown): string[] => {
      try {
        validateConfig(raw, 'config.yaml', {});
        return [];
      } catch (error) {
        return (error as ConfigError).problems;
      }
    };
    const { start: _start, ...withoutStart } = base.target;
    expect(problems({ ...base, target: withoutStart, scaling: { replicas: [1, 2], env: 'WORKERS' } })).toEqual([
      'scaling: needs target.start: loadbench restarts the target for each replica count, so it must be the one that starts it',
    ]);
    expect(problems({ ...base, scaling: { replicas: [1, 2] } })).toEqual([
      'scaling: neither scaling.env nor {{replicas}} in target.start.command: expected one, e.g. env: WORKERS, so that the target learns its replica count',
    ]);
    expect(problems({ ...base, scaling: { replicas: [1, 1], env: 'WORKERS' } })[0]).toContain('expected each replica count once');
    expect(problems({ ...base, scaling: { replicas: [1], env: 'two words' } })[0]).toContain('expected an environment variable name such as WORKERS');
    expect(problems({ ...base, target: { ...base.target, monitor: {} } })[0]).toContain('expected at least one of pids, pattern or cgroup');
    expect(problems({ ...base, target: { ...base.target, monitor: { pattern: '(' } } })[0]).toContain('expected a regular expression over command lines');
  });
});

describe('levelRuns and the combined verdict', () => {
  it('runs every level (and repetition) once per replica count, counts in order', () => {
    expect(levelRuns({ levels: [1, 8], repetitions: 1, replicas: [1, 2] })).toEqual([
      { concurrency: 1, replicas: 1 },
      { concurrency: 8, replicas: 1 },
      { concurrency: 1, replicas: 2 },
      { concurrency: 8, replicas: 2 },
    ]);
    expect(levelRuns({ levels: [1], repetitions: 2 })).toEqual([
      { concurrency: 1, repetition: 1 },
      { concurrency: 1, repetition: 2 },
    ]);
  });

  it('passes only when every count passed; an interrupt wins', () => {
    const pass = { status: 'pass' as const, exit_code: 0, failures: [] };
    const fail = { status: 'fail' as const, exit_code: 1, failures: ['x'] };
    expect(combinedOutcome([pass, pass], [], undefined)).toEqual(pass);
    expect(combinedOutcome([pass, fail], ['sweep-2x: x'], undefined)).toEqual({ status: 'fail', exit_code: 1, failures: ['sweep-2x: x'] });
    expect(combinedOutcome([pass], ['could not write y'], undefined).exit_code).toBe(1);
    expect(combinedOutcome([pass, fail], ['sweep-2x: x'], 'SIGINT')).toEqual({ status: 'interrupted', exit_code: 130, failures: ['sweep-2x: x'] });
  });
});

describe('a scaling sweep through runSweep()', () => {
  const sweepConfig = (port: number, extra: Record<string, unknown> = {}) => ({
    run_label: 'scale',
    target: {
      url: `http://127.0.0.1:${port}/submit`,
      method: 'GET',
      // The target answers after 5 ms with 1 replica (meets p95 <= 40 ms), 65 ms with 3 (does not).
      start: { command: `'${process.execPath}' '${SERVER}' ${port} {{replicas}}`, ready_url: `http://127.0.0.1:${port}/healthz`, timeout_seconds: 10 },
    },
    workload: { concurrency_levels: [1, 2], duration_seconds: 0.6, warmup_seconds: 0.2 },
    slo: { p95_ms: 40 },
    report: { num_nodes: 'worker={{replicas}}' },
    scaling: { replicas: [1, 3] },
    ...extra,
  });

  it('writes each count as its own run, then the comparison; one failing count fails the run', async () => {
    const root = mkdtempSync(join(tmpdir(), 'loadbench-scaling-'));
    const port = await closedPort();
    const lines: string[] = [];
    const summary = await runSweep({ root, config: sweepConfig(port), scenarios: [{ name: 'get' }], log: (l) => lines.push(l) });
    expect(summary.outcome?.exit_code).toBe(1);
    expect(summary.outcome?.failures.every((f) => f.startsWith('scale-3x: '))).toBe(true);
    const one = await readRunSummary(join(root, 'runs/scale-1x_summary.json'));
    const three = await readRunSummary(join(root, 'runs/scale-3x_summary.json'));
    expect(one.outcome).toEqual({ status: 'pass', exit_code: 0, failures: [] });
    expect(three.outcome?.status).toBe('fail');
    expect([one.scaling, three.scaling]).toEqual([
      { replicas: 1, sweep: [1, 3], sweep_label: 'scale' },
      { replicas: 3, sweep: [1, 3], sweep_label: 'scale' },
    ]);
    expect([one.report.num_nodes, three.report.num_nodes]).toEqual(['worker=1', 'worker=3']);
    // The target was restarted with the count: its answers say which delay it runs with.
    expect(measuredLevels(one.scenarios[0]!)[0]!.latency_ms.p50).toBeLessThan(40);
    expect(measuredLevels(three.scenarios[0]!)[0]!.latency_ms.p50).toBeGreaterThanOrEqual(65);
    expect(lines.filter((l) => l.startsWith('loadbench: starting the target:'))).toEqual([
      `loadbench: starting the target: '${process.execPath}' '${SERVER}' ${port} 1`,
      `loadbench: starting the target: '${process.execPath}' '${SERVER}' ${port} 3`,
    ]);
    for (const suffix of ['throughput.png', 'p95_latency.png', 'error_rate.png', 'summary.csv', 'report.md']) {
      expect(existsSync(join(root, `runs/scale_scaling_${suffix}`)), suffix).toBe(true);
    }
    const report = readFileSync(join(root, 'runs/scale_scaling_report.md'), 'utf8');
    expect(report).toContain('# Scaling comparison: scale-1x, scale-3x');
    expect(report).toContain('3 (scaling sweep)');
    expect(lines.at(-1)).toBe(`loadbench: scaling sweep: ${summary.outcome!.failures.length} failure(s) (exit code 1)`);
  }, 60_000);

  it('a count whose target cannot start fails each of its levels with the reason; the other counts still run', async () => {
    const root = mkdtempSync(join(tmpdir(), 'loadbench-scaling-fail-'));
    const port = await closedPort();
    const config = sweepConfig(port, { slo: {}, scaling: { replicas: [3, 1] } });
    (config.target.start as Record<string, unknown>).env = { FAIL_AT: '3' };
    const lines: string[] = [];
    const summary = await runSweep({ root, config, scenarios: [{ name: 'get' }], log: (l) => lines.push(l) });
    expect(summary.outcome?.exit_code).toBe(1);
    const three = await readRunSummary(join(root, 'runs/scale-3x_summary.json'));
    expect(three.scenarios[0]!.levels.map((l) => l.status)).toEqual(['skipped', 'skipped']);
    expect(three.outcome?.failures).toHaveLength(2);
    for (const f of three.outcome!.failures) expect(f).toMatch(/target\.start\.command exited \(code 1\).*cannot start 3 replicas/s);
    // Started once, not once per level.
    expect(lines.filter((l) => l.endsWith(' 3')).filter((l) => l.startsWith('loadbench: starting the target:'))).toHaveLength(1);
    const one = await readRunSummary(join(root, 'runs/scale-1x_summary.json'));
    expect(one.outcome?.status).toBe('pass');
    // One count measured: no comparison, and the run says why.
    expect(existsSync(join(root, 'runs/scale_scaling_report.md'))).toBe(false);
    expect(lines).toContain('loadbench: no scaling comparison (scale_scaling_*): it needs at least two measured replica counts, this run has 1');
  }, 60_000);

  it('an interrupt during the second count keeps the first count as measured and its verdict', async () => {
    const root = mkdtempSync(join(tmpdir(), 'loadbench-scaling-int-'));
    const port = await closedPort();
    const aborter = new AbortController();
    const config = sweepConfig(port, { slo: {} });
    (config.workload as { duration_seconds: number }).duration_seconds = 2;
    let second = false;
    const summary = await runSweep({
      root,
      config,
      scenarios: [{ name: 'get' }],
      signal: aborter.signal,
      // Like Ctrl-C a second into the first level of 3 replicas (0.2 s warm-up, then 2 s measured).
      log: (line) => {
        if (line.includes('run "scale-3x"')) second = true;
        if (second && line.startsWith('loadbench: target ready')) setTimeout(() => aborter.abort(), 1000);
      },
    });
    expect(summary.outcome?.status).toBe('interrupted');
    expect(summary.outcome?.exit_code).toBe(130);
    const one = await readRunSummary(join(root, 'runs/scale-1x_summary.json'));
    expect(one.outcome?.status).toBe('pass');
    expect(one.interrupted).toBe(false);
    const three = await readRunSummary(join(root, 'runs/scale-3x_summary.json'));
    expect(three.interrupted).toBe(true);
    expect(three.scenarios[0]!.levels[0]!.status).toBe('partial');
    expect(three.outcome?.status).toBe('interrupted');
  }, 60_000);
});
