import type { Chart, ChartConfiguration, LegendItem } from 'chart.js';
import { describe, expect, it } from 'vitest';
import { levelsOf } from '../../fixtures/summaries.ts';
import { lineChartConfig, percentileLabel, percentileX, type MarkerOptions } from '../../../reporters/charts/line-chart.ts';
import { DISTRIBUTION_PERCENTILES, errorRateChart, latencyChart, latencyDistributionChart, throughputChart } from '../../../reporters/charts/run-charts.ts';
import { timelineChart, timelineRates } from '../../../reporters/charts/timeline.ts';
import { fixtureLevel, kneeSummary, layOutSequentially, twoScenarioSummary } from '../../fixtures/summaries.ts';

type Scale = Record<string, unknown> & { afterBuildTicks?: (axis: { ticks: { value: number }[] }) => void };
const scales = (c: ChartConfiguration) => c.options!.scales as Record<string, Scale>;
const ticksOf = (scale: Scale): number[] => {
  const axis = { ticks: [] as { value: number }[] };
  scale.afterBuildTicks!(axis);
  return axis.ticks.map((t) => t.value);
};
const labels = (c: ChartConfiguration) => c.data.datasets.map((d) => d.label);
const legend = (c: ChartConfiguration): LegendItem[] => {
  const generate = (c.options!.plugins!.legend!.labels as { generateLabels: (chart: Chart) => LegendItem[] }).generateLabels;
  return generate({ data: c.data, isDatasetVisible: () => true } as unknown as Chart);
};

describe('line chart builder (shared with run comparisons)', () => {
  it('turns generic series into datasets, with the legend drawn as the lines themselves', () => {
    const c = lineChartConfig({
      title: 'T',
      xLabel: 'concurrency',
      yLabel: 'req/s',
      xLog2Ticks: [4, 1, 2, 4],
      series: [
        { label: 'run A', points: [{ x: 1, y: 10 }, { x: 2, y: 20 }] },
        { label: 'limit', dashed: true, points: [{ x: 1, y: 5 }, { x: 4, y: 5 }] },
      ],
    });
    expect(labels(c)).toEqual(['run A', 'limit']);
    expect(c.data.datasets[0]!.data).toEqual([{ x: 1, y: 10 }, { x: 2, y: 20 }]);
    expect(scales(c).x!.type).toBe('logarithmic');
    expect(ticksOf(scales(c).x!)).toEqual([1, 2, 4]);
    expect(legend(c).map((i) => [i.text, i.pointStyle, i.lineDash])).toEqual([
      ['run A', 'line', []],
      ['limit', 'line', [8, 6]],
    ]);
  });
});

describe('throughput chart', () => {
  it('puts concurrency on a log2 axis with ticks at the measured levels', () => {
    const c = throughputChart(kneeSummary());
    expect(ticksOf(scales(c).x!)).toEqual([1, 2, 4, 8, 16, 32]);
    expect(c.data.datasets).toHaveLength(1);
    expect(c.data.datasets[0]!.data).toEqual([1, 2, 4, 8, 16, 32].map((x, i) => ({ x, y: [100, 380, 700, 1100, 1150, 1160][i] })));
  });

  it('draws one line per scenario and leaves skipped levels out', () => {
    const c = throughputChart(twoScenarioSummary());
    expect(labels(c)).toEqual(['status', 'submit']);
    expect(c.data.datasets[0]!.data).toEqual([{ x: 1, y: 400 }, { x: 4, y: 1500 }, { x: 16, y: 3000 }]);
    expect(ticksOf(scales(c).x!)).toEqual([1, 2, 4, 8, 16, 32]);
  });
});

describe('latency chart', () => {
  it('draws p95 thick, p50 and p99 thinner, and the SLO p95 limit dashed across the axis', () => {
    const c = latencyChart(kneeSummary());
    expect(labels(c)).toEqual(['p95', 'p50', 'p99', 'SLO p95 <= 50 ms']);
    const [p95, p50, p99, slo] = c.data.datasets;
    expect(p95!.borderWidth).toBeGreaterThan(p50!.borderWidth as number);
    expect(p95!.borderWidth).toBeGreaterThan(p99!.borderWidth as number);
    expect(p95!.data.map((p) => (p as { y: number }).y)).toEqual([8, 9, 12, 20, 45, 95]);
    expect(slo!.borderDash).toEqual([8, 6]);
    expect(slo!.data).toEqual([{ x: 1 / 1.25, y: 50 }, { x: 32 * 1.25, y: 50 }]);
  });

  it('lists an SLO far above every curve in the legend only, so the curves keep the height', () => {
    const s = kneeSummary();
    s.scenarios[0]!.slo.p95_ms = 5000;
    const slo = latencyChart(s).data.datasets.at(-1)!;
    expect(slo.label).toBe('SLO p95 <= 5000 ms (above the plotted range)');
    expect(slo.data).toEqual([]);
  });

  it('with several scenarios, gives each its colour and names the scenario in every label', () => {
    const c = latencyChart(twoScenarioSummary());
    expect(labels(c)).toEqual(['status: p95', 'status: p50', 'status: p99', 'submit: p95', 'submit: p50', 'submit: p99', 'submit: SLO p95 <= 50 ms']);
    expect(new Set(c.data.datasets.slice(0, 3).map((d) => d.borderColor)).size).toBe(1);
    expect(c.data.datasets[0]!.borderColor).not.toBe(c.data.datasets[3]!.borderColor);
  });
});

describe('error rate chart', () => {
  it('stacks one area per error category seen, summing to the error rate, with the SLO dashed', () => {
    const c = errorRateChart(kneeSummary());
    expect(labels(c)).toEqual(['timeout', 'http_5xx', 'SLO error rate <= 1 %']);
    expect((scales(c).y as { stacked?: boolean }).stacked).toBe(true);
    const at32 = c.data.datasets.slice(0, 2).map((d) => (d.data.at(-1) as { y: number }).y);
    expect(at32[0]).toBeCloseTo((10 / 5850) * 100, 9);
    expect(at32[0]! + at32[1]!).toBeCloseTo((50 / 5850) * 100, 9);
    expect(c.data.datasets[0]!.fill).toBe('origin');
    expect(c.data.datasets[1]!.fill).toBe('-1');
    expect(c.data.datasets[2]!.borderDash).toEqual([8, 6]);
    expect(legend(c).map((i) => i.pointStyle)).toEqual(['rect', 'rect', 'line']);
  });

  it('shows a flat "no errors" line and says so when nothing failed', () => {
    const s = twoScenarioSummary();
    s.scenarios = [s.scenarios[0]!];
    const c = errorRateChart(s);
    expect(labels(c)).toEqual(['no errors']);
    expect(c.options!.plugins!.subtitle!.text).toBe('no failed request at any level');
  });
});

describe('latency distribution chart', () => {
  it('spaces percentiles from 50 to 99.99 on a 1/(1-p) log axis labelled as percentiles', () => {
    expect(DISTRIBUTION_PERCENTILES[0]).toBe(50);
    expect(DISTRIBUTION_PERCENTILES.at(-1)).toBe(99.99);
    expect(percentileX(99)).toBeCloseTo(100, 6);
    const c = latencyDistributionChart(kneeSummary());
    expect(ticksOf(scales(c).x!).map(percentileLabel)).toEqual(['50%', '90%', '99%', '99.9%', '99.99%']);
    expect(scales(c).x!.type).toBe('logarithmic');
  });

  it('decodes each level histogram (µs) into a percentile curve in ms', () => {
    const c = latencyDistributionChart(kneeSummary());
    expect(labels(c)).toEqual(['c=1', 'c=2', 'c=4', 'c=8', 'c=16', 'c=32']);
    // The fixture histogram of level 1 is centred on its 5 ms mean and grows to 4.5x at the top.
    const curve = c.data.datasets[0]!.data as { x: number; y: number }[];
    expect(curve[0]!.x).toBeCloseTo(2, 9);
    expect(curve[0]!.y).toBeCloseTo(5, 1);
    expect(curve.at(-1)!.y).toBeGreaterThan(20);
    expect(curve.every((p, i) => i === 0 || p.y >= curve[i - 1]!.y)).toBe(true);
  });

  it('with several scenarios, names the scenario and gives each its own dash pattern', () => {
    const c = latencyDistributionChart(twoScenarioSummary());
    expect(labels(c).slice(0, 4)).toEqual(['status: c=1', 'status: c=4', 'status: c=16', 'submit: c=1']);
    expect(c.data.datasets[0]!.borderDash).toEqual([]);
    expect(c.data.datasets[3]!.borderDash).toEqual([10, 4]);
  });

  it('leaves out a level whose histogram cannot be decoded instead of failing', () => {
    const s = kneeSummary();
    levelsOf(s.scenarios[0]!)[0]!.histogram = 'not base64 at all';
    expect(labels(latencyDistributionChart(s))).toEqual(['c=2', 'c=4', 'c=8', 'c=16', 'c=32']);
  });
});

describe('timeline chart', () => {
  it('plots per-second rates against seconds since the run start, broken between levels, with level markers', () => {
    const c = timelineChart(kneeSummary());
    expect(labels(c)).toEqual(['throughput (req/s, left axis)', 'p95 latency (ms, right axis)']);
    const rps = c.data.datasets[0]!.data as { x: number; y: number | null }[];
    // Run start 10:00:00.000; level 1 measured from 1.5 s (0.5 s setup + 1 s warm-up): first bucket centred at 2 s.
    expect(rps[0]).toEqual({ x: 2, y: 90 });
    expect(rps.filter((p) => p.y === null)).toHaveLength(5);
    expect(c.data.datasets[1]!.yAxisID).toBe('y2');
    const plugin = (c.options!.plugins as Record<string, unknown>).loadbenchMarkers as MarkerOptions;
    expect(plugin.markers.map((m) => [m.x, m.label])).toEqual([
      [1.5, 'c=1'],
      [7.5, 'c=2'],
      [13.5, 'c=4'],
      [19.5, 'c=8'],
      [25.5, 'c=16'],
      [31.5, 'c=32'],
    ]);
    expect(plugin.bands![0]).toEqual({ from: 0.5, to: 1.5 });
    expect(scales(c).x!.min).toBe(0);
  });

  it('staggers the labels of markers that are close together', () => {
    const s = kneeSummary();
    const levels = levelsOf(s.scenarios[0]!);
    for (const l of levels) l.duration_s = 0.3;
    layOutSequentially(levels, Date.parse(s.started_at) + 100_000, 0);
    const plugin = (timelineChart(s).options!.plugins as Record<string, unknown>).loadbenchMarkers as MarkerOptions;
    expect(plugin.markers.map((m) => m.row)).toEqual([0, 1, 2, 0, 1, 2]);
  });

  it('turns buckets into rates by their real length and drops a last bucket too short to be a rate', () => {
    const l = fixtureLevel('x', 4, 100, 10);
    l.started_at_ms = 1000;
    l.duration_s = 2.5;
    l.timeline = [0, 1000, 2000].map((t, i) => ({ t_ms: 1000 + t, requests: 100, successes: [100, 80, 50][i]!, failures: 0, p95_ms: 10 }));
    expect(timelineRates(l, 0)).toEqual([
      { x: 1.5, rps: 100, p95_ms: 10 },
      { x: 2.5, rps: 80, p95_ms: 10 },
      { x: 3.25, rps: 100, p95_ms: 10 },
    ]);
    l.duration_s = 2.1;
    expect(timelineRates(l, 0)).toHaveLength(2);
  });
});
