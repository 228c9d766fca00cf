import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadImage } from '@napi-rs/canvas';
import { createCanvas } from '@napi-rs/canvas';
import { describe, expect, it } from 'vitest';
import { writeAnalysisOutputs } from '../../reporters/analysis/write-analysis.ts';
import { formatCleanSummaryCsv } from '../../reporters/report/clean-summary-csv.ts';
import { scenarioFindings } from '../../reporters/report/findings.ts';
import { escapeMarkdown } from '../../reporters/report/markdown.ts';
import { latencyChart, percentileX, throughputChart, DISTRIBUTION_PERCENTILES } from '../../reporters/charts/chart-configs.ts';
import { PLANTED_TOKEN, fixtureLevel, kneeSummary } from '../fixtures/summaries.ts';

describe('clean summary CSV', () => {
  it('has fixed precision, units in the names, sorted rows and no empty cell', () => {
    const s = kneeSummary();
    s.scenarios[0]!.levels.reverse();
    const csv = formatCleanSummaryCsv(s);
    const lines = csv.trim().split('\n');
    expect(lines[0]).toBe(
      'scenario,concurrency,requests,successes,failures,error_rate_pct,throughput_rps,latency_p50_ms,latency_p90_ms,latency_p95_ms,latency_p99_ms,latency_mean_ms,latency_max_ms,duration_s,slo_judged,slo_pass,client_bound,partial',
    );
    expect(lines[1]).toBe('submit,1,500,500,0,0.00,100.00,4.500,7.000,8.000,12.000,5.000,20.000,5.000,1,1,0,0');
    expect(lines[6]).toBe('submit,32,5850,5800,50,0.85,1160.00,24.828,76.000,95.000,142.500,27.586,285.000,5.000,1,0,1,0');
    expect(lines.map((l) => l.split(',')[1])).toEqual(['concurrency', '1', '2', '4', '8', '16', '32']);
    for (const line of lines.slice(1)) {
      const cells = line.split(',');
      expect(cells.slice(1).every((c) => c !== '' && Number.isFinite(Number(c)))).toBe(true);
    }
  });
});

describe('findings', () => {
  const f = scenarioFindings(kneeSummary().scenarios[0]!);
  it('finds the peak', () => {
    expect(f.peak).toEqual({ concurrency: 32, throughput_rps: 1160, p95_ms: 95 });
  });
  it('finds the knee: throughput +4.5 % while p95 +125 % from 8 to 16', () => {
    expect(f.knee?.concurrency).toBe(16);
    expect(f.knee?.previous).toBe(8);
    expect(f.knee?.throughput_growth_pct).toBeCloseTo(4.545, 2);
    expect(f.knee?.p95_growth_pct).toBeCloseTo(125, 5);
  });
  it('finds the highest level meeting every SLO', () => {
    expect(f.slo_capacity).toEqual({ concurrency: 16, throughput_rps: 1150, p95_ms: 45 });
    expect(f.slo_failures).toEqual([{ concurrency: 32, metrics: ['p95_ms'] }]);
  });
  it('finds where errors start and their categories', () => {
    expect(f.errors_start).toEqual({ concurrency: 32, error_rate_pct: (50 / 5850) * 100, categories: ['timeout', 'http_5xx'] });
  });
  it("applies Little's law: level 1 holds 0.5 of 1 request, the others hold their concurrency", () => {
    expect(f.little[0]).toMatchObject({ concurrency: 1, client_limited: true });
    expect(f.little[0]!.in_system).toBeCloseTo(0.5, 6);
    expect(f.little.slice(1, 5).every((x) => !x.client_limited && Math.abs(x.ratio - 1) < 1e-9)).toBe(true);
    expect(f.client_bound_levels).toEqual([32]);
  });
  it('finds no knee on a linear sweep', () => {
    const s = kneeSummary().scenarios[0]!;
    s.levels = [fixtureLevel('x', 1, 100, 10), fixtureLevel('x', 2, 200, 10), fixtureLevel('x', 4, 400, 11)];
    expect(scenarioFindings(s).knee).toBeUndefined();
  });
});

describe('chart configurations', () => {
  it('puts concurrency on a log axis with ticks at the measured levels', () => {
    const c = throughputChart(kneeSummary());
    const x = (c.options!.scales as Record<string, { type: string; afterBuildTicks: (a: { ticks: unknown[] }) => void }>).x!;
    expect(x.type).toBe('logarithmic');
    const axis = { ticks: [] as { value: number }[] };
    x.afterBuildTicks(axis as never);
    expect(axis.ticks.map((t) => t.value)).toEqual([1, 2, 4, 8, 16, 32]);
    expect(c.data.datasets[0]!.data).toHaveLength(6);
  });
  it('draws the SLO p95 limit as a dashed line', () => {
    const c = latencyChart(kneeSummary());
    const slo = c.data.datasets.find((d) => String(d.label).startsWith('SLO p95'));
    expect(slo?.borderDash).toEqual([8, 6]);
    expect(slo?.data).toEqual([{ x: 1, y: 50 }, { x: 32, y: 50 }]);
  });
  it('spaces distribution percentiles from 50 to 99.99 on a 1/(1-p) axis', () => {
    expect(DISTRIBUTION_PERCENTILES[0]).toBe(50);
    expect(DISTRIBUTION_PERCENTILES.at(-1)).toBe(99.99);
    expect(percentileX(99)).toBeCloseTo(100, 6);
  });
});

async function nonWhitePixels(path: string): Promise<{ width: number; height: number; count: number; corner: number[] }> {
  const img = await loadImage(readFileSync(path));
  const canvas = createCanvas(img.width, img.height);
  const ctx = canvas.getContext('2d');
  ctx.drawImage(img, 0, 0);
  const data = ctx.getImageData(0, 0, img.width, img.height).data;
  let count = 0;
  for (let i = 0; i < data.length; i += 4) if (data[i]! < 250 || data[i + 1]! < 250 || data[i + 2]! < 250) count++;
  return { width: img.width, height: img.height, count, corner: [...data.slice(0, 4)] };
}

describe('writeAnalysisOutputs', () => {
  it('writes valid, non-blank 1200x700 PNGs, the clean CSV and a report whose figure links resolve', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'loadbench-analysis-'));
    const written = await writeAnalysisOutputs(kneeSummary(), { outputDir: dir, runLabel: 'fixture', projectRoot: process.cwd() });
    const names = written.map((p) => p.slice(dir.length + 1));
    expect(names).toEqual([
      'fixture_summary_clean.csv',
      'fixture_throughput.png',
      'fixture_p95_latency.png',
      'fixture_error_rate.png',
      'fixture_latency_distribution.png',
      'fixture_timeline.png',
      'fixture_report.md',
    ]);
    for (const png of names.filter((n) => n.endsWith('.png'))) {
      const bytes = readFileSync(join(dir, png));
      expect(bytes.subarray(0, 8).toString('hex')).toBe('89504e470d0a1a0a');
      const { width, height, count, corner } = await nonWhitePixels(join(dir, png));
      expect([width, height]).toEqual([1200, 700]);
      expect(corner).toEqual([255, 255, 255, 255]);
      expect(count, png).toBeGreaterThan(5000);
    }
    const report = readFileSync(join(dir, 'fixture_report.md'), 'utf8');
    for (const heading of ['## 1. Experimental setup', '## 2. Results', '## 3. Findings', '## 4. Trade-off analysis', '## 5. Conclusions and recommendations']) {
      expect(report).toContain(heading);
    }
    const links = [...report.matchAll(/!\[[^\]]*\]\(([^)]+)\)/g)].map((m) => m[1]!);
    expect(links).toHaveLength(5);
    for (const link of links) expect(existsSync(join(dir, link)), link).toBe(true);
    expect(report).toContain('| submit | 16 | 5,750 | 1150.00 |');
    expect(report).toContain('**Knee**: at concurrency 16');
    expect(report).toContain('Run at most **16 concurrent clients**');
    expect(report).toContain('test rig: 2 cores');
    expect(report).toContain('gateway=1, worker=2');
    expect(report).toMatch(/Little's law.*c=1: 0\.50 \(50 %\)/);
    for (const f of written) expect(readFileSync(f).toString('latin1')).not.toContain(PLANTED_TOKEN);
  });

  it('escapes text from the target so it cannot break the Markdown', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'loadbench-analysis-'));
    await writeAnalysisOutputs(kneeSummary(), { outputDir: dir, runLabel: 'fixture', projectRoot: process.cwd() });
    const report = readFileSync(join(dir, 'fixture_report.md'), 'utf8');
    expect(report).not.toContain('<script>');
    expect(report).not.toContain('[link](http://evil)');
    expect(report).toContain('upstream said \\| \\*\\*boom\\*\\* &lt;script&gt;');
    expect(escapeMarkdown('a\nb|c`d', 5)).toBe('a b\\|c…');
  });
});
