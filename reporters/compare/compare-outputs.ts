import type { ChartConfiguration } from 'chart.js';
import { COMPARE_OUTPUTS } from '../../core/model/outputs.ts';
import type { MeasuredLevel } from '../../core/model/summary.ts';
import { colorAt, lineChartConfig } from '../charts/line-chart.ts';
import { columns, formatCsv } from '../csv/columns.ts';
import { escapeMarkdown, markdownTable } from '../report/markdown.ts';
import type { Comparison } from './compare-model.ts';

type CompareRow = Comparison['rows'][number];

/** Columns of `compare_<labels>_summary.csv`: one row per label, scenario and shared level, fixed precision. */
export const COMPARE_COLUMNS = columns<CompareRow>([
  ['label', (r) => r.label],
  ['scenario', (r) => r.scenario],
  ['concurrency', (r) => r.level.concurrency],
  ['requests', (r) => r.level.requests],
  ['throughput_rps', (r) => r.level.throughput_rps.toFixed(2)],
  ['latency_p50_ms', (r) => r.level.latency_ms.p50.toFixed(3)],
  ['latency_p95_ms', (r) => r.level.latency_ms.p95.toFixed(3)],
  ['latency_p99_ms', (r) => r.level.latency_ms.p99.toFixed(3)],
  ['error_rate_pct', (r) => r.level.error_rate_pct.toFixed(2)],
  ['slo_pass', (r) => !r.level.slo.judged || r.level.slo.pass],
]);

/** The comparison CSV. Pure. */
export function formatCompareCsv(c: Comparison): string {
  return formatCsv(COMPARE_COLUMNS, c.rows, 'bits');
}

/** The overlay charts: one line per run label (and scenario) against concurrency. Pure. */
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
  const common = { xLabel: 'concurrency (concurrent clients, log2 scale)', xLog2Ticks: ticks };
  return {
    throughput: lineChartConfig({ ...common, title: `Throughput: ${title}`, yLabel: 'successful requests per second (req/s)', series: series((l) => l.throughput_rps) }),
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
  const table = markdownTable(
    ['label', 'scenario', 'concurrency', 'throughput (req/s)', 'p50 (ms)', 'p95 (ms)', 'p99 (ms)', 'error rate (%)'],
    c.rows.map(({ label, scenario, level: l }) => [
      escapeMarkdown(label),
      escapeMarkdown(scenario),
      String(l.concurrency),
      l.throughput_rps.toFixed(2),
      l.latency_ms.p50.toFixed(3),
      l.latency_ms.p95.toFixed(3),
      l.latency_ms.p99.toFixed(3),
      l.error_rate_pct.toFixed(2),
    ]),
    ['l', 'l', 'r', 'r', 'r', 'r', 'r', 'r'],
  );
  const figuresTable = markdownTable(
    ['label', 'scenario', 'replicas', 'peak throughput (req/s)', 'at concurrency', 'capacity at the SLO', 'speed-up', 'scaling efficiency'],
    c.figures.map((f) => [
      escapeMarkdown(f.label),
      escapeMarkdown(f.scenario),
      `${f.replicas} (${f.replicasFrom})`,
      f.peak ? n1(f.peak.throughput_rps) : '-',
      f.peak ? String(f.peak.concurrency) : '-',
      f.slo_capacity ? `concurrency ${f.slo_capacity.concurrency} (${n1(f.slo_capacity.throughput_rps)} req/s)` : 'none',
      f.speedup !== undefined ? `${f.speedup.toFixed(2)}x` : '-',
      f.efficiency !== undefined ? `${(f.efficiency * 100).toFixed(0)} %` : '-',
    ]),
    ['l', 'l', 'r', 'r', 'r', 'l', 'r', 'r'],
  );
  // Issue 16: what limited each run at its peak, measured.
  const bottlenecks = c.figures
    .filter((f) => f.bottleneck !== undefined)
    .map((f) => escapeMarkdown(`${f.label}${c.scenarios.length > 1 ? ` (${f.scenario})` : ''} at its peak (concurrency ${f.peak?.concurrency}): ${f.bottleneck}`, 1000));
  return {
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
