import type { ChartConfiguration } from 'chart.js';
import { COMPARE_OUTPUTS } from '../../core/model/outputs.ts';
import { isOpenLoop, type MeasuredLevel } from '../../core/model/summary.ts';
import { colorAt, lineChartConfig } from '../charts/line-chart.ts';
import { levelAxisOf, levelLabel, offeredRateSeries } from '../charts/run-charts.ts';
import { columns, formatCsv } from '../csv/columns.ts';
import { escapeMarkdown, markdownTable } from '../report/markdown.ts';
import { levelPhrase, type Comparison, type LevelKey } from './compare-model.ts';

type CompareRow = Comparison['rows'][number];

/** Columns of `compare_<labels>_summary.csv`: one row per label, scenario and shared level, fixed precision. */
export const COMPARE_COLUMNS = columns<CompareRow>([
  ['label', (r) => r.label],
  ['scenario', (r) => r.scenario],
  // As in the run's summary CSV: an open-loop level has no concurrency, its key is target_rate_rps.
  ['concurrency', (r) => (r.level.target_rate_rps === undefined ? r.level.concurrency : undefined)],
  ['target_rate_rps', (r) => r.level.target_rate_rps],
  ['requests', (r) => r.level.requests],
  ['throughput_rps', (r) => r.level.throughput_rps.toFixed(2)],
  ['latency_p50_ms', (r) => r.level.latency_ms.p50.toFixed(3)],
  ['latency_p95_ms', (r) => r.level.latency_ms.p95.toFixed(3)],
  ['latency_p99_ms', (r) => r.level.latency_ms.p99.toFixed(3)],
  ['error_rate_pct', (r) => r.level.error_rate_pct.toFixed(2)],
  ['slo_pass', (r) => !r.level.slo.judged || r.level.slo.pass],
]);

/**
 * The level column of a table, by the kind of the levels in it: `concurrency` (closed loop),
 * `offered rate (req/s)` (open loop), or `level` with `c=4` / `200 req/s` cells when both are there. Pure.
 */
export function levelColumn(levels: readonly LevelKey[]): { header: string; cell: (l: LevelKey) => string } {
  const open = levels.filter(isOpenLoop).length;
  if (open === 0) return { header: 'concurrency', cell: (l) => String(l.concurrency) };
  if (open === levels.length) return { header: 'offered rate (req/s)', cell: (l) => String(l.target_rate_rps) };
  return { header: 'level', cell: levelLabel };
}

/** The x axis of comparison charts over these levels: concurrency, offered rate, or both (as a run's charts). Pure. */
export function levelAxisFor(levels: readonly LevelKey[]): { name: string; label: string } {
  return levelAxisOf(levels.filter(isOpenLoop).length, levels.length);
}

/** The comparison CSV. Pure. */
export function formatCompareCsv(c: Comparison): string {
  return formatCsv(COMPARE_COLUMNS, c.rows, 'bits');
}

/** The overlay charts: one line per run label (and scenario) against concurrency, or offered rate open loop. Pure. */
export function compareCharts(c: Comparison): Record<'throughput' | 'p95_latency' | 'error_rate', ChartConfiguration<'line'>> {
  const title = c.labels.join(' vs ');
  const ticks = Object.values(c.levels).flat();
  const series = (pick: (l: MeasuredLevel) => number) => {
    const out: { label: string; color: string; points: { x: number; y: number }[] }[] = [];
    let i = 0;
    for (const scenario of c.scenarios) {
      for (const label of c.labels) {
        out.push({
          label: c.scenarios.length > 1 ? `${label} (${scenario})` : label,
          color: colorAt(i++),
          points: c.rows
            .filter((r) => r.label === label && r.scenario === scenario)
            .map((r) => ({ x: r.level.concurrency, y: pick(r.level) })),
        });
      }
    }
    return out;
  };
  const common = { xLabel: levelAxisFor(c.rows.map((r) => r.level)).label, xLog2Ticks: ticks };
  const offered = offeredRateSeries(c.rows.flatMap((r) => (isOpenLoop(r.level) ? [r.level.concurrency] : [])));
  return {
    throughput: lineChartConfig({
      ...common,
      title: `Throughput: ${title}`,
      yLabel: 'successful requests per second (req/s)',
      series: [...series((l) => l.throughput_rps), ...(offered ? [offered] : [])],
    }),
    p95_latency: lineChartConfig({ ...common, title: `p95 latency: ${title}`, yLabel: 'p95 latency (ms)', series: series((l) => l.latency_ms.p95) }),
    error_rate: lineChartConfig({
      ...common,
      title: `Error rate: ${title}`,
      // All-zero lines lie on the axis and hide each other: say so instead of leaving an empty-looking chart.
      subtitle: c.rows.some((r) => r.level.error_rate_pct > 0) ? undefined : 'no failed request in any run at any level',
      yLabel: 'error rate (% of requests)',
      series: series((l) => l.error_rate_pct),
    }),
  };
}

const n1 = (x: number): string => x.toFixed(1);

/** The Mustache view of the comparison report. `_md` fields are ready-made Markdown. Pure. */
export function compareReportView(c: Comparison, filePrefix: string) {
  const level = levelColumn(c.rows.map((r) => r.level));
  const table = markdownTable(
    ['label', 'scenario', level.header, 'throughput (req/s)', 'p50 (ms)', 'p95 (ms)', 'p99 (ms)', 'error rate (%)'],
    c.rows.map(({ label, scenario, level: l }) => [
      escapeMarkdown(label),
      escapeMarkdown(scenario),
      level.cell(l),
      l.throughput_rps.toFixed(2),
      l.latency_ms.p50.toFixed(3),
      l.latency_ms.p95.toFixed(3),
      l.latency_ms.p99.toFixed(3),
      l.error_rate_pct.toFixed(2),
    ]),
    ['l', 'l', 'r', 'r', 'r', 'r', 'r', 'r'],
  );
  const peakLevel = levelColumn(c.figures.flatMap((f) => (f.peak ? [f.peak] : [])));
  const figuresTable = markdownTable(
    ['label', 'scenario', 'replicas', 'peak throughput (req/s)', `at ${peakLevel.header}`, 'capacity at the SLO', 'speed-up', 'scaling efficiency'],
    c.figures.map((f) => [
      escapeMarkdown(f.label),
      escapeMarkdown(f.scenario),
      `${f.replicas} (${f.replicasFrom})`,
      f.peak ? n1(f.peak.throughput_rps) : '-',
      f.peak ? peakLevel.cell(f.peak) : '-',
      f.slo_capacity
        ? isOpenLoop(f.slo_capacity)
          ? `${levelPhrase(f.slo_capacity)} (${n1(f.slo_capacity.throughput_rps)} successful req/s)`
          : `${levelPhrase(f.slo_capacity)} (${n1(f.slo_capacity.throughput_rps)} req/s)`
        : 'none',
      f.speedup !== undefined ? `${f.speedup.toFixed(2)}x` : '-',
      f.efficiency !== undefined ? `${(f.efficiency * 100).toFixed(0)} %` : '-',
    ]),
    ['l', 'l', 'r', 'r', 'r', 'l', 'r', 'r'],
  );
  // Issue 16: what limited each run at its peak, measured.
  const bottlenecks = c.figures.flatMap((f) =>
    f.bottleneck !== undefined && f.peak
      ? [escapeMarkdown(`${f.label}${c.scenarios.length > 1 ? ` (${f.scenario})` : ''} at its peak (${levelPhrase(f.peak)}): ${f.bottleneck}`, 1000)]
      : [],
  );
  // The template's definition of capacity names the kind of level the tables hold.
  const kinds = levelAxisFor(c.rows.map((r) => r.level)).name;
  return {
    capacity_level: kinds === 'concurrency' ? 'concurrency level' : kinds === 'offered rate' ? 'offered rate' : 'level (concurrency, or offered rate for open-loop scenarios)',
    bottlenecks_md: bottlenecks,
    has_bottlenecks: bottlenecks.length > 0,
    labels: c.labels.join(', '),
    first: c.labels[0],
    figures_table_md: figuresTable,
    table_md: table,
    scaling_md: c.scaling.map((s) => escapeMarkdown(s, 1000)),
    differences_md: c.differences.map((d) => escapeMarkdown(d, 1000)),
    has_differences: c.differences.length > 0,
    caveats_md: c.caveats.map((d) => escapeMarkdown(d, 1000)),
    has_caveats: c.caveats.length > 0,
    charts: [
      { title: 'Throughput', file: `${filePrefix}${COMPARE_OUTPUTS.throughputChart}` },
      { title: 'p95 latency', file: `${filePrefix}${COMPARE_OUTPUTS.latencyChart}` },
      { title: 'Error rate', file: `${filePrefix}${COMPARE_OUTPUTS.errorRateChart}` },
    ],
  };
}
