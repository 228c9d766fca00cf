import * as hdr from 'hdr-histogram-js';
import { describe, expect, it } from 'vitest';
import { errorRatePct, latencyFromHistogram, throughputRps } from '../../engine/stats.ts';
import { littlesLawConcurrency } from '../../reporters/report/findings.ts';
import { describeSloFailures, evaluateSlo } from '../../core/gates/slo.ts';
import { HttpParseError, RequestTimeoutError, SocketClosedError, classifyError, classifyStatus } from '../../engine/errors.ts';

describe('latencyFromHistogram', () => {
  it('gives the percentiles of 1..1000 ms within HDR precision', () => {
    const h = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 120_000_000, numberOfSignificantValueDigits: 3 });
    for (let ms = 1; ms <= 1000; ms++) h.recordValue(ms * 1000);
    const l = latencyFromHistogram(h);
    expect(l.p50).toBeCloseTo(500, 0);
    expect(l.p90).toBeCloseTo(900, 0);
    expect(l.p95).toBeCloseTo(950, 0);
    expect(l.p99).toBeCloseTo(990, 0);
    expect(l.mean).toBeCloseTo(500.5, 0);
    expect(l.min).toBeCloseTo(1, 2);
    expect(l.max).toBeCloseTo(1000, -1);
  });

  it('is all zeros for an empty histogram', () => {
    const h = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 1_000_000, numberOfSignificantValueDigits: 3 });
    expect(Object.values(latencyFromHistogram(h)).every((v) => v === 0)).toBe(true);
  });
});

describe('throughput and error rate', () => {
  it('divides successes by wall time', () => {
    expect(throughputRps(5000, 2.5)).toBe(2000);
    expect(throughputRps(10, 0)).toBe(0);
  });
  it('gives failures as a percentage of requests', () => {
    expect(errorRatePct(10, 100)).toBe(10);
    expect(errorRatePct(1, 3)).toBeCloseTo(33.333, 3);
    expect(errorRatePct(0, 0)).toBe(0);
  });
  it("applies Little's law", () => {
    expect(littlesLawConcurrency(800, 10)).toBeCloseTo(8, 10);
  });
});

const level = (over: Partial<Parameters<typeof evaluateSlo>[0]> = {}) => ({
  concurrency: 8,
  requests: 1000,
  successes: 995,
  error_rate_pct: 0.5,
  throughput_rps: 1200,
  latency_ms: { min: 1, mean: 20, stddev: 2, p50: 18, p90: 30, p95: 40, p99: 80, p999: 90, max: 100 },
  ...over,
});

describe('evaluateSlo', () => {
  it('passes when every limit holds', () => {
    const v = evaluateSlo(level(), { p95_ms: 40, error_rate_pct: 1, min_throughput_rps: 1000 });
    expect(v).toEqual({
      judged: true,
      pass: true,
      checks: [
        { metric: 'p95_ms', limit: 40, value: 40, pass: true },
        { metric: 'error_rate_pct', limit: 1, value: 0.5, pass: true },
        { metric: 'min_throughput_rps', limit: 1000, value: 1200, pass: true },
      ],
    });
  });

  it('fails on each broken limit and names it', () => {
    const v = evaluateSlo(level(), { p50_ms: 10, p99_ms: 100, min_throughput_rps: 2000 });
    expect(v.pass).toBe(false);
    expect(v.checks.filter((c) => !c.pass).map((c) => c.metric)).toEqual(['p50_ms', 'min_throughput_rps']);
    expect(describeSloFailures('submit', 8, v)).toEqual([
      'SLO failed: scenario "submit" at concurrency 8: p50_ms = 18 ms, limit <= 10 ms',
      'SLO failed: scenario "submit" at concurrency 8: min_throughput_rps = 1200 req/s, limit >= 2000 req/s',
    ]);
  });

  it('does not judge levels above up_to_concurrency', () => {
    expect(evaluateSlo(level({ concurrency: 16 }), { p95_ms: 1, up_to_concurrency: 8 })).toEqual({
      judged: false,
      pass: true,
      checks: [],
    });
    expect(evaluateSlo(level({ concurrency: 8 }), { p95_ms: 1, up_to_concurrency: 8 }).pass).toBe(false);
  });

  it('fails latency limits when nothing was measured', () => {
    const v = evaluateSlo(level({ requests: 0, successes: 0, latency_ms: { ...level().latency_ms, p95: 0 } }), { p95_ms: 100 });
    expect(v.pass).toBe(false);
  });

  it('fails latency limits when every request failed (latency counts successes only, so p95 reads 0)', () => {
    const allFailed = level({ successes: 0, error_rate_pct: 100, latency_ms: { ...level().latency_ms, p50: 0, p95: 0, p99: 0 } });
    const v = evaluateSlo(allFailed, { p95_ms: 500 });
    expect(v).toEqual({ judged: true, pass: false, checks: [{ metric: 'p95_ms', limit: 500, value: 0, pass: false, no_data: true }] });
    expect(describeSloFailures('submit', 2, v)).toEqual([
      'SLO failed: scenario "submit" at concurrency 2: p95_ms: no successful request to measure, limit <= 500 ms',
    ]);
  });
});

describe('error classification', () => {
  it('maps error codes to categories', () => {
    expect(classifyError(Object.assign(new Error('x'), { code: 'ECONNREFUSED' }))).toBe('connect_refused');
    expect(classifyError(new SocketClosedError())).toBe('connection_reset');
    expect(classifyError(new RequestTimeoutError(100))).toBe('timeout');
    expect(classifyError(new HttpParseError('HPE_INVALID_STATUS', 'invalid status code'))).toBe('invalid_response');
    expect(classifyError(new Error('x', { cause: Object.assign(new Error('y'), { code: 'ECONNRESET' }) }))).toBe(
      'connection_reset',
    );
    expect(classifyError(new Error('mystery'))).toBe('other');
  });
  it('maps statuses to categories', () => {
    expect(classifyStatus(204)).toBeUndefined();
    expect(classifyStatus(404)).toBe('http_4xx');
    expect(classifyStatus(503)).toBe('http_5xx');
    expect(classifyStatus(302)).toBe('other');
    expect(classifyStatus(700)).toBe('invalid_response');
  });
});
