import { existsSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCanvas, loadImage } from '@napi-rs/canvas';
import { describe, expect, it } from 'vitest';
import { levelsOf } from '../../fixtures/summaries.ts';
import type { RunSummary } from '../../../core/model/summary.ts';
import { compareRuns, replicasFromNumNodes, type CompareInput } from '../../../reporters/compare/compare-model.ts';
import { colorAt } from '../../../reporters/charts/line-chart.ts';
import { formatCompareCsv } from '../../../reporters/compare/compare-outputs.ts';
import { fixtureLevel, kneeSummary } from '../../fixtures/summaries.ts';
import { REPO_ROOT } from '../../helpers/fixture-project.ts';
import { runLoadbench } from '../../helpers/cli.ts';

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
    expect(c.scaling).toEqual([
      '1x to 2x (1 to 2 replicas): peak throughput 400 → 720 req/s (+80 %), step efficiency 90 %; p95 at concurrency 4 14.0 → 14.0 ms (+0 %): adding replicas still pays.',
      '2x to 4x (2 to 4 replicas): peak throughput 720 → 760 req/s (+6 %), step efficiency 53 %; p95 at concurrency 4 14.0 → 14.0 ms (+0 %): scaling stops here. ' +
        "At 4x's peak 4.0 of 4 clients were in the system (Little's law), so requests queued inside it: " +
        'this machine has 2 CPU cores and 4x runs 4 replicas beside the gateway and the load generator, so the gateway or the CPU cores, not the replica count, are the limit.',
    ]);
    expect(c.differences).toEqual([]);
    // Single runs: the only caveat is that a small step may be noise.
    expect(c.caveats).toEqual([expect.stringMatching(/^every level of every run was measured once: .*set workload\.repetitions: 3/)]);
  });

  it('drops the single-run caveat when the levels were repeated', () => {
    const a = run('1x', 1);
    const b = run('2x', 1.8);
    for (const r of [a, b]) for (const l of r.scenarios[0]!.levels) l.repetition = 1;
    const extra = (r: RunSummary) => r.scenarios[0]!.levels.map((l) => ({ ...structuredClone(l), repetition: 2 }));
    a.scenarios[0]!.levels.push(...extra(a));
    b.scenarios[0]!.levels.push(...extra(b));
    const c = compareRuns([input(a, 1), input(b, 2)], 2);
    expect(c.caveats.some((x) => x.startsWith('every level of every run was measured once'))).toBe(false);
  });

  it("says when Little's law points at the client, not the system", () => {
    const a = run('1x', 1);
    const b = run('2x', 1.05);
    // Half the clients' time was spent outside the target: mean latency is half of concurrency / throughput.
    for (const l of levelsOf(b.scenarios[0]!)) l.latency_ms = { ...l.latency_ms, mean: l.latency_ms.mean / 2 };
    const c = compareRuns([input(a, 1), input(b, 2)], 2);
    expect(c.scaling[0]).toMatch(/scaling stops here\. At 2x's peak only 2\.0 of 4 clients were in the system on average .*load generator/);
  });

  it('does not blame the system for a step measured by a saturated load generator, and lists such levels', () => {
    const a = run('1x', 1);
    const b = run('2x', 1.05);
    for (const l of levelsOf(b.scenarios[0]!).filter((x) => x.concurrency >= 4)) {
      l.generator = { cpu_pct: 95, event_loop_delay_p99_ms: 12, client_bound: true };
    }
    const c = compareRuns([input(a, 1), input(b, 2)], 2);
    expect(c.scaling[0]).toBe(
      '1x to 2x (1 to 2 replicas): peak throughput 400 → 420 req/s (+5 %), but the load generator was saturated at a peak level, so this step says more about the client than the system.',
    );
    expect(c.caveats).toEqual([
      expect.stringMatching(/^2x: the load generator was saturated or delayed at concurrency 4, 8: /),
      expect.stringMatching(/^every level of every run was measured once/),
    ]);
    // A step that was not judged must not turn into "throughput kept growing".
    expect(c.scaling).toHaveLength(2);
    expect(c.scaling[1]).toMatch(/^where scaling stops cannot be told from these runs/);
    expect(c.scaling.join(' ')).not.toContain('kept growing');
  });

  it('says kept growing only when every step still paid', () => {
    const c = compareRuns([input(run('1x', 1), 1), input(run('2x', 1.9), 2)], 8);
    expect(c.scaling.at(-1)).toBe('throughput kept growing up to 2x; measure more replicas to find where scaling stops.');
  });

  it('calls a comparison at the same replica count run-to-run variation, not scaling', () => {
    const c = compareRuns([input(run('a', 1), 2), input(run('b', 1), 2)], 2);
    expect(c.scaling[0]).toMatch(/^a to b \(2 to 2 replicas\): peak throughput 400 → 400 req\/s \(\+0 %\); .*: the same replica count, so this difference is run-to-run variation, not scaling\.$/);
    expect(c.scaling.join(' ')).not.toContain('kept growing');
  });

  it("does not read queueing into a peak at fewer clients than replicas", () => {
    const a = run('1x', 1);
    const b = run('4x', 1);
    // 4x peaks at concurrency 1 and loses throughput beyond it.
    b.scenarios[0]!.levels = [1, 2, 4, 8].map((c) => fixtureLevel('submit', c, c === 1 ? 450 : 300, 10 + c));
    const c = compareRuns([input(a, 1), input(b, 4)], 2);
    expect(c.scaling[0]).toContain("scaling stops here. 4x's peak is at concurrency 1, fewer clients than its 4 replicas");
    expect(c.scaling[0]).not.toContain('queued inside it');
  });

  it('counts a repeated level once, as its median-throughput repetition, and says the repetitions differ', () => {
    const a = run('a', 1);
    const b = run('b', 1.5);
    const lv = levelsOf(b.scenarios[0]!);
    b.scenarios[0]!.levels = lv.flatMap((l) => [0.5, 1, 3].map((f, k) => ({ ...l, throughput_rps: l.throughput_rps * f, repetition: k + 1 })));
    const c = compareRuns([input(a, 1), input(b, 1)], 2);
    expect(c.rows.filter((r) => r.label === 'b').map((r) => [r.level.concurrency, r.level.repetition])).toEqual([
      [1, 2],
      [2, 2],
      [4, 2],
      [8, 2],
    ]);
    expect(c.figures[1]!.speedup).toBe(1.5);
    expect(c.differences).toContain('scenario "submit": repetitions per level differs: a has 1, b has 3');
  });

  it('compares runs with different workloads only on what they share, and says what differs', () => {
    const a = run('a', 1, [1, 2, 4, 8]);
    const b = run('b', 2, [2, 4, 8, 16]);
    b.scenarios[0]!.workload.duration_seconds = 10;
    b.interrupted = true;
    b.scenarios.push({ ...b.scenarios[0]!, name: 'only-in-b' });
    const c = compareRuns([input(a, 1), input(b, 2)], 2);
    expect(c.scenarios).toEqual(['submit']);
    expect(c.levels.submit).toEqual([2, 4, 8]);
    expect(c.rows.every((r) => [2, 4, 8].includes(r.level.concurrency))).toBe(true);
    expect(c.differences.join('\n')).toContain('scenario "only-in-b" is only in b: left out');
    expect(c.differences.join('\n')).toContain('concurrency levels differs: a has 1, 2, 4, 8, b has 2, 4, 8, 16');
    expect(c.differences.join('\n')).toContain('per-level amount differs: a has 5 s, b has 10 s');
    expect(c.caveats[0]).toMatch(/^b was interrupted/);
    const csv = formatCompareCsv(c).trim().split('\n');
    expect(csv[0]).toBe('label,scenario,concurrency,target_rate_rps,requests,throughput_rps,latency_p50_ms,latency_p95_ms,latency_p99_ms,error_rate_pct,slo_pass');
    expect(csv[1]).toMatch(/^a,submit,2,,/);
    expect(csv).toHaveLength(1 + 6);
  });

  it('reads the replica count from num_nodes', () => {
    expect(replicasFromNumNodes('gateway=1, worker=4')).toBe(4);
    expect(replicasFromNumNodes('replicas: 3')).toBe(3);
    expect(replicasFromNumNodes('2')).toBe(2);
    expect(replicasFromNumNodes('one big box')).toBeUndefined();
  });
});

const rgb = (hex: string): number[] => [1, 3, 5].map((k) => parseInt(hex.slice(k, k + 2), 16));

/** Decodes a PNG and counts non-white pixels and pixels of the first two series colours. */
async function countPixels(png: Buffer): Promise<{ width: number; height: number; nonWhite: number; firstColour: number; secondColour: number }> {
  const img = await loadImage(png);
  const ctx = createCanvas(img.width, img.height).getContext('2d');
  ctx.drawImage(img, 0, 0);
  const d = ctx.getImageData(0, 0, img.width, img.height).data;
  const near = (i: number, [r, g, b]: number[]): boolean => Math.abs(d[i]! - r!) + Math.abs(d[i + 1]! - g!) + Math.abs(d[i + 2]! - b!) < 30;
  let nonWhite = 0;
  let firstColour = 0;
  let secondColour = 0;
  for (let i = 0; i < d.length; i += 4) {
    if (d[i]! < 250 || d[i + 1]! < 250 || d[i + 2]! < 250) nonWhite++;
    if (near(i, rgb(colorAt(0)))) firstColour++;
    if (near(i, rgb(colorAt(1)))) secondColour++;
  }
  return { width: img.width, height: img.height, nonWhite, firstColour, secondColour };
}

describe('loadbench compare', () => {
  function project(): string {
    const dir = mkdtempSync(join(tmpdir(), 'loadbench-compare-'));
    mkdirSync(join(dir, 'runs'));
    symlinkSync(join(REPO_ROOT, 'node_modules'), join(dir, 'node_modules'));
    return dir;
  }
  const cli = (dir: string, ...args: string[]) => {
    const r = runLoadbench(dir, ['compare', ...args]);
    return { status: r.code, stdout: r.stdout, stderr: r.stderr };
  };

  it('writes overlay charts, the CSV and the report', async () => {
    const dir = project();
    for (const [label, f, w] of [['1x', 1, 1], ['2x', 1.8, 2]] as const) {
      writeFileSync(join(dir, 'runs', `${label}_summary.json`), JSON.stringify(run(label, f, [1, 2, 4, 8], w)));
    }
    const r = cli(dir, '1x', '2x');
    expect(r.status, r.stderr).toBe(0);
    for (const suffix of ['_throughput.png', '_p95_latency.png', '_error_rate.png', '_summary.csv', '_report.md']) {
      expect(existsSync(join(dir, 'runs', `compare_1x_2x${suffix}`)), suffix).toBe(true);
    }
    for (const chart of ['throughput', 'p95_latency', 'error_rate']) {
      const png = readFileSync(join(dir, `runs/compare_1x_2x_${chart}.png`));
      expect(png.subarray(0, 8).toString('hex')).toBe('89504e470d0a1a0a');
      const pixels = await countPixels(png);
      expect([pixels.width, pixels.height]).toEqual([1200, 700]);
      expect(pixels.nonWhite, chart).toBeGreaterThan(5000);
      // One line per label, in the first two palette colours. Only the throughput lines of the
      // fixture stay apart (its p95 lines coincide, the first label's drawn on top; its error
      // rates are 0 %, on the axis).
      if (chart !== 'error_rate') expect(pixels.firstColour, chart).toBeGreaterThan(300);
      if (chart === 'throughput') expect(pixels.secondColour, chart).toBeGreaterThan(300);
    }
    const report = readFileSync(join(dir, 'runs/compare_1x_2x_report.md'), 'utf8');
    expect(report).toContain('| 2x | submit | 2 (num_nodes) | 720.0 | 4 |');
    expect(report).toContain('1.80x');
    expect(report).toContain('90 %');
    expect(report).toContain('![Throughput](compare_1x_2x_throughput.png)');
  });

  it('names the missing file and a summary of another format or version; usage errors exit 2', () => {
    const dir = project();
    writeFileSync(join(dir, 'runs', '1x_summary.json'), JSON.stringify(run('1x', 1)));
    const missing = cli(dir, '1x', 'nope');
    expect(missing.status).toBe(2);
    expect(missing.stderr).toMatch(/runs\/nope_summary\.json: no such summary/);
    writeFileSync(join(dir, 'runs', 'old_summary.json'), JSON.stringify({ ...run('old', 1), version: 0 }));
    const old = cli(dir, '1x', 'old');
    expect(old.status).toBe(2);
    expect(old.stderr).toMatch(/old_summary\.json: summary format version 0, this loadbench reads versions 1 and 2/);
    writeFileSync(join(dir, 'runs', 'other_summary.json'), JSON.stringify({ ...run('other', 1), format: 'k6-summary' }));
    const other = cli(dir, '1x', 'other');
    expect(other.status).toBe(2);
    expect(other.stderr).toMatch(/other_summary\.json: not a loadbench summary/);
    const one = cli(dir, '1x');
    expect([one.status, one.stderr]).toEqual([2, expect.stringMatching(/^loadbench compare: expected at least 2 arguments, got 1 \(1x\) \(usage: loadbench compare <label> <label>.*\)\n$/)]);
    const badReplicas = cli(dir, '1x', '1x', '--replicas', '1');
    expect([badReplicas.status, badReplicas.stderr]).toEqual([2, expect.stringMatching(/^loadbench compare: --replicas needs one positive integer per label \(2\), e\.g\. --replicas 1,2,4 \(usage: .*\)\n$/)]);
  });
});
