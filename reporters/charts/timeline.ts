/** The timeline of a run: throughput and p95 per second, level starts and warm-ups marked. Pure. */
import type { ChartConfiguration } from 'chart.js';
import type { MeasuredLevel, RunSummary } from '../../core/model/summary.ts';
import { colorAt, lineChartConfig, type MarkerOptions, type Series, type SeriesPoint, type ShadedBand, type VerticalMarker } from './line-chart.ts';
import { levelLabel, measured, prefix } from './run-charts.ts';
import { targetCpuPoints } from './resources-chart.ts';

/** One second of the timeline as a rate, placed at the middle of its bucket. */
export interface TimelineRate {
  /** Seconds since the run start (middle of the bucket). */
  x: number;
  rps: number;
  /** p95 of the bucket (ms), null when no request succeeded in it. */
  p95_ms: number | null;
  /** Open loop: arrivals sent per second of the bucket (the achieved rate). */
  sent_rps?: number;
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
      ...(p.sent !== undefined ? { sent_rps: p.sent / len } : {}),
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
    // Open loop: the target rate and the achieved rate (arrivals sent) per second.
    const target: SeriesPoint[] = [];
    const achieved: SeriesPoint[] = [];
    for (const l of measured(s)) {
      const rates = timelineRates(l, t0);
      // A null between levels breaks the line: the gap (a warm-up) was not measured.
      if (rps.length && rates.length) {
        for (const line of [rps, p95, target, achieved]) if (line.length) line.push({ x: rel(l.started_at_ms), y: null });
      }
      for (const r of rates) {
        rps.push({ x: r.x, y: r.rps });
        p95.push({ x: r.x, y: r.p95_ms });
        if (l.target_rate_rps !== undefined && r.sent_rps !== undefined) {
          target.push({ x: r.x, y: l.target_rate_rps });
          achieved.push({ x: r.x, y: r.sent_rps });
        }
      }
      xEnd = Math.max(xEnd, rel(l.started_at_ms + l.duration_s * 1000));
      const warmup = s.workload.warmup_seconds;
      if (warmup > 0) bands.push({ from: Math.max(0, rel(l.started_at_ms - warmup * 1000)), to: rel(l.started_at_ms) });
    }
    series.push({ label: prefix(summary, s, 'throughput (req/s, left axis)'), color: colorAt(i * 2), width: 2, points: rps });
    series.push({ label: prefix(summary, s, 'p95 latency (ms, right axis)'), color: colorAt(i * 2 + 1), width: 1.5, yAxis: 'y2', points: p95 });
    if (achieved.length) {
      series.push({ label: prefix(summary, s, 'target rate (req/s, left axis)'), color: '#000000', dashed: true, width: 1.2, points: target });
      series.push({ label: prefix(summary, s, 'achieved rate: sent (req/s, left axis)'), color: colorAt(i * 2 + 2), width: 1.5, points: achieved });
    }
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
    markers.push({ x, label: `${summary.scenarios.length > 1 ? `${s.name} ` : ''}${levelLabel(l)}`, row });
  }
  const config = lineChartConfig({
    title: `Throughput and p95 per second over the run (run "${summary.run_label}")`,
    subtitle: levels.some(({ l }) => l.target_rate_rps !== undefined)
      ? 'dashed lines: level starts with their level (c: concurrency, req/s: offered rate); grey bands: warm-ups (not counted)'
      : 'dashed lines: level starts with their concurrency c; grey bands: warm-ups (not counted)',
    xLabel: 'time since the run start (s)',
    yLabel: 'successful requests per second (req/s)',
    y2Label: 'p95 latency (ms)',
    xMin: 0,
    series,
  });
  (config.options!.plugins as Record<string, unknown>).loadbenchMarkers = { markers, bands } satisfies MarkerOptions;
  addTargetCpu(config, summary, t0);
  return config;
}

/**
 * The target's CPU per second (issue 16), on a third axis at the right, when the run sampled it:
 * a dotted line, so that it reads apart from throughput and latency.
 */
function addTargetCpu(config: ChartConfiguration<'line'>, summary: RunSummary, t0: number): void {
  const points: { x: number; y: number | null }[] = [];
  for (const s of summary.scenarios) {
    for (const l of measured(s)) {
      const cpu = targetCpuPoints(l, t0);
      if (points.length && cpu.length) points.push({ x: cpu[0]!.x - 0.01, y: null });
      points.push(...cpu);
    }
  }
  if (points.length === 0) return;
  points.sort((a, b) => a.x - b.x);
  const subtitle = (config.options!.plugins as { subtitle: { text: string } }).subtitle;
  subtitle.text = `${subtitle.text}; dotted: CPU of the system under test`;
  config.data.datasets.push({
    label: 'CPU of the system under test (cores, right axis)',
    data: points as { x: number; y: number }[],
    borderColor: '#2ca02c',
    backgroundColor: '#2ca02c',
    borderWidth: 2,
    borderDash: [2, 3],
    pointRadius: 0,
    tension: 0,
    spanGaps: false,
    yAxisID: 'y3',
  });
  (config.options!.scales as Record<string, unknown>).y3 = {
    type: 'linear',
    position: 'right',
    min: 0,
    title: { display: true, text: 'CPU of the system under test (cores)', font: { size: 14 } },
    ticks: { font: { size: 14 } },
    grid: { drawOnChartArea: false },
  };
}
