/** A generic line chart as chart.js configuration, for single runs and comparisons. Pure. */
import type { Chart, ChartConfiguration, ChartDataset, LegendItem } from 'chart.js';

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
/** The dash pattern of limit lines (SLOs). */
export const DASH = [8, 6];

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
