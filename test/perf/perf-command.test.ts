import { spawn } from 'node:child_process';
import { readFileSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { GeneratorResult } from '../../perf/generator.ts';
import { formatPerfMarkdown, summarizePerf, type PerfSummary } from '../../perf/perf-report.ts';
import { REPO_ROOT } from '../helpers/fixture-project.ts';

const result = (generator: string, rps: number, cpu: number, p99: number): GeneratorResult => ({
  generator,
  requests: rps * 3,
  rps,
  cpu_us_per_request: cpu,
  cpu_pct: 80,
  p50_ms: 1,
  p99_ms: p99,
  rss_start_mb: 90,
  rss_peak_mb: 100,
  errors: 0,
});

/** A perf summary of one fast-server scenario (64 connections, 3 s, pinned) with these results. */
function fastServerSummary(reps: number, results: Parameters<typeof summarizePerf>[0][number]['results']) {
  return summarizePerf(
    [{ delay_ms: 0, connections: 64, seconds: 3, warmup_s: 1, reps, pinned: true, results }],
    { taskset: true, node: 'v20', load_before: 0.5 },
  );
}

describe('perf summary', () => {
  it('gives medians, ranges, loadbench/autocannon ratios and the raw CSV cost', () => {
    const s = fastServerSummary(3, [
      result('loadbench', 40_000, 20, 6), result('autocannon', 50_000, 16, 3), result('loadbench+raw', 36_000, 22, 7),
      result('loadbench', 44_000, 19, 5), result('autocannon', 52_000, 17, 4), result('loadbench+raw', 39_600, 21, 6),
      result('loadbench', 42_000, 21, 7), result('autocannon', 48_000, 18, 3), result('loadbench+raw', 37_800, 23, 8),
    ]);
    const sc = s.scenarios[0]!;
    expect(sc.generators.find((g) => g.generator === 'loadbench')!.rps).toEqual({ median: 42_000, min: 40_000, max: 44_000 });
    expect(sc.ratios.rps).toBeCloseTo(42 / 50, 10);
    expect(sc.ratios.cpu_us_per_request).toBeCloseTo(20 / 17, 10);
    expect(sc.ratios.p99_ms).toBeCloseTo(6 / 3, 10);
    expect(sc.raw_csv_cost).toBeCloseTo(1 - 37_800 / 42_000, 10);
    const md = formatPerfMarkdown(s);
    expect(md).toContain('| loadbench | 42000 (40000–44000) | 20.0 (19.0–21.0) | 80 |');
    expect(md).toContain('raw CSV on costs 10.0 % of throughput');
  });

  it('calls a raw CSV variant that came out faster noise, not a negative cost', () => {
    const s = fastServerSummary(1, [result('loadbench', 50_000, 13, 3), result('autocannon', 50_000, 16, 3), result('loadbench+raw', 52_500, 13, 3)]);
    expect(s.scenarios[0]!.raw_csv_cost).toBeCloseTo(-0.05, 10);
    const md = formatPerfMarkdown(s);
    expect(md).toContain('raw CSV on costs nothing measurable (its median was 5.0 % higher: noise)');
    expect(md).not.toContain('costs -');
  });
});

/** Live processes whose environment carries `mark`: every descendant of a run inherits it. */
function processesWith(mark: string): number[] {
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/environ`, 'latin1').includes(mark)) found.push(Number(entry));
    } catch {
      // gone, or not ours to read
    }
  }
  return found;
}

function runPerf(args: string[], mark: string, onStdout?: (text: string, child: ReturnType<typeof spawn>) => void) {
  const child = spawn(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'perf/run-perf.ts'), ...args], {
    cwd: REPO_ROOT,
    env: { ...process.env, LOADBENCH_PERF_TEST: mark },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => {
    stdout += c;
    onStdout?.(stdout, child);
  });
  child.stderr.on('data', (c: Buffer) => (stderr += c));
  const timer = setTimeout(() => child.kill('SIGKILL'), 55_000);
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) =>
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    }),
  );
}

describe.runIf(process.platform === 'linux')('npm run perf', () => {
  it('--quick runs both generators against both servers, writes the JSON and leaves no process behind', { timeout: 60_000 }, async () => {
    const out = join(REPO_ROOT, `runs/.perf-test-${process.pid}`);
    const mark = `quick-${process.pid}-${Date.now()}`;
    try {
      const r = await runPerf(['--quick', '--output-dir', out], mark);
      expect(r.code, r.stderr + r.stdout).toBe(0);
      expect(r.stdout).toContain('loadbench / autocannon (medians)');
      const json = readdirSync(out).find((f) => f.endsWith('.json'))!;
      expect(readdirSync(out)).toContain(json.replace(/\.json$/, '.md'));
      const data = JSON.parse(readFileSync(join(out, json), 'utf8')) as PerfSummary;
      expect(data.scenarios.map((s) => s.delay_ms)).toEqual([0, 20]);
      for (const s of data.scenarios) {
        const names = s.generators.map((g) => g.generator);
        expect(names).toEqual(expect.arrayContaining(['loadbench', 'autocannon']));
        for (const g of s.generators) {
          expect(g.rps.median).toBeGreaterThan(0);
          expect(g.cpu_us_per_request.median).toBeGreaterThan(0);
          expect(g.errors).toBe(0);
        }
        expect(Number.isFinite(s.ratios.cpu_us_per_request)).toBe(true);
      }
      expect(data.scenarios[0]!.raw_csv_cost).toBeDefined();
      expect(processesWith(mark)).toEqual([]);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });

  it('stops every child on Ctrl-C', { timeout: 30_000 }, async () => {
    const mark = `sigint-${process.pid}-${Date.now()}`;
    let sent = false;
    const r = await runPerf(['--reps', '3', '--seconds', '5', '--output-dir', `runs/.perf-test-${process.pid}`], mark, (text, child) => {
      // Interrupt while a generator is running, after the first measured repetition.
      if (!sent && text.includes('rep 1/3')) {
        sent = true;
        child.kill('SIGINT');
      }
    });
    expect(sent).toBe(true);
    expect(r.code).toBe(130);
    expect(r.stderr).toContain('SIGINT');
    // Children die with SIGKILL; give the kernel a moment to reap them.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(processesWith(mark)).toEqual([]);
  });
});
