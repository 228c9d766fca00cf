import type { Chart, ChartConfiguration, ChartDataset, LegendItem } from 'chart.js';
import { ERROR_CATEGORIES, decodeHistogram, measuredLevels, type ErrorCategory, type MeasuredLevel, type RunSummary, type ScenarioSummary } from '../../core/model/summary.ts';

/** One point of a series; `y: null` breaks the line there (e.g. between two levels on the timeline). */
export interface SeriesPoint {
  x: number;
  y: number | null;
}

/** One line of a line chart. */
export interface Series {
  label: string;
  points: SeriesPoint[];
  /** Line width in px (default 2.5); thin lines are for context (p50/p99 beside p95). */
  width?: number;
  /** Dashed lines are limits (SLOs). */
  dashed?: boolean;
  /** A custom dash pattern (px on, px off), e.g. [2, 4] for a dotted line. */
  dash?: number[];
  color?: string;
  yAxis?: 'y' | 'y2';
  /** Point markers; by default shown on solid lines of at most 60 points. */
  showPoints?: boolean;
}

/** A line chart, generic enough for single runs and run comparisons (one series per run label). */
export interface LineChartSpec {
  title: string;
  /** A smaller second title line, e.g. "no failed request at any level". */
  subtitle?: string;
  xLabel: string;
  yLabel: string;
  /** Title of a second y axis on the right (series with `yAxis: 'y2'`). */
  y2Label?: string;
  series: Series[];
  /** Concurrency axes are log2: ticks exactly at these values. */
  xLog2Ticks?: number[];
  /** Percentile axis: x holds 1/(1-p) on a log scale, ticks labelled 50 %, 90 %, ... 99.99 %. */
  xPercentile?: boolean;
  /** Range of a linear x axis (default: fitted by chart.js). */
  xMin?: number;
  xMax?: number;
  /** Lower end of the y axis (default 0). */
  yMin?: number;
  /** chart.js grows the y axis to at least this value (e.g. to show a limit above the data). */
  ySuggestedMax?: number;
}

/** A vertical marker line with a label at the top (level boundaries on the timeline). */
export interface VerticalMarker {
  x: number;
  label: string;
  /** Label row from the top (0, 1, 2): labels of close markers are staggered so they never overlap. */
  row?: number;
}

/** A shaded x range (warm-ups on the timeline). */
export interface ShadedBand {
  from: number;
  to: number;
}

/** Options of the `loadbenchMarkers` plugin registered by the renderer (`options.plugins.loadbenchMarkers`). */
export interface MarkerOptions {
  markers: VerticalMarker[];
  bands?: ShadedBand[];
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

/** The percentile shown at an x position of the "nines" axis, e.g. 100 → 99. */
export function percentileLabel(x: number): string {
  return `${Number((100 * (1 - 1 / x)).toFixed(2))}%`;
}

const font = { size: 14 };
const DASH = [8, 6];

/**
 * Legend entries drawn as the line they stand for (width and dash included), filled areas as boxes.
 * chart.js's own point-style legend would take the width and dash of the point markers instead.
 */
function legendItems(chart: Chart): LegendItem[] {
  return chart.data.datasets.map((d, i) => {
    const ds = d as ChartDataset<'line'>;
    const filled = ds.fill !== undefined && ds.fill !== false;
    return {
      text: String(ds.label ?? ''),
      datasetIndex: i,
      hidden: !chart.isDatasetVisible(i),
      fillStyle: ds.backgroundColor as string,
      strokeStyle: ds.borderColor as string,
      lineWidth: filled ? 1 : Math.max(1.5, Number(ds.borderWidth ?? 2)),
      lineDash: (ds.borderDash as number[] | undefined) ?? [],
      pointStyle: filled ? 'rect' : 'line',
      fontColor: '#333333',
    };
  });
}

/** chart.js configuration of a line chart; pure, so it is tested without rendering. */
export function lineChartConfig(spec: LineChartSpec): ChartConfiguration<'line'> {
  const datasets: ChartDataset<'line'>[] = spec.series.map((s, i) => ({
    label: s.label,
    data: s.points as { x: number; y: number }[],
    borderColor: s.color ?? colorAt(i),
    backgroundColor: s.color ?? colorAt(i),
    borderWidth: s.width ?? 2.5,
    borderDash: s.dash ?? (s.dashed ? DASH : []),
    pointRadius: (s.showPoints ?? (!s.dashed && !s.dash && s.points.length <= 60)) ? 3 : 0,
    tension: 0,
    spanGaps: false,
    yAxisID: s.yAxis ?? 'y',
  }));
  const x: Record<string, unknown> = {
    title: { display: true, text: spec.xLabel, font },
    ticks: { font },
    grid: { color: '#e6e6e6' },
  };
  if (spec.xLog2Ticks?.length) {
    const ticks = [...new Set(spec.xLog2Ticks)].sort((a, b) => a - b);
    const [lo, hi] = log2AxisRange(ticks);
    Object.assign(x, {
      type: 'logarithmic',
      min: lo,
      max: hi,
      afterBuildTicks: (axis: { ticks: { value: number }[] }) => {
        axis.ticks = ticks.map((value) => ({ value }));
      },
      ticks: { font, autoSkip: false, maxRotation: 0, callback: (v: number | string) => String(v) },
    });
  } else if (spec.xPercentile) {
    Object.assign(x, {
      type: 'logarithmic',
      min: percentileX(50),
      max: percentileX(99.99),
      afterBuildTicks: (axis: { ticks: { value: number }[] }) => {
        axis.ticks = PERCENTILE_TICKS.map((p) => ({ value: percentileX(p) }));
      },
      ticks: { font, maxRotation: 0, callback: (v: number | string) => percentileLabel(Number(v)) },
    });
  } else {
    Object.assign(x, { type: 'linear', min: spec.xMin, max: spec.xMax });
  }
  const scales: Record<string, unknown> = {
    x,
    y: {
      type: 'linear',
      min: spec.yMin ?? 0,
      suggestedMax: spec.ySuggestedMax,
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
      layout: { padding: { left: 8, right: 16, top: 4, bottom: 4 } },
      plugins: {
        title: { display: true, text: spec.title, font: { size: 20, weight: 'bold' }, color: '#222222' },
        subtitle: {
          display: Boolean(spec.subtitle),
          text: spec.subtitle ?? '',
          font: { size: 14 },
          color: '#555555',
          padding: { bottom: 8 },
        },
        legend: {
          position: 'bottom',
          labels: { font, usePointStyle: true, pointStyleWidth: 36, padding: 18, generateLabels: legendItems },
        },
      },
      scales: scales as never,
    },
  };
}

/** Bounds of a log2 concurrency axis: a little room either side of the outer levels. */
export function log2AxisRange(ticks: number[]): [number, number] {
  const sorted = [...ticks].sort((a, b) => a - b);
  return [sorted[0]! / 1.25, sorted.at(-1)! * 1.25];
}

const measured = (s: ScenarioSummary): MeasuredLevel[] => measuredLevels(s);
const allLevels = (summary: RunSummary): number[] => summary.scenarios.flatMap((s) => measured(s).map((l) => l.concurrency));
const prefix = (summary: RunSummary, s: ScenarioSummary, text: string): string =>
  summary.scenarios.length > 1 ? `${s.name}: ${text}` : text;
const CONCURRENCY_AXIS = 'concurrency (concurrent clients, log2 scale)';

/** Successful req/s against concurrency, one line per scenario. */
export function throughputChart(summary: RunSummary): ChartConfiguration<'line'> {
  const several = summary.scenarios.length > 1;
  return lineChartConfig({
    title: `Throughput vs concurrency (run "${summary.run_label}")`,
    xLabel: CONCURRENCY_AXIS,
    yLabel: 'successful requests per second (req/s)',
    xLog2Ticks: allLevels(summary),
    series: summary.scenarios.map((s, i) => ({
      label: several ? s.name : 'throughput (successful req/s)',
      color: colorAt(i),
      points: measured(s).map((l) => ({ x: l.concurrency, y: l.throughput_rps })),
    })),
  });
}

/** The horizontal segment of a limit across the whole concurrency axis. */
function limitPoints(ticks: number[], y: number): SeriesPoint[] {
  const [lo, hi] = log2AxisRange(ticks);
  return [
    { x: lo, y },
    { x: hi, y },
  ];
}

/** How far above the highest curve an SLO line may be and still be drawn (else: legend only). */
const SLO_OFF_SCALE = 3;

/**
 * p95 latency against concurrency, with p50/p99 thinner and the SLO limit dashed. A limit far
 * above every curve is listed in the legend only, so the curves keep the full height.
 */
export function latencyChart(summary: RunSummary): ChartConfiguration<'line'> {
  const several = summary.scenarios.length > 1;
  const ticks = allLevels(summary);
  const curves: Series[] = [];
  summary.scenarios.forEach((s, i) => {
    const pts = (pick: (l: MeasuredLevel) => number) => measured(s).map((l) => ({ x: l.concurrency, y: pick(l) }));
    // One scenario: three colours. Several: one colour per scenario, p50 dotted and p99 thin.
    const c = (k: number) => (several ? colorAt(i) : colorAt([0, 2, 1][k]!));
    curves.push({ label: prefix(summary, s, 'p95'), color: c(0), points: pts((l) => l.latency_ms.p95), width: 3 });
    curves.push({
      label: prefix(summary, s, 'p50'),
      color: c(1),
      points: pts((l) => l.latency_ms.p50),
      width: 1.5,
      ...(several ? { dash: [2, 4], showPoints: true } : {}),
    });
    curves.push({ label: prefix(summary, s, 'p99'), color: c(2), points: pts((l) => l.latency_ms.p99), width: 1.2 });
  });
  const top = Math.max(0, ...curves.flatMap((x) => x.points.map((p) => p.y ?? 0)));
  const limits: Series[] = [];
  const seen = new Set<number>();
  for (const s of summary.scenarios) {
    const limit = s.slo.p95_ms;
    if (limit === undefined || measured(s).length === 0 || seen.has(limit)) continue;
    seen.add(limit);
    const shared = summary.scenarios.every((o) => o.slo.p95_ms === limit);
    const name = several && !shared ? `${s.name}: ` : '';
    const offScale = limit > top * SLO_OFF_SCALE;
    limits.push({
      label: `${name}SLO p95 <= ${limit} ms${offScale ? ' (above the plotted range)' : ''}`,
      color: '#000000',
      dashed: true,
      width: 1.5,
      points: offScale ? [] : limitPoints(ticks, limit),
    });
  }
  return lineChartConfig({
    title: `p95 latency vs concurrency (run "${summary.run_label}")`,
    subtitle: 'p50 and p99 as thinner lines; SLO limit dashed',
    xLabel: CONCURRENCY_AXIS,
    yLabel: 'latency (ms)',
    xLog2Ticks: ticks,
    series: [...curves, ...limits],
    // Room above a drawn limit so that it never sits on the frame.
    ySuggestedMax: Math.max(0, ...limits.filter((l) => l.points.length).map((l) => l.points[0]!.y! * 1.15)) || undefined,
  });
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

/** Error rate (%) of one category at one level. */
function categoryRatePct(l: MeasuredLevel, c: ErrorCategory): number {
  return l.requests > 0 ? (l.errors[c] / l.requests) * 100 : 0;
}

/** Error rate (%) against concurrency as stacked areas by category, SLO limit dashed. */
export function errorRateChart(summary: RunSummary): ChartConfiguration<'line'> {
  const ticks = allLevels(summary);
  const datasets: ChartDataset<'line'>[] = [];
  let anyError = false;
  let topLimit = 0;
  const seen = new Set<number>();
  for (const s of summary.scenarios) {
    const levels = measured(s);
    const present = ERROR_CATEGORIES.filter((c) => levels.some((l) => l.errors[c] > 0));
    anyError ||= present.length > 0;
    // With no error at all, one flat zero line still shows "0 %" rather than an empty frame.
    const categories: (ErrorCategory | 'none')[] = present.length ? present : ['none'];
    categories.forEach((c, k) => {
      const color = c === 'none' ? '#2ca02c' : CATEGORY_COLORS[c];
      datasets.push({
        label: prefix(summary, s, c === 'none' ? 'no errors' : c),
        data: levels.map((l) => ({ x: l.concurrency, y: c === 'none' ? 0 : categoryRatePct(l, c) })),
        borderColor: color,
        backgroundColor: `${color}99`,
        borderWidth: 1.5,
        pointRadius: 3,
        pointStyle: 'rect',
        fill: k === 0 ? 'origin' : '-1',
        stack: s.name,
        yAxisID: 'y',
      });
    });
  }
  for (const s of summary.scenarios) {
    const limit = s.slo.error_rate_pct;
    if (limit === undefined || measured(s).length === 0 || seen.has(limit)) continue;
    seen.add(limit);
    topLimit = Math.max(topLimit, limit);
    const shared = summary.scenarios.every((o) => o.slo.error_rate_pct === limit);
    datasets.push({
      label: `${summary.scenarios.length > 1 && !shared ? `${s.name}: ` : ''}SLO error rate <= ${limit} %`,
      data: limitPoints(ticks, limit) as { x: number; y: number }[],
      borderColor: '#000000',
      backgroundColor: '#000000',
      borderDash: DASH,
      borderWidth: 1.5,
      pointRadius: 0,
      fill: false,
      stack: `slo-${limit}`,
      yAxisID: 'y',
    });
  }
  const base = lineChartConfig({
    title: `Error rate vs concurrency, stacked by category (run "${summary.run_label}")`,
    subtitle: anyError ? 'each band is one error category; the top edge is the total error rate' : 'no failed request at any level',
    xLabel: CONCURRENCY_AXIS,
    yLabel: 'error rate (% of requests)',
    xLog2Ticks: ticks,
    // Room above the SLO line so it never sits on the frame.
    ySuggestedMax: Math.max(1, topLimit * 1.25),
    series: [],
  });
  const y = (base.options!.scales as Record<string, Record<string, unknown>>).y!;
  y.stacked = true;
  base.data.datasets = datasets;
  return base;
}

/** Percentiles plotted on the latency-distribution chart: 50 % up to 99.99 %, ever closer to 100. */
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

/** The percentile curve of each level (ms), decoded from its HDR histogram (µs); levels without one are left out. */
export function latencyDistributionChart(summary: RunSummary): ChartConfiguration<'line'> {
  const series: Series[] = [];
  let i = 0;
  // With several scenarios, each draws its curves with its own dash pattern (the first solid).
  const SCENARIO_DASHES = [[], [10, 4], [2, 3], [10, 3, 2, 3]];
  for (const [k, s] of summary.scenarios.entries()) {
    for (const l of measured(s)) {
      if (!l.histogram || l.successes === 0) continue;
      let points: SeriesPoint[];
      try {
        const h = decodeHistogram(l.histogram);
        points = DISTRIBUTION_PERCENTILES.map((p) => ({ x: percentileX(p), y: h.getValueAtPercentile(p) / 1000 }));
        h.destroy();
      } catch {
        continue; // a damaged histogram costs its curve, not the whole report
      }
      series.push({
        label: prefix(summary, s, `c=${l.concurrency}`),
        color: colorAt(i++),
        width: 2,
        dash: SCENARIO_DASHES[k % SCENARIO_DASHES.length],
        showPoints: false,
        points,
      });
    }
  }
  return lineChartConfig({
    title: `Latency distribution by level (run "${summary.run_label}")`,
    subtitle: 'latency at each percentile, one curve per concurrency level (c)',
    xLabel: 'percentile (log scale of 1/(1-p): the tail to the right)',
    yLabel: 'latency (ms)',
    xPercentile: true,
    series,
  });
}

/** One second of the timeline as a rate, placed at the middle of its bucket. */
export interface TimelineRate {
  /** Seconds since the run start (middle of the bucket). */
  x: number;
  rps: number;
  /** p95 of the bucket (ms), null when no request succeeded in it. */
  p95_ms: number | null;
}

/** Buckets shorter than this (s), i.e. the tail of a level, are too short to be a rate. */
const MIN_BUCKET_S = 0.25;

/**
 * The per-second points of a level as rates: each bucket's successes divided by its real length
 * (buckets are about 1 s, the last one ends with the level). Pure.
 */
export function timelineRates(l: MeasuredLevel, t0Ms: number): TimelineRate[] {
  const end = l.started_at_ms + l.duration_s * 1000;
  const out: TimelineRate[] = [];
  l.timeline.forEach((p, k) => {
    const next = l.timeline[k + 1]?.t_ms ?? Math.max(end, p.t_ms);
    const len = (next - p.t_ms) / 1000;
    if (len < MIN_BUCKET_S) return;
    out.push({
      x: round2((p.t_ms + (next - p.t_ms) / 2 - t0Ms) / 1000),
      rps: p.successes / len,
      p95_ms: p.successes > 0 ? p.p95_ms : null,
    });
  });
  return out;
}

const round2 = (x: number): number => Math.round(x * 100) / 100;

/**
 * Throughput and p95 per second over the whole run, x in seconds since the run start; the
 * level starts are marked (with their concurrency) and the warm-ups shaded, through the
 * renderer's `loadbenchMarkers` plugin options. Pure.
 */
export function timelineChart(summary: RunSummary): ChartConfiguration<'line'> {
  const levels = summary.scenarios.flatMap((s) => measured(s).map((l) => ({ s, l })));
  const firstStart = Math.min(...levels.map(({ l }) => l.started_at_ms));
  const runStart = Date.parse(summary.started_at);
  // The run start, unless the summary's clock disagrees with the levels' (then the first level).
  const t0 = Number.isFinite(runStart) && runStart <= firstStart ? runStart : levels.length ? firstStart : 0;
  const rel = (t: number) => round2((t - t0) / 1000);
  const series: Series[] = [];
  const markers: VerticalMarker[] = [];
  const bands: ShadedBand[] = [];
  let xEnd = 0; // the end of the last level: where close markers start to crowd
  summary.scenarios.forEach((s, i) => {
    const rps: SeriesPoint[] = [];
    const p95: SeriesPoint[] = [];
    for (const l of measured(s)) {
      const rates = timelineRates(l, t0);
      // A null between levels breaks the line: the gap (a warm-up) was not measured.
      if (rps.length && rates.length) {
        rps.push({ x: rel(l.started_at_ms), y: null });
        p95.push({ x: rel(l.started_at_ms), y: null });
      }
      for (const r of rates) {
        rps.push({ x: r.x, y: r.rps });
        p95.push({ x: r.x, y: r.p95_ms });
      }
      xEnd = Math.max(xEnd, rel(l.started_at_ms + l.duration_s * 1000));
      const warmup = s.workload.warmup_seconds;
      if (warmup > 0) bands.push({ from: Math.max(0, rel(l.started_at_ms - warmup * 1000)), to: rel(l.started_at_ms) });
    }
    series.push({ label: prefix(summary, s, 'throughput (req/s, left axis)'), color: colorAt(i * 2), width: 2, points: rps });
    series.push({ label: prefix(summary, s, 'p95 latency (ms, right axis)'), color: colorAt(i * 2 + 1), width: 1.5, yAxis: 'y2', points: p95 });
  });
  const sorted = [...levels].sort((a, b) => a.l.started_at_ms - b.l.started_at_ms);
  // Labels of markers closer than ~7 % of the axis go one row lower (3 rows, then around again).
  const minGap = Math.max(xEnd, 1) * 0.07;
  let lastX = -Infinity;
  let row = 0;
  for (const { s, l } of sorted) {
    const x = rel(l.started_at_ms);
    row = x - lastX < minGap ? (row + 1) % 3 : 0;
    lastX = x;
    markers.push({ x, label: `${summary.scenarios.length > 1 ? `${s.name} ` : ''}c=${l.concurrency}`, row });
  }
  const config = lineChartConfig({
    title: `Throughput and p95 per second over the run (run "${summary.run_label}")`,
    subtitle: 'dashed lines: level starts with their concurrency c; grey bands: warm-ups (not counted)',
    xLabel: 'time since the run start (s)',
    yLabel: 'successful requests per second (req/s)',
    y2Label: 'p95 latency (ms)',
    xMin: 0,
    series,
  });
  (config.options!.plugins as Record<string, unknown>).loadbenchMarkers = { markers, bands } satisfies MarkerOptions;
  return config;
}
