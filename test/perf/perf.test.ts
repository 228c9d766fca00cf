import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatPerfMarkdown, summarizePerf } from '../../perf/perf-report.ts';
import type { GeneratorResult } from '../../perf/generator.ts';
import { REPO_ROOT } from '../helpers/fixture-project.ts';

const result = (generator: string, rps: number, cpu: number, p99: number): GeneratorResult => ({
  generator,
  requests: rps * 3,
  rps,
  cpu_us_per_request: cpu,
  p50_ms: 1,
  p99_ms: p99,
  rss_start_mb: 90,
  rss_peak_mb: 100,
  errors: 0,
});

describe('perf summary', () => {
  it('gives medians, ranges, loadbench/autocannon ratios and the raw CSV cost', () => {
    const s = summarizePerf(
      [
        {
          delay_ms: 0,
          connections: 64,
          seconds: 3,
          reps: 3,
          results: [
            result('loadbench', 40_000, 20, 6), result('autocannon', 50_000, 16, 3), result('loadbench+raw', 36_000, 22, 7),
            result('loadbench', 44_000, 19, 5), result('autocannon', 52_000, 17, 4), result('loadbench+raw', 39_600, 21, 6),
            result('loadbench', 42_000, 21, 7), result('autocannon', 48_000, 18, 3), result('loadbench+raw', 37_800, 23, 8),
          ],
        },
      ],
      { taskset: true, node: 'v20' },
    );
    const sc = s.scenarios[0]!;
    expect(sc.generators.find((g) => g.generator === 'loadbench')!.rps).toEqual({ median: 42_000, min: 40_000, max: 44_000 });
    expect(sc.ratios.rps).toBeCloseTo(42 / 50, 10);
    expect(sc.ratios.cpu_us_per_request).toBeCloseTo(20 / 17, 10);
    expect(sc.ratios.p99_ms).toBeCloseTo(6 / 3, 10);
    expect(sc.raw_csv_cost).toBeCloseTo(1 - 37_800 / 42_000, 10);
    expect(formatPerfMarkdown(s)).toContain('| loadbench | 42000 (40000–44000) | 20.0 (19.0–21.0) |');
  });
});

describe('npm run perf -- --quick', () => {
  it('runs both generators against both servers, writes the JSON and leaves no process behind', () => {
    const out = join(REPO_ROOT, 'runs/.perf-test');
    rmSync(out, { recursive: true, force: true });
    try {
      const r = spawnSync(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'perf/run-perf.ts'), '--quick', '--output-dir', 'runs/.perf-test'], {
        cwd: REPO_ROOT,
        encoding: 'utf8',
        timeout: 120_000,
      });
      expect(r.status, r.stderr + r.stdout).toBe(0);
      expect(r.stdout).toContain('loadbench / autocannon (medians)');
      const json = readdirSync(out).find((f) => f.endsWith('.json'))!;
      const data = JSON.parse(readFileSync(join(out, json), 'utf8'));
      expect(data.scenarios.map((s: { delay_ms: number }) => s.delay_ms)).toEqual([0, 20]);
      for (const s of data.scenarios) {
        const names = s.generators.map((g: { generator: string }) => g.generator);
        expect(names).toContain('loadbench');
        expect(names).toContain('autocannon');
        for (const g of s.generators) expect(g.rps.median).toBeGreaterThan(0);
        expect(Number.isFinite(s.ratios.cpu_us_per_request)).toBe(true);
      }
      const left = execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' })
        .split('\n')
        .filter((l) => l.includes('perf/perf-server.ts') || l.includes('perf/generator.ts'));
      expect(left).toEqual([]);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
});
