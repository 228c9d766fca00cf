/**
 * The outputs of an A/B comparison (`loadbench ab`): charts of throughput and p95 against
 * concurrency (or offered rate, open loop) with both sides and the spread of their repetitions,
 * and the report's view. Pure formatters; the CSV and the results table are the comparison's
 * (compare-outputs.ts).
 */
import type { ChartConfiguration } from 'chart.js';
import { median } from '../../core/model/stats.ts';
import { isMeasured, isOpenLoop, type MeasuredLevel, type RunSummary } from '../../core/model/summary.ts';
import { colorAt, lineChartConfig, type Series } from '../charts/line-chart.ts';
import { offeredRateSeries } from '../charts/run-charts.ts';
import { escapeMarkdown, markdownTable } from '../report/markdown.ts';
import { levelAxisFor, levelColumn } from './compare-outputs.ts';

/** One judged metric of one level, as the A/B gate gives it (core/ab/judge-ab.ts). */
export interface AbCheckView {
  metric: 'throughput_rps' | 'p95_ms' | 'error_rate_pct';
  base: number;
  head: number;
  /** Median of `pair_changes`: the change judged. */
  change: number;
  /** The k-th head repetition against the k-th base repetition (run back to back), per pair in order. */
  pair_changes: readonly number[];
  pair_noise: number;
  base_noise: number;
  head_noise: number;
  tolerance: number;
  unit: '%' | 'pp';
  regressed: boolean;
}

/** One level's verdict, as the A/B gate gives it. */
export interface AbVerdictView {
  scenario: string;
  concurrency: number;
  /** Set for an open-loop level: its offered rate, req/s (the same number as `concurrency`). */
  target_rate_rps?: number;
  status: 'pass' | 'fail' | 'not_judged';
  reason?: string;
  repetitions: { base: number; head: number };
  checks: AbCheckView[];
}

/** A side of the comparison: its name in the charts and its run. */
export interface AbSideRun {
  label: string;
  summary: RunSummary;
}

const complete = (s: RunSummary['scenarios'][number]): MeasuredLevel[] => s.levels.filter((l): l is MeasuredLevel => isMeasured(l) && l.status === 'measured');

/**
 * The median line and the min and max of the repetitions (thin dashed, same colour) of each side
 * and scenario against concurrency. Pure.
 */
export function abSeries(sides: readonly AbSideRun[], pick: (l: MeasuredLevel) => number): { series: Series[]; ticks: number[] } {
  const series: Series[] = [];
  const ticks: number[] = [];
  const scenarioNames = [...new Set(sides.flatMap((s) => s.summary.scenarios.map((x) => x.name)))];
  let i = 0;
  for (const name of scenarioNames) {
    for (const side of sides) {
      const s = side.summary.scenarios.find((x) => x.name === name);
      const color = colorAt(i++);
      if (!s) continue;
      const byLevel = new Map<number, number[]>();
      for (const l of complete(s)) byLevel.set(l.concurrency, [...(byLevel.get(l.concurrency) ?? []), pick(l)]);
      const levels = [...byLevel.keys()].sort((a, b) => a - b);
      ticks.push(...levels);
      const reps = Math.max(0, ...[...byLevel.values()].map((v) => v.length));
      const label = scenarioNames.length > 1 ? `${side.label} (${name})` : side.label;
      const at = (f: (v: number[]) => number) => levels.map((c) => ({ x: c, y: f(byLevel.get(c)!) }));
      series.push({ label: `${label}: median of ${reps} repetition${reps === 1 ? '' : 's'}`, color, points: at(median) });
      if (reps > 1) {
        series.push({ label: `${label}: min and max`, color, width: 1, dash: [4, 4], points: at((v) => Math.min(...v)) });
        // The max line shares the min line's legend entry: same colour and dash, no second label.
        series.push({ label: '', color, width: 1, dash: [4, 4], points: at((v) => Math.max(...v)) });
      }
    }
  }
  return { series, ticks: [...new Set(ticks)] };
}

/** The two charts of an A/B comparison. Pure. */
export function abCharts(sides: readonly AbSideRun[]): Record<'throughput' | 'p95_latency', ChartConfiguration<'line'>> {
  const title = sides.map((s) => s.label).join(' vs ');
  const tp = abSeries(sides, (l) => l.throughput_rps);
  const p95 = abSeries(sides, (l) => l.latency_ms.p95);
  // Open-loop scenarios are plotted against their offered rate, as in a run's own charts.
  const levels = sides.flatMap((s) => s.summary.scenarios.flatMap(complete));
  const axis = levelAxisFor(levels);
  const offered = offeredRateSeries(levels.flatMap((l) => (isOpenLoop(l) ? [l.concurrency] : [])));
  const common = { xLabel: axis.label, subtitle: 'lines: median of the repetitions; dashed: their min and max (the noise)' };
  const withoutBlankLegend = (config: ChartConfiguration<'line'>): ChartConfiguration<'line'> => {
    const labels = config.options?.plugins?.legend?.labels;
    if (labels) labels.filter = (item) => item.text !== '';
    return config;
  };
  return {
    throughput: withoutBlankLegend(
      lineChartConfig({
        ...common,
        title: `Throughput: ${title}`,
        yLabel: 'successful requests per second (req/s)',
        series: [...tp.series, ...(offered ? [offered] : [])],
        xLog2Ticks: tp.ticks,
      }),
    ),
    p95_latency: withoutBlankLegend(lineChartConfig({ ...common, title: `p95 latency: ${title}`, yLabel: 'p95 latency (ms)', series: p95.series, xLog2Ticks: p95.ticks })),
  };
}

const METRIC_NAMES: Record<AbCheckView['metric'], string> = { throughput_rps: 'throughput (req/s)', p95_ms: 'p95 (ms)', error_rate_pct: 'error rate (%)' };
const signed = (x: number): string => (Number.isFinite(x) ? `${x >= 0 ? '+' : ''}${x.toFixed(1)}` : x > 0 ? '+inf' : '-inf');

/** The verdict table of the report: one row per judged level and metric. Pure. */
export function abVerdictTable(verdicts: readonly AbVerdictView[]): string {
  const level = levelColumn(verdicts.filter((v) => v.checks.length > 0));
  const rows = verdicts.flatMap((v) =>
    v.checks.map((c) => {
      const unit = c.unit === '%' ? ' %' : ' pp';
      const digits = c.metric === 'throughput_rps' ? 1 : 2;
      return [
        escapeMarkdown(v.scenario),
        level.cell(v),
        METRIC_NAMES[c.metric],
        c.base.toFixed(digits),
        c.head.toFixed(digits),
        `${signed(c.change)}${unit}`,
        c.pair_changes.map(signed).join(', '),
        `±${c.pair_noise.toFixed(1)}${unit}`,
        `±${c.base_noise.toFixed(1)}${unit} / ±${c.head_noise.toFixed(1)}${unit}`,
        `${c.tolerance}${unit}`,
        c.regressed ? '**REGRESSED**' : 'ok',
      ];
    }),
  );
  return markdownTable(
    ['scenario', level.header, 'metric', 'base (median)', 'head (median)', 'paired change (median)', 'pairs, in order', 'pair noise', 'spread base / head', 'tolerance', 'verdict'],
    rows,
    ['l', 'r', 'l', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'l'],
  );
}
