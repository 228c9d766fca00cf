import { describe, expect, it } from 'vitest';
import type { LevelResources } from '../../../core/model/resources.ts';
import type { RunSummary } from '../../../core/model/summary.ts';
import { compareRuns, levelPhrase, type CompareInput } from '../../../reporters/compare/compare-model.ts';
import { compareCharts, compareReportView, formatCompareCsv, levelColumn } from '../../../reporters/compare/compare-outputs.ts';
import { fixtureLevel, kneeSummary, levelsOf, openLoopSummary } from '../../fixtures/summaries.ts';

/** An open-loop run ("ingest", 100 to 800 req/s offered) of a system serving at most `capacityRps`. */
function openRun(label: string, capacityRps: number, workers = 1): RunSummary {
  const s = openLoopSummary(capacityRps);
  s.run_label = label;
  s.report.num_nodes = `gateway=1, worker=${workers}`;
  return s;
}

/** A closed-loop run as the closed comparison tests build it: throughput `100 x min(c, 4) x factor`. */
function closedRun(label: string, factor: number, workers = 1): RunSummary {
  const s = kneeSummary();
  s.run_label = label;
  s.report.num_nodes = `gateway=1, worker=${workers}`;
  const sc = s.scenarios[0]!;
  sc.levels = [1, 2, 4, 8].map((c) => fixtureLevel('submit', c, 100 * Math.min(c, 4) * factor, 10 + c));
  sc.workload.concurrency_levels = [1, 2, 4, 8];
  return s;
}

const input = (summary: RunSummary, replicas: number): CompareInput => ({ label: summary.run_label, summary, replicas, replicasFrom: 'num_nodes' });
const xTitle = (c: ReturnType<typeof compareCharts>['throughput']): unknown => (c.options!.scales!.x as { title: { text: string } }).title.text;

describe('levelPhrase and levelColumn', () => {
  it('name a closed level by its concurrency and an open-loop level by its offered rate', () => {
    expect(levelPhrase({ concurrency: 4 })).toBe('concurrency 4');
    expect(levelPhrase({ concurrency: 200, target_rate_rps: 200 })).toBe('200 req/s offered');
    const closed = levelColumn([{ concurrency: 4 }]);
    expect([closed.header, closed.cell({ concurrency: 4 })]).toEqual(['concurrency', '4']);
    const open = levelColumn([{ concurrency: 200, target_rate_rps: 200 }]);
    expect([open.header, open.cell({ concurrency: 200, target_rate_rps: 200 })]).toEqual(['offered rate (req/s)', '200']);
    const mixed = levelColumn([{ concurrency: 4 }, { concurrency: 200, target_rate_rps: 200 }]);
    expect([mixed.header, mixed.cell({ concurrency: 4 }), mixed.cell({ concurrency: 200, target_rate_rps: 200 })]).toEqual(['level', 'c=4', '200 req/s']);
    expect(levelColumn([]).header).toBe('concurrency');
  });
});

describe('compareRuns, open loop', () => {
  it('words the scaling verdicts for offered rates and leaves the client count out of the reasoning', () => {
    const c = compareRuns([input(openRun('1x', 300), 1), input(openRun('2x', 600, 2), 2), input(openRun('4x', 630, 4), 4)], 2);
    expect(c.figures.map((f) => [f.label, f.peak?.concurrency, f.peak?.target_rate_rps, f.peak?.throughput_rps, f.slo_capacity?.target_rate_rps])).toEqual([
      ['1x', 400, 400, 300, 200],
      ['2x', 800, 800, 600, 400],
      ['4x', 800, 800, 630, 400],
    ]);
    expect(c.scaling[0]).toBe(
      '1x to 2x (1 to 2 replicas): peak throughput 300 → 600 req/s (+100 %), step efficiency 100 %; p95 at 800 req/s offered 80.0 → 80.0 ms (+0 %): adding replicas still pays.',
    );
    expect(c.scaling[1]).toMatch(/^2x to 4x \(2 to 4 replicas\): peak throughput 600 → 630 req\/s \(\+5 %\), step efficiency \d+ %; p95 at 800 req\/s offered 80\.0 → 80\.0 ms \(\+0 %\): scaling stops here\. /);
    expect(c.scaling[1]).toContain('4x saturates at 800 req/s offered (3150 of the 4000 requests sent succeeded (630.0 req/s), below 95 %). ');
    expect(c.scaling[1]).toContain(
      "At 4x's peak (800 req/s offered) 800.0 req/s were sent and 630.0 req/s succeeded, with 25.2 requests in flight on average (Little's law), so the system served no more than that: " +
        'this machine has 2 CPU cores and 4x runs 4 replicas beside the gateway and the load generator, so the gateway or the CPU cores, not the replica count, are the limit.',
    );
    // An open-loop level has no clients: no sentence may count them.
    expect(c.scaling.join(' ')).not.toMatch(/clients|concurrency \d/);
  });

  it('does not call a step where the system served the highest offered rate in full the end of scaling', () => {
    const c = compareRuns([input(openRun('a', 2000), 1), input(openRun('b', 2000, 2), 2)], 2);
    expect(c.scaling[0]).toBe(
      'a to b (1 to 2 replicas): peak throughput 800 → 800 req/s (+0 %); p95 at 800 req/s offered 13.0 → 13.0 ms (+0 %): ' +
        'b kept up with the highest offered rate (800 req/s), so its peak is the load offered, not its capacity; add higher arrival_rates to find where scaling stops.',
    );
    expect(c.scaling[1]).toMatch(/^where scaling stops cannot be told from these runs/);
    expect(c.scaling.join(' ')).not.toContain('scaling stops here');
  });

  it('blames arrivals dropped at max_in_flight on the system, and a generator behind its schedule on the client', () => {
    // 1x peaks at 700, 2x at 720 successful req/s, both at 800 req/s offered: scaling stops there.
    const dropping = openRun('2x', 720, 2);
    const top = levelsOf(dropping.scenarios[0]!).at(-1)!;
    top.open_loop = { ...top.open_loop!, dropped: 900, sent: 3100 };
    const c = compareRuns([input(openRun('1x', 700), 1), input(dropping, 2)], 2);
    expect(c.scaling[0]).toContain("At 2x's peak (800 req/s offered) 900 arrivals were dropped at max_in_flight 1000, so requests piled up inside the system (");
    expect(c.scaling[0]).toMatch(/requests in flight on average \(Little's law\)\): this machine has 2 CPU cores/);

    const lagging = openRun('2x', 720, 2);
    const last = levelsOf(lagging.scenarios[0]!).at(-1)!;
    last.open_loop = { ...last.open_loop!, achieved_rate_rps: 500, schedule_lag_ms: { ...last.open_loop!.schedule_lag_ms, p99: 42 } };
    const d = compareRuns([input(openRun('1x', 700), 1), input(lagging, 2)], 2);
    expect(d.scaling[0]).toContain("At 2x's peak (800 req/s offered) only 500.0 req/s were sent (schedule lag p99 42.0 ms): the load generator fell behind its schedule");
  });

  it('names client-bound open-loop levels by their offered rate, and the shared rates', () => {
    const a = openRun('1x', 300);
    const b = openRun('2x', 600, 2);
    for (const l of levelsOf(b.scenarios[0]!).filter((x) => x.concurrency >= 400)) l.generator = { cpu_pct: 95, event_loop_delay_p99_ms: 12, client_bound: true };
    b.scenarios[0]!.levels = b.scenarios[0]!.levels.filter((l) => l.concurrency !== 100);
    const c = compareRuns([input(a, 1), input(b, 2)], 2);
    expect(c.caveats[0]).toMatch(/^2x: the load generator was saturated or delayed at 400, 800 req\/s offered: /);
    expect(c.differences).toContain('scenario "ingest": compared on the offered rates every run measured: 200, 400, 800 req/s');
  });

  it('says where an open-loop peak was CPU-bound, by its offered rate', () => {
    const b = openRun('2x', 720, 2);
    const peak = levelsOf(b.scenarios[0]!).find((l) => l.concurrency === 800)!;
    const resources: LevelResources = {
      available: true,
      samples: 20,
      covered_s: 5,
      target: { mean_cores: 0.97, max_cores: 1, max_rss_mb: 100, process_count: 1 },
      processes: [{ label: 'gateway', role: 'gateway', pid: 1, mean_cores: 0.97, max_cores: 1, max_rss_mb: 100 }],
      generator: { mean_cores: 0.2, max_cores: 0.2, max_rss_mb: 100 },
      machine: { cores: 2, mean_cpu_pct: 60, max_cpu_pct: 65, steal_pct: 0, other_cores: 0 },
      timeline: [],
    };
    peak.resources = resources;
    const c = compareRuns([input(openRun('1x', 700), 1), input(b, 2)], 2);
    expect(c.scaling[0]).toContain("At 2x's peak (800 req/s offered) the gateway process used 0.97 of a core");
    const view = compareReportView(c, 'compare_1x_2x');
    expect(view.bottlenecks_md).toEqual([expect.stringMatching(/^2x at its peak \(800 req\/s offered\): the gateway process used 0\.97 of a core/)]);
  });
});

describe('comparison outputs, open loop', () => {
  it('label the level column, the figures, the charts and the CSV with the offered rate', () => {
    const c = compareRuns([input(openRun('1x', 300), 1), input(openRun('2x', 600, 2), 2)], 2);
    const view = compareReportView(c, 'compare_1x_2x');
    expect(view.table_md.split('\n')[0]).toBe('| label | scenario | offered rate (req/s) | throughput (req/s) | p50 (ms) | p95 (ms) | p99 (ms) | error rate (%) |');
    expect(view.table_md).toContain('| 2x | ingest | 800 | 600.00 |');
    expect(view.figures_table_md.split('\n')[0]).toContain('| peak throughput (req/s) | at offered rate (req/s) | capacity at the SLO |');
    expect(view.figures_table_md).toContain('| 2x | ingest | 2 (num_nodes) | 600.0 | 800 | 400 req/s offered (400.0 successful req/s) |');
    expect(view.capacity_level).toBe('offered rate');
    const charts = compareCharts(c);
    for (const chart of Object.values(charts)) expect(xTitle(chart)).toBe('offered rate (requests per second, log2 scale)');
    // The throughput chart has the y = x line over every offered rate of either run; the others do not.
    const line = charts.throughput.data.datasets.find((d) => d.label === 'offered rate (y = x)');
    const rates = [...new Set(c.rows.map((r) => r.level.concurrency))].sort((a, b) => a - b);
    expect(line?.data).toEqual(rates.map((r) => ({ x: r, y: r })));
    expect(charts.p95_latency.data.datasets.some((d) => d.label === 'offered rate (y = x)')).toBe(false);
    const csv = formatCompareCsv(c).trim().split('\n');
    expect(csv[0]).toBe('label,scenario,concurrency,target_rate_rps,requests,throughput_rps,latency_p50_ms,latency_p95_ms,latency_p99_ms,error_rate_pct,slo_pass');
    // An open-loop level has no concurrency: its key is in target_rate_rps, as in a run's summary CSV.
    expect(csv[1]).toMatch(/^1x,ingest,,100,500,100\.00,/);
  });

  it('say "level" with c= and req/s cells when closed and open-loop scenarios are compared together', () => {
    const mixed = (label: string, factor: number, cap: number, workers: number): RunSummary => {
      const s = closedRun(label, factor, workers);
      s.scenarios.push(openRun(label, cap, workers).scenarios[0]!);
      return s;
    };
    const c = compareRuns([input(mixed('1x', 1, 300, 1), 1), input(mixed('2x', 1.8, 600, 2), 2)], 2);
    const view = compareReportView(c, 'compare_1x_2x');
    expect(view.table_md.split('\n')[0]).toBe('| label | scenario | level | throughput (req/s) | p50 (ms) | p95 (ms) | p99 (ms) | error rate (%) |');
    expect(view.table_md).toContain('| 1x | submit | c=4 | 400.00 |');
    expect(view.table_md).toContain('| 1x | ingest | 200 req/s | 200.00 |');
    expect(view.figures_table_md.split('\n')[0]).toContain('| at level |');
    expect(view.figures_table_md).toContain('| 2x | submit | 2 (num_nodes) | 720.0 | c=4 | concurrency 8 (720.0 req/s) |');
    expect(view.figures_table_md).toContain('| 2x | ingest | 2 (num_nodes) | 600.0 | 800 req/s | 400 req/s offered (400.0 successful req/s) |');
    expect(view.capacity_level).toBe('level (concurrency, or offered rate for open-loop scenarios)');
    expect(xTitle(compareCharts(c).throughput)).toBe('concurrency, or offered rate in req/s for open-loop scenarios (log2 scale)');
    const csv = formatCompareCsv(c).trim().split('\n');
    expect(csv.find((l) => l.startsWith('1x,submit,4,'))).toMatch(/^1x,submit,4,,/);
    expect(csv.find((l) => l.startsWith('1x,ingest,'))).toMatch(/^1x,ingest,,100,/);
  });

  it('leave closed-loop outputs as they were, with an empty target_rate_rps cell', () => {
    const c = compareRuns([input(closedRun('1x', 1), 1), input(closedRun('2x', 1.8, 2), 2)], 2);
    const view = compareReportView(c, 'compare_1x_2x');
    expect(view.table_md.split('\n')[0]).toBe('| label | scenario | concurrency | throughput (req/s) | p50 (ms) | p95 (ms) | p99 (ms) | error rate (%) |');
    expect(view.table_md).toContain('| 2x | submit | 4 | 720.00 |');
    expect(view.figures_table_md.split('\n')[0]).toBe(
      '| label | scenario | replicas | peak throughput (req/s) | at concurrency | capacity at the SLO | speed-up | scaling efficiency |',
    );
    expect(view.figures_table_md).toContain('| 2x | submit | 2 (num_nodes) | 720.0 | 4 | concurrency 8 (720.0 req/s) | 1.80x | 90 % |');
    expect(view.capacity_level).toBe('concurrency level');
    for (const chart of Object.values(compareCharts(c))) expect(xTitle(chart)).toBe('concurrency (concurrent clients, log2 scale)');
    expect(compareCharts(c).throughput.data.datasets.some((d) => d.label === 'offered rate (y = x)')).toBe(false);
    expect(formatCompareCsv(c).trim().split('\n')[1]).toMatch(/^1x,submit,1,,500,100\.00,/);
  });
});
