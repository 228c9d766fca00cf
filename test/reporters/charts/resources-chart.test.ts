import { describe, expect, it } from 'vitest';
import type { LevelResources } from '../../../core/model/resources.ts';
import { resourcesChart, targetCpuPoints } from '../../../reporters/charts/resources-chart.ts';
import { timelineChart } from '../../../reporters/charts/timeline.ts';
import { renderChartPng } from '../../../reporters/charts/render-chart.ts';
import { kneeSummary } from '../../fixtures/summaries.ts';

function withResources() {
  const summary = kneeSummary();
  const s = summary.scenarios[0]!;
  s.levels = s.levels.map((l, k): typeof l => {
    if (l.status === 'skipped') return l;
    const worker = 0.2 * (k + 1);
    const resources: LevelResources = {
      available: true,
      samples: 20,
      covered_s: 5,
      target: { mean_cores: 0.3 + 2 * worker, max_cores: 1, max_rss_mb: 300, process_count: 4 },
      processes: [
        { label: 'gateway', role: 'gateway', pid: 10, mean_cores: 0.3, max_cores: 0.4, max_rss_mb: 90 },
        { label: 'worker 1', role: 'worker', pid: 11, mean_cores: worker, max_cores: worker, max_rss_mb: 80 },
        { label: 'worker 2', role: 'worker', pid: 12, mean_cores: worker, max_cores: worker, max_rss_mb: 80 },
        { label: 'sh', role: 'sh', pid: 9, wrapper: true, mean_cores: 0, max_cores: 0, max_rss_mb: 2 },
      ],
      generator: { mean_cores: 0.1, max_cores: 0.2, max_rss_mb: 100 },
      machine: { cores: 2, mean_cpu_pct: 50, max_cpu_pct: 60, steal_pct: 0, other_cores: 0.05 },
      timeline: [0, 1, 2, 3, 4].map((i) => ({ t_ms: l.started_at_ms + i * 1000, target_cores: 0.3 + 2 * worker })),
    };
    return { ...l, resources };
  });
  return summary;
}

describe('resources chart', () => {
  it('stacks each process, the minor ones together, loadbench and other work; the core count is a line', () => {
    const config = resourcesChart(withResources());
    const labels = config.data.datasets.map((d) => d.label);
    expect(labels).toEqual([
      'gateway (system under test)',
      'worker 1 (system under test)',
      'worker 2 (system under test)',
      'other processes of the system under test (sh)',
      'loadbench (load generator)',
      'other work on the machine',
      "the machine's 2 CPU cores",
    ]);
    const worker2 = config.data.datasets[2]!.data as { x: number; y: number }[];
    expect(worker2.map((p) => p.x)).toEqual([1, 2, 4, 8, 16, 32]);
    expect(worker2[5]!.y).toBeCloseTo(1.2);
    expect(config.data.datasets.slice(0, 6).every((d) => d.stack === 'cpu')).toBe(true);
    expect((config.data.datasets[6]!.data as { y: number }[]).map((p) => p.y)).toEqual([2, 2]);
    expect(renderChartPng(config).subarray(1, 4).toString()).toBe('PNG');
  });

  it('the timeline gets the target CPU per second on its own axis; none without figures', () => {
    const summary = withResources();
    const l = summary.scenarios[0]!.levels[0]!;
    if (l.status === 'skipped') throw new Error('fixture');
    const points = targetCpuPoints(l, l.started_at_ms);
    expect(points.map((p) => p.x)).toEqual([0.5, 1.5, 2.5, 3.5, 4.5]);
    const config = timelineChart(summary);
    expect(config.data.datasets.at(-1)).toMatchObject({ label: 'CPU of the system under test (cores, right axis)', yAxisID: 'y3' });
    expect(timelineChart(kneeSummary()).data.datasets.some((d) => d.yAxisID === 'y3')).toBe(false);
  });
});
