import type { LevelMeasurement } from '../../engine/types.ts';
import type { SloCheck, SloMetric, SloSpec, SloVerdict } from '../model/summary.ts';

// The wording of a broken SLO is the summary model's, shared by every output that reports it.
export { describeSloFailures } from '../model/verdict-lines.ts';

type Measured = Pick<LevelMeasurement, 'concurrency' | 'latency_ms' | 'error_rate_pct' | 'throughput_rps' | 'requests' | 'successes'>;

const UPPER_LIMITS: [SloMetric, (l: Measured) => number][] = [
  ['p50_ms', (l) => l.latency_ms.p50],
  ['p95_ms', (l) => l.latency_ms.p95],
  ['p99_ms', (l) => l.latency_ms.p99],
  ['error_rate_pct', (l) => l.error_rate_pct],
];

/**
 * Judges one level against the SLO. Latency and error-rate limits are upper bounds,
 * `min_throughput_rps` a lower bound. Levels above `up_to_concurrency` are not judged.
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
  return { judged: checks.length > 0, pass: checks.every((c) => c.pass), checks };
}
