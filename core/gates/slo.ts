import type { LevelMeasurement } from '../../engine/types.ts';
import type { SloCheck, SloMetric, SloSpec, SloVerdict } from '../model/summary.ts';

// The wording of a broken SLO is the summary model's, shared by every output that reports it.
export { describeSloFailures } from '../model/verdict-lines.ts';

type Measured = Pick<LevelMeasurement, 'concurrency' | 'latency_ms' | 'error_rate_pct' | 'throughput_rps' | 'requests' | 'successes'> & {
  open_loop?: Pick<NonNullable<LevelMeasurement['open_loop']>, 'target_rate_rps' | 'achieved_rate_rps' | 'dropped' | 'sent' | 'scheduled'>;
};

/** The default `min_achieved_rate_pct` of an open-loop scenario: below 95 % of its target, a level did not get the load it was meant to. */
export const DEFAULT_MIN_ACHIEVED_RATE_PCT = 95;

const round3 = (x: number): number => Math.round(x * 1000) / 1000;

const UPPER_LIMITS: [SloMetric, (l: Measured) => number][] = [
  ['p50_ms', (l) => l.latency_ms.p50],
  ['p95_ms', (l) => l.latency_ms.p95],
  ['p99_ms', (l) => l.latency_ms.p99],
  ['error_rate_pct', (l) => l.error_rate_pct],
];

/**
 * Judges one level against the SLO. Latency and error-rate limits are upper bounds,
 * `min_throughput_rps` a lower bound. Levels above `up_to_concurrency` are not judged (an open-loop
 * level's `concurrency` is its rate). An open-loop level is also judged on its achieved rate
 * (`min_achieved_rate_pct`, a lower bound in % of the target) and its dropped arrivals
 * (`max_dropped_pct`, in % of its arrivals); closed levels have neither.
 * Latency is measured over successful requests, so a level without one (no request counted, or
 * every request failed) fails every latency limit: no answer is not a fast answer.
 */
export function evaluateSlo(level: Measured, slo: SloSpec): SloVerdict {
  if (slo.up_to_concurrency !== undefined && level.concurrency > slo.up_to_concurrency) {
    return { judged: false, pass: true, checks: [] };
  }
  const checks: SloCheck[] = [];
  for (const [metric, read] of UPPER_LIMITS) {
    const limit = slo[metric];
    if (limit === undefined) continue;
    const value = read(level);
    const noData = level.successes === 0 && metric !== 'error_rate_pct';
    checks.push(noData ? { metric, limit, value, pass: false, no_data: true } : { metric, limit, value, pass: value <= limit });
  }
  if (slo.min_throughput_rps !== undefined) {
    const value = level.throughput_rps;
    checks.push({ metric: 'min_throughput_rps', limit: slo.min_throughput_rps, value, pass: value >= slo.min_throughput_rps });
  }
  // Open loop only: whether the level got its load, and how much of it was dropped.
  const open = level.open_loop;
  if (open && slo.min_achieved_rate_pct !== undefined) {
    // Sent / due by the schedule: a Poisson level's count varies around rate x time by itself.
    const value = open.scheduled > 0 ? round3((open.sent / open.scheduled) * 100) : 100;
    checks.push({ metric: 'min_achieved_rate_pct', limit: slo.min_achieved_rate_pct, value, pass: value >= slo.min_achieved_rate_pct });
  }
  if (open && slo.max_dropped_pct !== undefined) {
    const value = level.requests > 0 ? round3((open.dropped / level.requests) * 100) : 0;
    checks.push({ metric: 'max_dropped_pct', limit: slo.max_dropped_pct, value, pass: value <= slo.max_dropped_pct });
  }
  return { judged: checks.length > 0, pass: checks.every((c) => c.pass), checks };
}
