import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { RunSummary } from '../../plugin/types.ts';
import { compareRuns, replicasFromNumNodes, type CompareInput } from '../../reporters/compare/compare-model.ts';
import { formatCompareCsv } from '../../reporters/compare/compare-outputs.ts';
import { fixtureLevel, kneeSummary } from '../fixtures/summaries.ts';
import { REPO_ROOT } from '../helpers/fixture-project.ts';

/** A run whose throughput at each level is `base x factor` (and p95 given). */
function run(label: string, factor: number, levels = [1, 2, 4, 8], workers = 1): RunSummary {
  const s = kneeSummary();
  s.run_label = label;
  s.report.num_nodes = `gateway=1, worker=${workers}`;
  const sc = s.scenarios[0]!;
  sc.levels = levels.map((c) => fixtureLevel('submit', c, 100 * Math.min(c, 4) * factor, 10 + c));
  sc.workload.concurrency_levels = levels;
  return s;
}

const input = (summary: RunSummary, replicas: number): CompareInput => ({
  label: summary.run_label,
  summary,
  replicas,
  replicasFrom: 'num_nodes',
});

describe('compareRuns', () => {
  it('computes exact speed-ups and efficiencies against the first run', () => {
    const c = compareRuns([input(run('1x', 1), 1), input(run('2x', 1.8), 2), input(run('4x', 1.9), 4)], 2);
    expect(c.figures.map((f) => [f.label, f.peak?.throughput_rps, f.speedup, f.efficiency])).toEqual([
      ['1x', 400, 1, 1],
      ['2x', 720, 1.8, 0.9],
      ['4x', 760, 1.9, 0.475],
    ]);
    expect(c.scaling[0]).toMatch(/^1x to 2x \(1 to 2 replicas\): peak throughput \+80 % .*still pays/);
    expect(c.scaling[1]).toMatch(/^2x to 4x \(2 to 4 replicas\): peak throughput \+6 % .*scaling stops here; this machine has 2 CPU cores/);
    expect(c.differences).toEqual([]);
  });

  it('compares runs with different workloads only on what they share, and says what differs', () => {
    const a = run('a', 1, [1, 2, 4, 8]);
    const b = run('b', 2, [2, 4, 8, 16]);
    b.scenarios[0]!.workload.duration_seconds = 10;
    b.scenarios.push({ ...b.scenarios[0]!, name: 'only-in-b' });
    const c = compareRuns([input(a, 1), input(b, 2)], 2);
    expect(c.scenarios).toEqual(['submit']);
    expect(c.levels.submit).toEqual([2, 4, 8]);
    expect(c.rows.every((r) => [2, 4, 8].includes(r.level.concurrency))).toBe(true);
    expect(c.differences.join('\n')).toContain('scenario "only-in-b" is only in b: left out');
    expect(c.differences.join('\n')).toContain('concurrency levels differs: a has 1, 2, 4, 8, b has 2, 4, 8, 16');
    expect(c.differences.join('\n')).toContain('per-level amount differs: a has 5 s, b has 10 s');
    const csv = formatCompareCsv(c).trim().split('\n');
    expect(csv[0]).toBe('label,scenario,concurrency,requests,throughput_rps,latency_p50_ms,latency_p95_ms,latency_p99_ms,error_rate_pct,slo_pass');
    expect(csv).toHaveLength(1 + 6);
  });

  it('reads the replica count from num_nodes', () => {
    expect(replicasFromNumNodes('gateway=1, worker=4')).toBe(4);
    expect(replicasFromNumNodes('replicas: 3')).toBe(3);
    expect(replicasFromNumNodes('2')).toBe(2);
    expect(replicasFromNumNodes('one big box')).toBeUndefined();
  });
});

describe('npm run compare', () => {
  function project(): string {
    const dir = mkdtempSync(join(tmpdir(), 'loadbench-compare-'));
    mkdirSync(join(dir, 'runs'));
    symlinkSync(join(REPO_ROOT, 'node_modules'), join(dir, 'node_modules'));
    return dir;
  }
  const cli = (dir: string, ...args: string[]) =>
    spawnSync(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'reporters/cli/compare.ts'), ...args], { cwd: dir, encoding: 'utf8' });

  it('writes overlay charts, the CSV and the report', () => {
    const dir = project();
    for (const [label, f, w] of [['1x', 1, 1], ['2x', 1.8, 2]] as const) {
      writeFileSync(join(dir, 'runs', `${label}_summary.json`), JSON.stringify(run(label, f, [1, 2, 4, 8], w)));
    }
    const r = cli(dir, '1x', '2x');
    expect(r.status, r.stderr).toBe(0);
    for (const suffix of ['_throughput.png', '_p95_latency.png', '_error_rate.png', '_summary.csv', '_report.md']) {
      expect(existsSync(join(dir, 'runs', `compare_1x_2x${suffix}`)), suffix).toBe(true);
    }
    const png = readFileSync(join(dir, 'runs/compare_1x_2x_throughput.png'));
    expect(png.readUInt32BE(16)).toBe(1200);
    expect(png.readUInt32BE(20)).toBe(700);
    const report = readFileSync(join(dir, 'runs/compare_1x_2x_report.md'), 'utf8');
    expect(report).toContain('| 2x | submit | 2 (num_nodes) | 720.0 | 4 |');
    expect(report).toContain('1.80x');
    expect(report).toContain('90 %');
    expect(report).toContain('![Throughput](compare_1x_2x_throughput.png)');
  });

  it('names the missing file, and a summary of another version', () => {
    const dir = project();
    writeFileSync(join(dir, 'runs', '1x_summary.json'), JSON.stringify(run('1x', 1)));
    const missing = cli(dir, '1x', 'nope');
    expect(missing.status).toBe(2);
    expect(missing.stderr).toMatch(/runs\/nope_summary\.json: no such summary/);
    writeFileSync(join(dir, 'runs', 'old_summary.json'), JSON.stringify({ ...run('old', 1), version: 0 }));
    const old = cli(dir, '1x', 'old');
    expect(old.status).toBe(2);
    expect(old.stderr).toMatch(/old_summary\.json: summary format version 0, this loadbench reads version 1/);
    expect(cli(dir, '1x').stderr).toContain('give at least two run labels');
  });
});
