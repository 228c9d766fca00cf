import type { ChartConfiguration, ChartDataset } from 'chart.js';
import { decodeHistogram } from '../../plugin/engine/histogram.ts';
import type { ErrorCategory, RunSummary, ScenarioSummary } from '../../plugin/types.ts';
import { ERROR_CATEGORIES } from '../../plugin/types.ts';
import type { VerticalMarker } from './render-chart.ts';

/** One line of a line chart. */
export interface Series {
  label: string;
  points: { x: number; y: number }[];
  /** Thin and dashed lines are for context (p50/p99 beside p95, SLO limits). */
  width?: number;
  dashed?: boolean;
  color?: string;
  yAxis?: 'y' | 'y2';
}

/** A line chart, generic enough for single runs and run comparisons. */
export interface LineChartSpec {
  title: string;
  xLabel: string;
  yLabel: string;
  y2Label?: string;
  series: Series[];
  /** Concurrency axes are log2: ticks at the given values. */
  xLog2Ticks?: number[];
  /** Percentile axis: x holds 1/(1-p), ticks labelled as percentiles. */
  xPercentile?: boolean;
  yMin?: number;
}

const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#17becf', '#7f7f7f', '#bcbd22'];

/** A stable colour per index. */
export function colorAt(i: number): string {
  return PALETTE[i % PALETTE.length]!;
}

const PERCENTILE_TICKS = [50, 90, 99, 99.9, 99.99];

/** x position of a percentile on the "nines" axis: 1 / (1 - p). */
export function percentileX(p: number): number {
  return 1 / (1 - p / 100);
}

const font = { size: 14 };

/** chart.js configuration of a line chart; pure, so it is tested without rendering. */
export function lineChartConfig(spec: LineChartSpec): ChartConfiguration<'line'> {
  const datasets: ChartDataset<'line'>[] = spec.series.map((s, i) => ({
    label: s.label,
    data: s.points,
    borderColor: s.color ?? colorAt(i),
    backgroundColor: s.color ?? colorAt(i),
    borderWidth: s.width ?? 2.5,
    borderDash: s.dashed ? [8, 6] : [],
    pointRadius: s.dashed || s.points.length > 60 ? 0 : 3,
    tension: 0,
    yAxisID: s.yAxis ?? 'y',
  }));
  const x: Record<string, unknown> = {
    title: { display: true, text: spec.xLabel, font },
    ticks: { font },
    grid: { color: '#e6e6e6' },
  };
  if (spec.xLog2Ticks?.length) {
    const ticks = [...new Set(spec.xLog2Ticks)].sort((a, b) => a - b);
    Object.assign(x, {
      type: 'logarithmic',
      min: ticks[0]! / 1.25,
      max: ticks.at(-1)! * 1.25,
      afterBuildTicks: (axis: { ticks: { value: number }[] }) => {
        axis.ticks = ticks.map((value) => ({ value }));
      },
      ticks: { font, callback: (v: number | string) => String(v) },
    });
  } else if (spec.xPercentile) {
    Object.assign(x, {
      type: 'logarithmic',
      min: percentileX(50),
      max: percentileX(99.99),
      afterBuildTicks: (axis: { ticks: { value: number }[] }) => {
        axis.ticks = PERCENTILE_TICKS.map((p) => ({ value: percentileX(p) }));
      },
      ticks: {
        font,
        callback: (v: number | string) => {
          const p = 100 * (1 - 1 / Number(v));
          return `${Number(p.toFixed(2))}%`;
        },
      },
    });
  } else {
    x.type = 'linear';
  }
  const scales: Record<string, unknown> = {
    x,
    y: {
      type: 'linear',
      min: spec.yMin ?? 0,
      title: { display: true, text: spec.yLabel, font },
      ticks: { font },
      grid: { color: '#e6e6e6' },
    },
  };
  if (spec.y2Label) {
    scales.y2 = {
      type: 'linear',
      position: 'right',
      min: 0,
      title: { display: true, text: spec.y2Label, font },
      ticks: { font },
      grid: { drawOnChartArea: false },
    };
  }
  return {
    type: 'line',
    data: { datasets },
    options: {
      parsing: false,
      plugins: {
        title: { display: true, text: spec.title, font: { size: 20, weight: 'bold' } },
        legend: { position: 'bottom', labels: { font } },
      },
      scales: scales as never,
    },
  };
}

const measured = (s: ScenarioSummary) => s.levels.filter((l) => !l.skipped);
const allLevels = (summary: RunSummary): number[] => summary.scenarios.flatMap((s) => measured(s).map((l) => l.concurrency));
const prefix = (summary: RunSummary, s: ScenarioSummary, text: string): string =>
  summary.scenarios.length > 1 ? `${s.name}: ${text}` : text;

/** Successful req/s against concurrency, one line per scenario. */
export function throughputChart(summary: RunSummary): ChartConfiguration<'line'> {
  return lineChartConfig({
    title: `Throughput vs concurrency (run "${summary.run_label}")`,
    xLabel: 'concurrency (concurrent clients, log2 scale)',
    yLabel: 'successful requests per second (req/s)',
    xLog2Ticks: allLevels(summary),
    series: summary.scenarios.map((s, i) => ({
      label: prefix(summary, s, 'throughput') ,
      color: colorAt(i),
      points: measured(s).map((l) => ({ x: l.concurrency, y: l.throughput_rps })),
    })),
  });
}

/** p95 latency against concurrency, with p50/p99 thinner and the SLO limit dashed. */
export function latencyChart(summary: RunSummary): ChartConfiguration<'line'> {
  const series: Series[] = [];
  summary.scenarios.forEach((s, i) => {
    const color = colorAt(i * 3);
    const pts = (pick: (l: ScenarioSummary['levels'][number]) => number) =>
      measured(s).map((l) => ({ x: l.concurrency, y: pick(l) }));
    series.push({ label: prefix(summary, s, 'p95'), color, points: pts((l) => l.latency_ms.p95), width: 3 });
    series.push({ label: prefix(summary, s, 'p50'), color: colorAt(i * 3 + 2), points: pts((l) => l.latency_ms.p50), width: 1.2 });
    series.push({ label: prefix(summary, s, 'p99'), color: colorAt(i * 3 + 1), points: pts((l) => l.latency_ms.p99), width: 1.2 });
    if (s.slo.p95_ms !== undefined && measured(s).length) {
      const xs = measured(s).map((l) => l.concurrency);
      const top = Math.max(...measured(s).map((l) => l.latency_ms.p99));
      series.push({
        label: prefix(
          summary,
          s,
          `SLO p95 <= ${s.slo.p95_ms} ms${s.slo.p95_ms > top * SLO_OFF_SCALE ? ' (far above: off the scale)' : ''}`,
        ),
        color: '#000000',
        dashed: true,
        width: 1.5,
        points: [
          { x: Math.min(...xs), y: s.slo.p95_ms },
          { x: Math.max(...xs), y: s.slo.p95_ms },
        ],
      });
    }
  });
  const config = lineChartConfig({
    title: `p95 latency vs concurrency (p50 and p99 thinner) (run "${summary.run_label}")`,
    xLabel: 'concurrency (concurrent clients, log2 scale)',
    yLabel: 'latency (ms)',
    xLog2Ticks: allLevels(summary),
    series,
  });
  // A limit far above the data would flatten every curve to the floor: keep the data readable.
  const dataTop = Math.max(0, ...series.filter((x) => !x.dashed).flatMap((x) => x.points.map((p) => p.y)));
  const limits = series.filter((x) => x.dashed).map((x) => x.points[0]!.y);
  const y = (config.options!.scales as Record<string, Record<string, unknown>>).y!;
  y.max = niceCeil(Math.max(dataTop, ...limits.filter((l) => l <= dataTop * SLO_OFF_SCALE)) * 1.1);
  return config;
}

/** How far above the highest curve an SLO line may be and still set the scale. */
const SLO_OFF_SCALE = 3;

function niceCeil(x: number): number {
  if (x <= 0) return 1;
  const step = 10 ** Math.floor(Math.log10(x)) / 2;
  return Math.ceil(x / step) * step;
}

const CATEGORY_COLORS: Record<ErrorCategory, string> = {
  timeout: '#d62728',
  connect_refused: '#8c564b',
  connection_reset: '#e377c2',
  http_4xx: '#ff7f0e',
  http_5xx: '#9467bd',
  check_failed: '#bcbd22',
  body_too_large: '#17becf',
  invalid_response: '#7f7f7f',
  other: '#1f77b4',
};

/** Error rate (%) against concurrency as stacked areas by category, SLO limit dashed. */
export function errorRateChart(summary: RunSummary): ChartConfiguration<'line'> {
  const datasets: ChartDataset<'line'>[] = [];
  for (const s of summary.scenarios) {
    const levels = measured(s);
    const present = ERROR_CATEGORIES.filter((c) => levels.some((l) => l.errors[c] > 0));
    // With no error at all, one flat zero line still shows "0 %" rather than an empty frame.
    const categories: (ErrorCategory | 'none')[] = present.length ? present : ['none'];
    categories.forEach((c, k) => {
      const color = c === 'none' ? '#2ca02c' : CATEGORY_COLORS[c];
      datasets.push({
        label: prefix(summary, s, c === 'none' ? 'no errors' : c),
        data: levels.map((l) => ({
          x: l.concurrency,
          y: c === 'none' || l.requests === 0 ? 0 : (l.errors[c] / l.requests) * 100,
        })),
        borderColor: color,
        backgroundColor: `${color}99`,
        borderWidth: 1.5,
        pointRadius: 3,
        fill: k === 0 ? 'origin' : '-1',
        stack: s.name,
        yAxisID: 'y',
      });
    });
    if (s.slo.error_rate_pct !== undefined && levels.length) {
      const xs = levels.map((l) => l.concurrency);
      datasets.push({
        label: prefix(summary, s, `SLO error rate <= ${s.slo.error_rate_pct} %`),
        data: [
          { x: Math.min(...xs), y: s.slo.error_rate_pct },
          { x: Math.max(...xs), y: s.slo.error_rate_pct },
        ],
        borderColor: '#000000',
        backgroundColor: '#000000',
        borderDash: [8, 6],
        borderWidth: 1.5,
        pointRadius: 0,
        fill: false,
        stack: `slo-${s.name}`,
        yAxisID: 'y',
      });
    }
  }
  const base = lineChartConfig({
    title: `Error rate vs concurrency, stacked by category (run "${summary.run_label}")`,
    xLabel: 'concurrency (concurrent clients, log2 scale)',
    yLabel: 'error rate (% of requests)',
    xLog2Ticks: allLevels(summary),
    series: [],
  });
  const y = (base.options!.scales as Record<string, Record<string, unknown>>).y!;
  y.stacked = true;
  y.suggestedMax = 1;
  base.data.datasets = datasets;
  return base;
}

/** Percentiles plotted on the latency-distribution chart: 50 % up to 99.99 % ever closer to 100. */
export const DISTRIBUTION_PERCENTILES: number[] = (() => {
  const out: number[] = [];
  for (let k = 0; ; k++) {
    const p = 100 - 50 / 2 ** (k / 4);
    if (p > 99.99) break;
    out.push(Number(p.toFixed(4)));
  }
  out.push(99.99);
  return out;
})();

/** The percentile curve of each level, decoded from its HDR histogram. */
export function latencyDistributionChart(summary: RunSummary): ChartConfiguration<'line'> {
  const series: Series[] = [];
  let i = 0;
  for (const s of summary.scenarios) {
    for (const l of measured(s)) {
      if (!l.histogram || l.successes === 0) continue;
      const h = decodeHistogram(l.histogram);
      series.push({
        label: prefix(summary, s, `c=${l.concurrency}`),
        color: colorAt(i++),
        width: 2,
        points: DISTRIBUTION_PERCENTILES.map((p) => ({ x: percentileX(p), y: h.getValueAtPercentile(p) / 1000 })),
      });
      h.destroy();
    }
  }
  return lineChartConfig({
    title: `Latency distribution by level (run "${summary.run_label}")`,
    xLabel: 'percentile (log scale of 1/(1-p): the tail to the right)',
    yLabel: 'latency (ms)',
    xPercentile: true,
    series,
  });
}

/** Throughput and p95 per second over the whole run, with level boundaries as markers. */
export function timelineChart(summary: RunSummary): { config: ChartConfiguration<'line'>; markers: VerticalMarker[] } {
  const starts = summary.scenarios.flatMap((s) => measured(s).map((l) => l.started_at_ms));
  const t0 = starts.length ? Math.min(...starts) : 0;
  const rel = (t: number) => Math.round(((t - t0) / 1000) * 100) / 100;
  const series: Series[] = [];
  const markers: VerticalMarker[] = [];
  summary.scenarios.forEach((s, i) => {
    const points = measured(s).flatMap((l) => l.timeline);
    series.push({
      label: prefix(summary, s, 'throughput (req/s)'),
      color: colorAt(i * 2),
      width: 2,
      points: points.map((p) => ({ x: rel(p.t_ms), y: p.successes })),
    });
    series.push({
      label: prefix(summary, s, 'p95 latency (ms, right axis)'),
      color: colorAt(i * 2 + 1),
      width: 1.5,
      yAxis: 'y2',
      points: points.filter((p) => p.successes > 0).map((p) => ({ x: rel(p.t_ms), y: p.p95_ms })),
    });
    for (const l of measured(s)) {
      markers.push({ x: rel(l.started_at_ms), label: `${summary.scenarios.length > 1 ? `${s.name} ` : ''}c=${l.concurrency}` });
    }
  });
  const config = lineChartConfig({
    title: `Throughput and p95 per second over the run (run "${summary.run_label}")`,
    xLabel: 'time since the first measured level (s); dashed lines: level starts (warm-ups not shown)',
    yLabel: 'successful requests per second (req/s)',
    y2Label: 'p95 latency (ms)',
    series,
  });
  return { config, markers };
}
