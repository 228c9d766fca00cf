/**
 * `<run_label>_resources.png` (issue 16): the CPU cores each process of the system under test used
 * at each level, stacked, with loadbench and the rest of the machine on top, against concurrency;
 * the machine's core count is a dashed line, so the top of the stack reaching it means the machine
 * was the limit. Pure.
 */
import type { ChartConfiguration, ChartDataset } from 'chart.js';
import { availableResources } from '../../core/model/resources.ts';
import type { MeasuredLevel, RunSummary, ScenarioSummary } from '../../core/model/summary.ts';
import { DASH, colorAt, lineChartConfig, log2AxisRange } from './line-chart.ts';
import { measured } from './run-charts.ts';

/** Processes below this many cores at every level share one band (launchers, helper processes). */
const MINOR_CORES = 0.02;

/** The scenario the chart shows: the first with resource figures. */
function chartedScenario(summary: RunSummary): ScenarioSummary | undefined {
  return summary.scenarios.find((s) => measured(s).some((l) => l.resources?.available));
}

/**
 * The stacked bands: one per process label that used at least {@link MINOR_CORES} at some level,
 * in the order they first appear; the rest (launchers such as sh or npm, idle helpers) share one.
 */
function processBands(levels: MeasuredLevel[]): { labels: string[]; minor: string[] } {
  const peak = new Map<string, number>();
  for (const l of levels) {
    for (const p of availableResources(l.resources)?.processes ?? []) {
      const key = p.wrapper ? `\u0000${p.label}` : p.label;
      peak.set(key, Math.max(peak.get(key) ?? 0, p.mean_cores));
    }
  }
  const labels = [...peak].filter(([k, v]) => !k.startsWith('\u0000') && v >= MINOR_CORES).map(([k]) => k);
  const minor = [...peak.keys()].filter((k) => !labels.includes(k)).map((k) => k.replace('\u0000', ''));
  return { labels, minor };
}

function coresOf(l: MeasuredLevel, labels: string[], band: string | undefined): number | null {
  const r = availableResources(l.resources);
  if (!r) return null;
  const ps = r.processes.filter((p) => (band === undefined ? p.wrapper || !labels.includes(p.label) : !p.wrapper && p.label === band));
  return ps.reduce((sum, p) => sum + p.mean_cores, 0);
}

/** CPU cores per process (stacked) against concurrency, machine core count as a line. */
export function resourcesChart(summary: RunSummary): ChartConfiguration<'line'> {
  const s = chartedScenario(summary);
  const levels = s ? measured(s).filter((l) => l.resources?.available) : [];
  const ticks = levels.map((l) => l.concurrency);
  const bands = processBands(levels);
  const datasets: ChartDataset<'line'>[] = [];
  const area = (label: string, color: string, y: (l: MeasuredLevel) => number | null): void => {
    datasets.push({
      label,
      data: levels.map((l) => ({ x: l.concurrency, y: y(l) })) as { x: number; y: number }[],
      borderColor: color,
      backgroundColor: `${color}aa`,
      borderWidth: 1.5,
      pointRadius: 3,
      pointStyle: 'rect',
      fill: datasets.length === 0 ? 'origin' : '-1',
      stack: 'cpu',
      yAxisID: 'y',
    });
  };
  bands.labels.forEach((band, i) => area(`${band} (system under test)`, colorAt(i), (l) => coresOf(l, bands.labels, band)));
  if (bands.minor.length) {
    const names = [...new Set(bands.minor.map((m) => m.replace(/ \d+$/, '')))];
    area(`other processes of the system under test (${names.slice(0, 4).join(', ')}${names.length > 4 ? ', …' : ''})`, '#bcbd22', (l) => coresOf(l, bands.labels, undefined));
  }
  area('loadbench (load generator)', '#7f7f7f', (l) => availableResources(l.resources)?.generator?.mean_cores ?? 0);
  area('other work on the machine', '#c7c7c7', (l) => availableResources(l.resources)?.machine?.other_cores ?? 0);
  const cores = Math.max(0, ...levels.map((l) => availableResources(l.resources)?.machine?.cores ?? 0));
  const [lo, hi] = ticks.length ? log2AxisRange(ticks) : [1, 2];
  if (cores > 0) {
    datasets.push({
      label: `the machine's ${cores} CPU cores`,
      data: [
        { x: lo, y: cores },
        { x: hi, y: cores },
      ],
      borderColor: '#000000',
      backgroundColor: '#000000',
      borderDash: DASH,
      borderWidth: 2,
      pointRadius: 0,
      fill: false,
      stack: 'cores',
      yAxisID: 'y',
    });
  }
  const several = summary.scenarios.length > 1 && s ? ` scenario "${s.name}",` : '';
  const base = lineChartConfig({
    title: `CPU cores per process vs concurrency (run "${summary.run_label}")`,
    subtitle: levels.length
      ? `mean over each level's measured time,${several} stacked: the top edge is the machine's busy cores; dashed: the cores it has`
      : 'no resource figures in this run (they need Linux /proc)',
    xLabel: 'concurrency (concurrent clients, log2 scale)',
    yLabel: 'CPU cores used (1 = one core busy)',
    xLog2Ticks: ticks.length ? ticks : [1],
    ySuggestedMax: cores > 0 ? cores * 1.1 : 1,
    series: [],
  });
  const y = (base.options!.scales as Record<string, Record<string, unknown>>).y!;
  y.stacked = true;
  base.data.datasets = datasets;
  return base;
}

/** The target's CPU per second of a level, for the timeline: `[x s since t0, cores]`. Pure. */
export function targetCpuPoints(l: MeasuredLevel, t0Ms: number): { x: number; y: number }[] {
  const r = availableResources(l.resources);
  if (!r?.target) return [];
  const end = l.started_at_ms + l.duration_s * 1000;
  // Each point in the middle of its second (the last one may be shorter).
  return r.timeline.map((p) => ({ x: Math.round((p.t_ms + Math.min(1000, Math.max(0, end - p.t_ms)) / 2 - t0Ms) / 10) / 100, y: p.target_cores }));
}
