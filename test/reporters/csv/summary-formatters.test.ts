import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import type { MeasuredLevel, RunSummary } from '../../../core/model/summary.ts';
import { emptyErrorCounts } from '../../../engine/stats.ts';
import { formatConsoleTable } from '../../../reporters/console/results-table.ts';
import { buildRunSummary } from '../../../core/model/build-summary.ts';
import { SUMMARY_COLUMNS, formatSummaryCsv } from '../../../reporters/csv/summary-csv.ts';

function level(concurrency: number, over: Partial<MeasuredLevel> = {}): MeasuredLevel {
  return {
    status: 'measured',
    scenario: 'submit, "quoted"',
    concurrency,
    requests: 1000,
    successes: 990,
    failures: 10,
    error_rate_pct: 1,
    throughput_rps: 495.5,
    latency_ms: { min: 1, mean: 8, stddev: 1, p50: 7.5, p90: 11, p95: 12.25, p99: 20, p999: 25, max: 30 },
    duration_s: 2,
    started_at_ms: 1_700_000_000_000,
    warmup_requests: 5,
    errors: { ...emptyErrorCounts(), http_5xx: 10 },
    error_samples: [{ category: 'http_5xx', message: 'HTTP 500' }],
    status_codes: { '200': 990, '500': 10 },
    histogram: 'x',
    timeline: [],
    slo: { judged: true, pass: false, checks: [{ metric: 'p95_ms', limit: 10, value: 12.25, pass: false }] },
    generator: { cpu_pct: 40, event_loop_delay_p99_ms: 1, client_bound: false },
    ...over,
  };
}

const scenario = {
  name: 'submit, "quoted"',
  file: 'benches/submit.bench.ts',
  workload: {
    url: 'http://localhost:8080/submit',
    method: 'POST',
    header_names: ['authorization'],
    payload_shape: { challenge_id: 'string' },
    concurrency_levels: [4, 1],
    duration_seconds: 2,
    warmup_seconds: 0,
    timeout_seconds: 10,
    challenge_id: 'demo',
  },
  slo: { p95_ms: 10 },
};

function summary(): RunSummary {
  return buildRunSummary(
    [
      { scenario, level: level(4) },
      { scenario, level: level(1, { slo: { judged: true, pass: true, checks: [] }, generator: { cpu_pct: 95, event_loop_delay_p99_ms: 2, client_bound: true } }) },
    ],
    {
      runLabel: 'unit',
      startedAt: new Date('2026-01-01T00:00:00Z'),
      finishedAt: new Date('2026-01-01T00:01:00Z'),
      interrupted: false,
      report: { hardware_env: 'auto', software_env: 'auto', num_nodes: '1' },
    },
  );
}

describe('buildRunSummary', () => {
  it('groups levels by scenario and sorts them by concurrency', () => {
    const s = summary();
    expect(s.format).toBe('loadbench-summary');
    expect(s.scenarios).toHaveLength(1);
    expect(s.scenarios[0]!.levels.map((l) => l.concurrency)).toEqual([1, 4]);
    expect(s.started_at).toBe('2026-01-01T00:00:00.000Z');
  });
});

describe('formatSummaryCsv', () => {
  it('writes one row per level with every column, quoting names safely', () => {
    const rows = parse(formatSummaryCsv(summary()), { columns: true }) as Record<string, string>[];
    expect(Object.keys(rows[0]!)).toEqual(SUMMARY_COLUMNS.map((c) => c.name));
    expect(rows.map((r) => r.scenario)).toEqual(['submit, "quoted"', 'submit, "quoted"']);
    expect(rows[1]).toMatchObject({
      concurrency: '4',
      requests: '1000',
      error_rate_pct: '1',
      throughput_rps: '495.5',
      latency_p95_ms: '12.25',
      errors_http_5xx: '10',
      errors_timeout: '0',
      slo_pass: 'false',
      slo_failed_metrics: 'p95_ms',
      client_bound: 'false',
    });
    expect(rows[0]!.client_bound).toBe('true');
  });
});

describe('formatConsoleTable', () => {
  it('shows one row per level with the SLO verdict and the client-bound note', () => {
    const lines = formatConsoleTable(summary()).split('\n');
    expect(lines[0]).toBe('loadbench results: run "unit"');
    expect(lines[1]).toMatch(/^scenario\s+conc\s+req\/s\s+p50 ms\s+p95 ms\s+p99 ms\s+errors %\s+requests\s+SLO\s+notes$/);
    expect(lines[3]).toMatch(/ 1 +495\.5 +7\.50 +12\.25 +20\.00 +1\.00 +1000 +PASS +client-bound \(cpu 95%/);
    expect(lines[4]).toMatch(/ 4 +495\.5 .* FAIL \(p95_ms\)$/);
  });
});
