/** The charts of one run against concurrency: throughput, latency, error rate, latency distribution. Pure. */
import type { ChartConfiguration, ChartDataset } from 'chart.js';
import { ERROR_CATEGORIES, decodeHistogram, isOpenLoopScenario, measuredLevels, type ErrorCategory, type MeasuredLevel, type RunSummary, type ScenarioSummary } from '../../core/model/summary.ts';
import { DASH, colorAt, lineChartConfig, log2AxisRange, percentileX, type Series, type SeriesPoint } from './line-chart.ts';

/** The measured levels of a scenario, in concurrency order. */
export const measured = (s: ScenarioSummary): MeasuredLevel[] => measuredLevels(s);
const allLevels = (summary: RunSummary): number[] => summary.scenarios.flatMap((s) => measured(s).map((l) => l.concurrency));
/** A series label, prefixed with the scenario's name when the run has several. */
export const prefix = (summary: RunSummary, s: ScenarioSummary, text: string): string =>
  summary.scenarios.length > 1 ? `${s.name}: ${text}` : text;
const CONCURRENCY_AXIS = 'concurrency (concurrent clients, log2 scale)';

/** What the x axis of a run's charts is: concurrency, the offered rate of open-loop runs, or both kinds of level at once. */
export function levelAxis(summary: RunSummary): { name: string; label: string; short: string } {
  const withLevels = summary.scenarios.filter((s) => s.levels.length > 0);
  return levelAxisOf(withLevels.filter(isOpenLoopScenario).length, withLevels.length);
}

/**
 * The x axis for `open` open-loop things (scenarios, levels) out of `total`: concurrency when none
 * is open, offered rate when all are, both otherwise. Shared with the comparison and A/B charts.
 */
export function levelAxisOf(open: number, total: number): { name: string; label: string; short: string } {
  if (open === 0) return { name: 'concurrency', label: CONCURRENCY_AXIS, short: 'c' };
  if (open === total) return { name: 'offered rate', label: 'offered rate (requests per second, log2 scale)', short: 'rate' };
  return { name: 'level', label: 'concurrency, or offered rate in req/s for open-loop scenarios (log2 scale)', short: 'level' };
}

/** A level's label on a chart: `c=8`, or `200 req/s` open loop. */
export const levelLabel = (l: Pick<MeasuredLevel, 'concurrency' | 'target_rate_rps'>): string =>
  l.target_rate_rps !== undefined ? `${l.target_rate_rps} req/s` : `c=${l.concurrency}`;

/**
 * The y = x line of a throughput chart over offered rates: where throughput would be if every
 * offered request succeeded. Undefined without an open-loop rate. Shared with the comparison and
 * A/B charts. Pure.
 */
export function offeredRateSeries(rates: readonly number[]): Series | undefined {
  if (rates.length === 0) return undefined;
  const sorted = [...new Set(rates)].sort((a, b) => a - b);
  return { label: 'offered rate (y = x)', color: '#000000', dashed: true, width: 1.2, points: sorted.map((r) => ({ x: r, y: r })) };
}

/** Successful req/s against concurrency, one line per scenario. */
export function throughputChart(summary: RunSummary): ChartConfiguration<'line'> {
  const several = summary.scenarios.length > 1;
  const axis = levelAxis(summary);
  const series: Series[] = summary.scenarios.map((s, i) => ({
    label: several ? s.name : 'throughput (successful req/s)',
    color: colorAt(i),
    points: measured(s).map((l) => ({ x: l.concurrency, y: l.throughput_rps })),
  }));
  const offered = offeredRateSeries(summary.scenarios.filter(isOpenLoopScenario).flatMap((s) => measured(s).map((l) => l.concurrency)));
  if (offered) series.push(offered);
  return lineChartConfig({
    title: `Throughput vs ${axis.name} (run "${summary.run_label}")`,
    xLabel: axis.label,
    yLabel: 'successful requests per second (req/s)',
    xLog2Ticks: allLevels(summary),
    series,
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
    title: `p95 latency vs ${levelAxis(summary).name} (run "${summary.run_label}")`,
    subtitle: `p50 and p99 as thinner lines; SLO limit dashed${levelAxis(summary).name === 'concurrency' ? '' : '; open loop: timed from each request\'s due time'}`,
    xLabel: levelAxis(summary).label,
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
  dropped: '#2ca02c',
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
    title: `Error rate vs ${levelAxis(summary).name}, stacked by category (run "${summary.run_label}")`,
    subtitle: anyError
      ? `each band is one error category; the top edge is the total error rate${levelAxis(summary).name === 'concurrency' ? '' : ' (dropped: arrivals not sent at max_in_flight)'}`
      : 'no failed request at any level',
    xLabel: levelAxis(summary).label,
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
        label: prefix(summary, s, levelLabel(l)),
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
    subtitle: `latency at each percentile, one curve per level${levelAxis(summary).name === 'concurrency' ? ' (c: concurrency)' : ''}`,
    xLabel: 'percentile (log scale of 1/(1-p): the tail to the right)',
    yLabel: 'latency (ms)',
    xPercentile: true,
    series,
  });
}
