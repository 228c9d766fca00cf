import { describe, expect, it } from 'vitest';
import type { RunSummary } from '../../../core/model/summary.ts';
import { abCharts, abVerdictTable, type AbVerdictView } from '../../../reporters/compare/ab-outputs.ts';
import { kneeSummary, openLoopSummary } from '../../fixtures/summaries.ts';

const check = { metric: 'throughput_rps', base: 200, head: 150, change: -25, pair_changes: [-24, -25, -26], pair_noise: 1, base_noise: 1, head_noise: 1, tolerance: 15, unit: '%', regressed: true } as const;
const closed: AbVerdictView = { scenario: 'submit', concurrency: 4, status: 'fail', repetitions: { base: 3, head: 3 }, checks: [check] };
const open: AbVerdictView = { scenario: 'ingest', concurrency: 200, target_rate_rps: 200, status: 'fail', repetitions: { base: 3, head: 3 }, checks: [check] };
const xTitle = (c: ReturnType<typeof abCharts>['throughput']): unknown => (c.options!.scales!.x as { title: { text: string } }).title.text;
const sides = (...summaries: RunSummary[]) => summaries.map((summary, i) => ({ label: i === 0 ? 'base main' : 'head', summary }));

describe('abVerdictTable', () => {
  it('heads the level column by the kind of the judged levels', () => {
    const head = (t: string) => t.split('\n')[0];
    expect(head(abVerdictTable([closed]))).toMatch(/^\| scenario \| concurrency \| metric \|/);
    expect(abVerdictTable([closed]).split('\n')[2]).toMatch(/^\| submit \| 4 \| throughput \(req\/s\) \|/);
    expect(head(abVerdictTable([open]))).toMatch(/^\| scenario \| offered rate \(req\/s\) \| metric \|/);
    expect(abVerdictTable([open]).split('\n')[2]).toMatch(/^\| ingest \| 200 \| throughput \(req\/s\) \|/);
    const mixed = abVerdictTable([closed, open]).split('\n');
    expect(mixed[0]).toMatch(/^\| scenario \| level \| metric \|/);
    expect(mixed.slice(2).map((r) => r.split(' | ')[1])).toEqual(['c=4', '200 req/s']);
    // A level not judged has no row: it does not make the table mixed.
    expect(head(abVerdictTable([closed, { ...open, status: 'not_judged', checks: [] }]))).toMatch(/^\| scenario \| concurrency \|/);
  });
});

describe('abCharts', () => {
  it('plot open-loop runs against the offered rate, closed ones against concurrency', () => {
    for (const c of Object.values(abCharts(sides(kneeSummary(), kneeSummary())))) expect(xTitle(c)).toBe('concurrency (concurrent clients, log2 scale)');
    for (const c of Object.values(abCharts(sides(openLoopSummary(), openLoopSummary())))) expect(xTitle(c)).toBe('offered rate (requests per second, log2 scale)');
    const both = (): RunSummary => ({ ...kneeSummary(), scenarios: [...kneeSummary().scenarios, ...openLoopSummary().scenarios] });
    expect(xTitle(abCharts(sides(both(), both())).throughput)).toBe('concurrency, or offered rate in req/s for open-loop scenarios (log2 scale)');
  });

  it('draw the y = x line of the offered rates on the throughput chart of an open-loop run only', () => {
    const yx = (c: ReturnType<typeof abCharts>['throughput']) => c.data.datasets.find((d) => d.label === 'offered rate (y = x)');
    const open = openLoopSummary();
    const rates = [...new Set(open.scenarios.flatMap((s) => s.levels.map((l) => l.concurrency)))].sort((a, b) => a - b);
    expect(yx(abCharts(sides(open, openLoopSummary())).throughput)?.data).toEqual(rates.map((r) => ({ x: r, y: r })));
    expect(yx(abCharts(sides(open, openLoopSummary())).p95_latency)).toBeUndefined();
    expect(yx(abCharts(sides(kneeSummary(), kneeSummary())).throughput)).toBeUndefined();
  });
});
