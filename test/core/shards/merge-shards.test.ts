import * as hdr from 'hdr-histogram-js';
import { describe, expect, it } from 'vitest';
import { decodeHistogram, encodeHistogram } from '../../../engine/histogram.ts';
import { ShardMergeError } from '../../../core/errors.ts';
import { SUMMARY_FORMAT, SUMMARY_FORMAT_VERSION, type LevelResult, type MeasuredLevel, type RunSummary } from '../../../core/model/summary.ts';
import { emptyErrorCounts } from '../../../engine/stats.ts';
import { mergeShardSummaries, mergeTimelines } from '../../../core/shards/merge-shards.ts';

/** A JS histogram (µs) holding exactly these values. */
function histogramOf(values: number[]): hdr.Histogram {
  const h = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 120_000_000, numberOfSignificantValueDigits: 3, useWebAssembly: false });
  for (const v of values) h.recordValue(v);
  return h;
}
const encoded = (values: number[]): string => encodeHistogram(histogramOf(values));

function level(shard: number, connections: number, firstWorker: number, o: { latenciesUs: number[]; failures?: number; startMs: number; seconds: number[][] }): MeasuredLevel {
  const successes = o.latenciesUs.length;
  const failures = o.failures ?? 0;
  const errors = { ...emptyErrorCounts(), http_5xx: failures };
  return {
    status: 'measured',
    scenario: 's',
    concurrency: 3,
    requests: successes + failures,
    successes,
    failures,
    error_rate_pct: 0,
    throughput_rps: 0,
    latency_ms: { min: Math.min(...o.latenciesUs) / 1000, mean: 0, stddev: 0, p50: 0, p90: 0, p95: 0, p99: 0, p999: 0, max: Math.max(...o.latenciesUs) / 1000 },
    duration_s: 2,
    started_at_ms: o.startMs,
    warmup_requests: 1,
    errors,
    error_samples: failures ? [{ category: 'http_5xx', message: `HTTP 503 from shard ${shard}` }] : [],
    status_codes: { '200': successes, ...(failures ? { '503': failures } : {}) },
    histogram: encoded(o.latenciesUs),
    timeline: o.seconds.map((values, k) => ({ t_ms: o.startMs + k * 1000, requests: values.length, successes: values.length, failures: 0, p95_ms: 0, histogram: encoded(values) })),
    generator: { cpu_pct: 10 * shard, event_loop_delay_p99_ms: shard, client_bound: false },
    slo: { judged: false, pass: true, checks: [] },
    run_shard: { index: shard, count: 2, connections, first_worker: firstWorker, scheduled_at_ms: 1_000_000, started_at_ms: 1_000_000 + shard, late_ms: shard },
  };
}

function shardSummary(index: number, levels: LevelResult[], hash = 'abc123'): RunSummary {
  return {
    format: SUMMARY_FORMAT,
    version: SUMMARY_FORMAT_VERSION,
    run_label: `dist.shard-${index}-of-2`,
    started_at: new Date(1_000_000 + index).toISOString(),
    finished_at: new Date(1_010_000 + index).toISOString(),
    interrupted: false,
    report: { hardware_env: 'x', software_env: 'y', num_nodes: '1' },
    scenarios: [
      {
        name: 's',
        file: '',
        workload: { url: 'http://h/x', method: 'GET', header_names: [], payload_shape: null, concurrency_levels: [1, 3], duration_seconds: 2, warmup_seconds: 0, timeout_seconds: 10, challenge_id: 'c' },
        slo: { p95_ms: 2.5 },
        levels,
        workload_hash: 'w',
      },
    ],
    run_shard: { index, count: 2, run_label: 'dist', config_hash: hash, source: 'LOADBENCH_SHARD', start_at_ms: 1_000_000, gap_ms: 2000 },
  };
}

// Level 1 over 2 shards: 1 + 0, shard 2 records that it had no connection.
const noConnection = (index: number): LevelResult => ({
  status: 'skipped',
  scenario: 's',
  concurrency: 1,
  reason: 'no connection for this run shard: concurrency 1 over 2 shards is 1 + 0, none for run shard 2 of 2',
  run_shard: { index, count: 2, connections: 0, first_worker: 1 },
});
const level1 = (): MeasuredLevel => ({ ...level(1, 1, 0, { latenciesUs: [1500, 1500], startMs: 2_000_000, seconds: [[1500], [1500]] }), concurrency: 1 });
const SHARD1_US = [1000, 1000, 1000, 2000, 5000];
const SHARD2_US = [500, 3000, 3000, 4000];
const shard1 = (): RunSummary => shardSummary(1, [level1(), level(1, 2, 0, { latenciesUs: SHARD1_US, startMs: 1_000_000, seconds: [[1000, 1000, 1000], [2000, 5000]] })]);
const shard2 = (hash?: string): RunSummary => shardSummary(2, [noConnection(2), level(2, 1, 2, { latenciesUs: SHARD2_US, failures: 2, startMs: 1_000_004, seconds: [[500, 3000], [3000, 4000]] })], hash);

describe('mergeShardSummaries: exact merge', () => {
  const merged = mergeShardSummaries([
    { file: 'runs/dist.shard-2-of-2_summary.json', summary: shard2() },
    { file: 'runs/dist.shard-1-of-2_summary.json', summary: shard1() },
  ]);
  const c3 = merged.records[1]!.level as MeasuredLevel;

  it('adds counts, error categories and status codes, and keeps the run label', () => {
    expect(merged.runLabel).toBe('dist');
    expect(merged.records.map((r) => r.level.status)).toEqual(['measured', 'measured']);
    expect(c3).toMatchObject({ concurrency: 3, requests: 11, successes: 9, failures: 2, warmup_requests: 2, status_codes: { '200': 9, '503': 2 } });
    expect(c3.errors.http_5xx).toBe(2);
    expect(c3.error_rate_pct).toBeCloseTo((2 / 11) * 100, 10);
    expect(c3.error_samples).toEqual([{ category: 'http_5xx', message: 'HTTP 503 from shard 2' }]);
  });

  it('adds the HDR histograms: the percentiles are those of one histogram of every latency', () => {
    const all = histogramOf([...SHARD1_US, ...SHARD2_US]);
    expect(c3.latency_ms.p50).toBe(all.getValueAtPercentile(50) / 1000);
    expect(c3.latency_ms.p95).toBe(all.getValueAtPercentile(95) / 1000);
    // min and max are the shards' own, exact to the µs (a decoded histogram knows them to 3 digits only).
    expect(c3.latency_ms.max).toBe(5);
    expect(c3.latency_ms.min).toBe(0.5);
    // The 5th of the 9 sorted values (500 1000 1000 1000 [2000] 3000 3000 4000 5000), within the 3 significant digits.
    expect(c3.latency_ms.p50).toBeGreaterThanOrEqual(2);
    expect(c3.latency_ms.p50).toBeLessThan(2.002);
  });

  it('divides merged successes by the common window, reports the start skew, judges the SLO on the merge', () => {
    // Windows [1_000_000, 1_002_000] and [1_000_004, 1_002_004]: 2.004 s.
    expect(c3.duration_s).toBe(2.004);
    expect(c3.throughput_rps).toBeCloseTo(9 / 2.004, 10);
    expect(c3.started_at_ms).toBe(1_000_000);
    expect(c3.shard_merge).toMatchObject({ generators: 2, start_skew_ms: 4, shards: [{ index: 1, connections: 2, requests: 5 }, { index: 2, connections: 1, requests: 6 }] });
    expect(c3.slo).toMatchObject({ judged: true, pass: false, checks: [{ metric: 'p95_ms', limit: 2.5, pass: false }] });
    expect(merged.mergedFrom).toMatchObject({ shards: 2, config_hash: 'abc123', max_start_skew_ms: 4, max_late_ms: 2, shared_start: true });
  });

  it('adds timelines by wall-clock second, each second p95 from the added histograms', () => {
    expect(c3.timeline.map((p) => [p.t_ms, p.requests])).toEqual([
      [1_000_000, 5],
      [1_001_000, 4],
    ]);
    expect(c3.timeline[0]!.p95_ms).toBe(histogramOf([1000, 1000, 1000, 500, 3000]).getValueAtPercentile(95) / 1000);
    expect(c3.timeline[1]!.p95_ms).toBe(histogramOf([2000, 5000, 3000, 4000]).getValueAtPercentile(95) / 1000);
    expect(c3.timeline.every((p) => p.histogram === undefined)).toBe(true);
  });

  it('leaves out a shard whose part was no connection', () => {
    const c1 = merged.records[0]!.level as MeasuredLevel;
    expect(c1).toMatchObject({ concurrency: 1, requests: 2, shard_merge: { generators: 1, start_skew_ms: 0 } });
    expect(c1.shard_merge!.shards).toEqual([
      { index: 1, connections: 1, requests: 2, successes: 2, started_at_ms: 2_000_000, duration_s: 2, late_ms: 1 },
      { index: 2, connections: 0, requests: 0, successes: 0 },
    ]);
  });

  it('adds timeline points of shards whose seconds start a few ms apart into one second', () => {
    const points = mergeTimelines(
      [
        [{ t_ms: 10_000, requests: 1, successes: 1, failures: 0, p95_ms: 1, histogram: encoded([1000]) }],
        [{ t_ms: 10_007, requests: 2, successes: 2, failures: 0, p95_ms: 2, histogram: encoded([2000, 2000]) }],
      ],
      10_000,
    );
    expect(points).toEqual([{ t_ms: 10_000, requests: 3, successes: 3, failures: 0, p95_ms: 2 }]);
  });
});

describe('mergeShardSummaries: refusals', () => {
  const refusal = (inputs: { file: string; summary: RunSummary }[]): string => {
    try {
      mergeShardSummaries(inputs);
    } catch (error) {
      expect(error).toBeInstanceOf(ShardMergeError);
      expect((error as ShardMergeError).exitCode).toBe(2);
      return (error as Error).message;
    }
    throw new Error('merged');
  };
  const a = { file: 'a.json', summary: shard1() };
  const b = { file: 'b.json', summary: shard2() };

  it('a missing shard', () => {
    expect(refusal([a])).toBe('run shard 2 of 2 missing: expected one summary for each shard 1 to 2, found 1');
  });
  it('a duplicate shard', () => {
    expect(refusal([a, b, { file: 'c.json', summary: shard2() }])).toBe('run shard 2 of 2 is given twice (b.json and c.json): give each shard exactly once');
  });
  it('a different config', () => {
    expect(refusal([a, { file: 'b.json', summary: shard2('other') }])).toBe(
      'b.json: config hash other differs from abc123 of a.json: the shards ran different configs (workload, SLO, bench files); rerun them with the same config.yaml and bench files',
    );
  });
  it('another shard count, a summary that is no shard, a shard that stopped early', () => {
    const three = { file: 'c.json', summary: { ...shard2(), run_shard: { ...shard2().run_shard!, count: 3 } } };
    expect(refusal([a, three])).toBe('c.json: run shard 2 of 3, but a.json is run shard 1 of 2: every shard of one run has the same shard count');
    const { run_shard: _none, ...plain } = shard2();
    expect(refusal([a, { file: 'p.json', summary: plain }])).toMatch(/^p\.json: not a run shard's summary/);
    const early = shard2();
    early.scenarios[0]!.levels.pop();
    expect(refusal([a, { file: 'b.json', summary: early }])).toBe(
      'b.json: run shard 2 of 2 does not have the levels of a.json (no scenario "s" at concurrency 3): a shard stopped early or ran other bench files; rerun every shard',
    );
  });
});

describe('mergeShardSummaries: an open-loop level', () => {
  // 10 req/s over 2 shards, 2 s: shard 1 sends arrivals 0, 2, 4, ... and shard 2 arrivals 1, 3, 5, ...
  // of the one schedule; max_in_flight 5 is shared 3 + 2.
  const SERVICE1_US = [1000, 1200, 1400, 1600, 1800, 2000, 2200, 2400, 2600, 9000];
  const SERVICE2_US = [800, 900, 1000, 1100, 1200, 1300, 1400, 1500];
  const LAG1_US = [50, 60, 70, 80, 90, 100, 110, 120, 130, 4000];
  const LAG2_US = [40, 40, 40, 40, 40, 40, 40, 40, 300];
  const openLevel = (shard: 1 | 2): MeasuredLevel => {
    const service = shard === 1 ? SERVICE1_US : SERVICE2_US;
    const base = level(shard, 0, 0, { latenciesUs: service, startMs: shard === 1 ? 1_000_000 : 1_000_004, seconds: shard === 1 ? [service.slice(0, 5), service.slice(5)] : [service.slice(0, 4), service.slice(4)] });
    return {
      ...base,
      concurrency: 10,
      target_rate_rps: 10,
      timeline: base.timeline.map((p, k) => ({ ...p, sent: shard === 1 ? 5 : [5, 4][k]! })),
      run_shard: { ...base.run_shard!, connections: 0, first_worker: shard === 1 ? 0 : 3, max_in_flight: shard === 1 ? 3 : 2 },
      open_loop: {
        target_rate_rps: 10,
        achieved_rate_rps: shard === 1 ? 5 : 4.5,
        arrivals: 'poisson',
        seed: 7,
        partition: { index: shard, count: 2 },
        max_in_flight: shard === 1 ? 3 : 2,
        sent: shard === 1 ? 10 : 9,
        dropped: shard === 1 ? 0 : 1,
        scheduled: 10,
        max_in_flight_seen: 2,
        in_flight_at_end: shard === 1 ? 0 : 1,
        service_time_ms: { min: 0, mean: 0, stddev: 0, p50: 0, p90: 0, p95: 0, p99: 0, p999: 0, max: 0 },
        schedule_lag_ms: { min: 0, mean: 0, stddev: 0, p50: 0, p90: 0, p95: 0, p99: 0, p999: 0, max: 0 },
        service_histogram: encoded(service),
        schedule_lag_histogram: encoded(shard === 1 ? LAG1_US : LAG2_US),
      },
    };
  };
  const openShard = (index: 1 | 2): RunSummary => {
    const s = shardSummary(index, [openLevel(index)]);
    const { concurrency_levels: _c, ...workload } = s.scenarios[0]!.workload;
    s.scenarios[0]!.workload = { ...workload, concurrency_levels: [], arrival_rates: [10], arrivals: 'poisson', seed: 7, max_in_flight: 5 };
    s.scenarios[0]!.slo = { min_achieved_rate_pct: 95 };
    return s;
  };
  const merged = mergeShardSummaries([
    { file: 'b.json', summary: openShard(2) },
    { file: 'a.json', summary: openShard(1) },
  ]);
  const l = merged.records[0]!.level as MeasuredLevel;
  const o = l.open_loop!;

  it('keeps the level keyed by its rate, and adds the counts of the interleaved arrivals', () => {
    expect(l).toMatchObject({ status: 'measured', concurrency: 10, target_rate_rps: 10, requests: 18, successes: 18 });
    expect(o).toMatchObject({ target_rate_rps: 10, arrivals: 'poisson', seed: 7, max_in_flight: 5, sent: 19, dropped: 1, scheduled: 20, max_in_flight_seen: 4, in_flight_at_end: 1 });
    // One run of the whole schedule: no partition left.
    expect(o.partition).toBeUndefined();
  });

  it('divides the merged arrivals sent by the common window', () => {
    // Windows [1_000_000, 1_002_000] and [1_000_004, 1_002_004]: 2.004 s.
    expect(l.duration_s).toBe(2.004);
    expect(o.achieved_rate_rps).toBeCloseTo(19 / 2.004, 10);
    // min_achieved_rate_pct judges sent / scheduled of the merge: 19 / 20 = 95 %.
    expect(l.slo.checks).toEqual([{ metric: 'min_achieved_rate_pct', limit: 95, value: 95, pass: true }]);
  });

  it('adds the service-time and schedule-lag histograms exactly', () => {
    const service = histogramOf([...SERVICE1_US, ...SERVICE2_US]);
    const lag = histogramOf([...LAG1_US, ...LAG2_US]);
    for (const p of [50, 90, 99] as const) {
      expect(o.service_time_ms[`p${p}`], `service p${p}`).toBe(service.getValueAtPercentile(p) / 1000);
      expect(o.schedule_lag_ms[`p${p}`], `lag p${p}`).toBe(lag.getValueAtPercentile(p) / 1000);
    }
    // Reference values, sorted by hand: 18 service times, the 9th (p50) is 1400 µs; 19 lags, the 19th (max) 4000 µs.
    expect(o.service_time_ms.p50).toBeCloseTo(1.4, 2);
    expect(o.schedule_lag_ms.max).toBeCloseTo(4, 2);
    expect(decodeHistogram(o.service_histogram).totalCount).toBe(18);
    expect(decodeHistogram(o.schedule_lag_histogram).totalCount).toBe(19);
  });

  it('adds the arrivals sent in each second of the timeline', () => {
    expect(l.timeline.map((p) => [p.t_ms, p.requests, p.sent])).toEqual([
      [1_000_000, 9, 10],
      [1_001_000, 9, 9],
    ]);
  });
});
