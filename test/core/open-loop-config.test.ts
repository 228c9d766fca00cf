import { describe, expect, it } from 'vitest';
import { validateConfig } from '../../core/config/load-config.ts';
import { ConfigError } from '../../core/errors.ts';
import { workloadHash } from '../../core/gates/fingerprint.ts';
import { evaluateSlo } from '../../core/gates/slo.ts';
import { describeSloFailures } from '../../core/model/verdict-lines.ts';
import { levelRuns, resolveScenario, scenarioSnapshot } from '../../core/scenario/resolve.ts';

const target = { url: 'http://127.0.0.1:8080/submit', method: 'POST' };
const config = (workload: Record<string, unknown>, slo: Record<string, unknown> = {}) =>
  validateConfig({ target, workload: { duration_seconds: 1, ...workload }, slo }, 'config.yaml', {});
const problems = (workload: Record<string, unknown>): string => {
  try {
    config(workload);
    return '';
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
};

describe('open-loop configuration', () => {
  it('takes exactly one of concurrency_levels and arrival_rates, saying how to fix it', () => {
    expect(problems({})).toMatch(/neither concurrency_levels nor arrival_rates is set: expected exactly one of them/);
    expect(problems({ concurrency_levels: [1], arrival_rates: [10] })).toMatch(/both concurrency_levels and arrival_rates are set/);
    expect(problems({ arrival_rates: [10, 10] })).toMatch(/rate 10 listed more than once/);
    expect(problems({ arrival_rates: [2.5] })).toMatch(/arrival_rates.0: found number 2.5, expected int/);
    expect(problems({ arrival_rates: [10], arrivals: 'bursty' })).toMatch(/arrivals/);
    expect(problems({ arrival_rates: [10], max_in_flight: 0 })).toMatch(/max_in_flight/);
    const c = config({ arrival_rates: [50, 100] });
    expect(c.workload.arrivals).toBe('constant');
    expect(c.workload.max_in_flight).toBe(1000);
  });

  it('resolves an open-loop scenario: rates as levels, seed drawn once and recorded, the 95 % achieved-rate SLO by default', () => {
    const s = resolveScenario('open', {}, config({ arrival_rates: [50, 100], arrivals: 'poisson' }, { p95_ms: 200 }));
    expect(s.levels).toEqual([50, 100]);
    expect(s.open?.arrivals).toBe('poisson');
    expect(Number.isInteger(s.open?.seed)).toBe(true);
    expect(s.slo).toEqual({ min_achieved_rate_pct: 95, p95_ms: 200 });
    expect(levelRuns(s)).toEqual([
      { concurrency: 50, rateRps: 50 },
      { concurrency: 100, rateRps: 100 },
    ]);
    const snap = scenarioSnapshot(s, 'benches/x.bench.ts');
    expect(snap.workload).toMatchObject({ concurrency_levels: [], arrival_rates: [50, 100], arrivals: 'poisson', seed: s.open!.seed, max_in_flight: 1000 });
    // The seed is drawn anew each run: it is not part of what identifies the workload.
    const other = resolveScenario('open', {}, config({ arrival_rates: [50, 100], arrivals: 'poisson' }, { p95_ms: 200 }));
    expect(workloadHash(scenarioSnapshot(other, 'benches/x.bench.ts'), undefined)).toBe(workloadHash(snap, undefined));
  });

  it('lets a scenario switch between closed and open loop, but not ask for both', () => {
    const closed = config({ concurrency_levels: [1, 2] });
    const open = resolveScenario('o', { arrival_rates: [30], seed: 5, max_in_flight: 7 }, closed);
    expect(open.open).toEqual({ arrivals: 'constant', seed: 5, maxInFlight: 7 });
    expect(resolveScenario('c', { concurrency_levels: [4] }, config({ arrival_rates: [30] })).open).toBeUndefined();
    expect(() => resolveScenario('x', { concurrency_levels: [4], arrival_rates: [30] }, closed)).toThrow(/both set: expected exactly one of them/);
    expect(resolveScenario('off', { arrival_rates: [30], slo: false }, closed).slo).toEqual({});
  });
});

describe('open-loop SLOs', () => {
  const level = (achieved: number, dropped: number, requests = 1000) => ({
    concurrency: 100,
    latency_ms: { min: 1, mean: 2, stddev: 1, p50: 2, p90: 3, p95: 4, p99: 5, p999: 6, max: 7 },
    error_rate_pct: (dropped / requests) * 100,
    throughput_rps: achieved,
    requests,
    successes: requests - dropped,
    // 10 s at 100 req/s: 1,000 arrivals due.
    open_loop: { target_rate_rps: 100, achieved_rate_rps: achieved, dropped, sent: achieved * 10, scheduled: 1000 },
  });

  it('fails a level whose achieved rate is below min_achieved_rate_pct, or that dropped more than max_dropped_pct', () => {
    const slo = { min_achieved_rate_pct: 95, max_dropped_pct: 1 };
    expect(evaluateSlo(level(99, 0), slo).pass).toBe(true);
    const slow = evaluateSlo(level(90, 0), slo);
    expect(slow.pass).toBe(false);
    expect(slow.checks.find((c) => c.metric === 'min_achieved_rate_pct')).toMatchObject({ value: 90, limit: 95, pass: false });
    const dropping = evaluateSlo(level(99, 20), slo);
    expect(dropping.checks.find((c) => c.metric === 'max_dropped_pct')).toMatchObject({ value: 2, pass: false });
    expect(describeSloFailures('s', { concurrency: 100, target_rate_rps: 100 }, slow)).toEqual([
      'SLO failed: scenario "s" at 100 req/s: min_achieved_rate_pct = 90 % of the target rate, limit >= 95 % of the target rate',
    ]);
    // A closed level has no rate to judge.
    const { open_loop: _o, ...closed } = level(10, 0);
    expect(evaluateSlo(closed, slo)).toEqual({ judged: false, pass: true, checks: [] });
  });
});
