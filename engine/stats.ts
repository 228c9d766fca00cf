import type { ErrorCategory, ErrorCounts, LatencyMs } from './types.ts';
import { ERROR_CATEGORIES } from './types.ts';

/** The subset of an HDR histogram the statistics need (values in microseconds). */
export interface HistogramLike {
  readonly totalCount: number;
  readonly minNonZeroValue: number;
  readonly maxValue: number;
  readonly mean: number;
  readonly stdDeviation: number;
  getValueAtPercentile(percentile: number): number;
}

const round3 = (x: number): number => Math.round(x * 1000) / 1000;

/** Latency figures in ms from a histogram of microseconds; all zero for an empty histogram. */
export function latencyFromHistogram(h: HistogramLike): LatencyMs {
  if (h.totalCount === 0) {
    return { min: 0, mean: 0, stddev: 0, p50: 0, p90: 0, p95: 0, p99: 0, p999: 0, max: 0 };
  }
  const ms = (us: number): number => round3(us / 1000);
  return {
    min: ms(h.minNonZeroValue),
    mean: ms(h.mean),
    stddev: ms(h.stdDeviation),
    p50: ms(h.getValueAtPercentile(50)),
    p90: ms(h.getValueAtPercentile(90)),
    p95: ms(h.getValueAtPercentile(95)),
    p99: ms(h.getValueAtPercentile(99)),
    p999: ms(h.getValueAtPercentile(99.9)),
    max: ms(h.maxValue),
  };
}

/** Successful requests per second of measured wall time (0 when no time elapsed). */
export function throughputRps(successes: number, durationS: number): number {
  return durationS > 0 ? successes / durationS : 0;
}

/** Failed (or timed-out) requests as a percentage of all counted requests (0 when none). */
export function errorRatePct(failures: number, requests: number): number {
  return requests > 0 ? (failures / requests) * 100 : 0;
}

/** A zeroed error-count record with every category present. */
export function emptyErrorCounts(): ErrorCounts {
  return Object.fromEntries(ERROR_CATEGORIES.map((c) => [c, 0])) as Record<ErrorCategory, number>;
}

