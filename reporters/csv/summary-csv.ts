import { ERROR_CATEGORIES, isMeasured, type LevelResult, type MeasuredLevel, type RunSummary } from '../../core/model/summary.ts';
import { availableResources } from '../../core/model/resources.ts';
import { columns, formatCsv } from './columns.ts';

type Row = { scenario: string; level: LevelResult };

/** A measured figure; a skipped level has none, so its cell stays empty rather than a zero that was never measured. */
const figure =
  <T>(pick: (l: MeasuredLevel) => T) =>
  ({ level }: Row): T | undefined =>
    isMeasured(level) ? pick(level) : undefined;

/** Columns of `runs/<run_label>_summary.csv`, in order: one row per scenario, level and repetition, full precision. */
export const SUMMARY_COLUMNS = columns<Row>([
  ['scenario', (r) => r.scenario],
  // An open-loop level has no concurrency: its key is target_rate_rps (the JSON's `concurrency` holds the same number).
  ['concurrency', (r) => (r.level.target_rate_rps === undefined ? r.level.concurrency : undefined)],
  ['repetition', (r) => r.level.repetition ?? 1],
  ['requests', figure((l) => l.requests)],
  ['successes', figure((l) => l.successes)],
  ['failures', figure((l) => l.failures)],
  ['error_rate_pct', figure((l) => l.error_rate_pct)],
  ['throughput_rps', figure((l) => l.throughput_rps)],
  ['latency_p50_ms', figure((l) => l.latency_ms.p50)],
  ['latency_p90_ms', figure((l) => l.latency_ms.p90)],
  ['latency_p95_ms', figure((l) => l.latency_ms.p95)],
  ['latency_p99_ms', figure((l) => l.latency_ms.p99)],
  ['latency_mean_ms', figure((l) => l.latency_ms.mean)],
  ['latency_max_ms', figure((l) => l.latency_ms.max)],
  ['duration_s', figure((l) => l.duration_s)],
  ...ERROR_CATEGORIES.map((c) => [`errors_${c}`, figure((l) => l.errors[c])] as const),
  ['slo_judged', ({ level }) => isMeasured(level) && level.slo.judged],
  ['slo_pass', ({ level }) => !isMeasured(level) || level.slo.pass],
  ['slo_failed_metrics', figure((l) => l.slo.checks.filter((c) => !c.pass).map((c) => c.metric).join(' '))],
  ['client_bound', figure((l) => l.generator.client_bound)],
  ['generator_cpu_pct', figure((l) => l.generator.cpu_pct)],
  ['partial', ({ level }) => level.status === 'partial'],
  ['skipped', ({ level }) => level.status === 'skipped'],
  ['status', ({ level }) => level.status],
  // Resources of the system under test (issue 16): empty where not sampled (not Linux, an older summary).
  ['target_cpu_cores', figure((l) => availableResources(l.resources)?.target?.mean_cores)],
  ['target_rss_mb', figure((l) => availableResources(l.resources)?.target?.max_rss_mb)],
  ['generator_cpu_cores', figure((l) => availableResources(l.resources)?.generator?.mean_cores)],
  ['machine_cpu_pct', figure((l) => availableResources(l.resources)?.machine?.mean_cpu_pct)],
  // Open loop (arrival_rates): empty for closed levels. latency_* above are then timed from each request's due time.
  ['target_rate_rps', ({ level }) => level.target_rate_rps],
  ['achieved_rate_rps', figure((l) => l.open_loop?.achieved_rate_rps)],
  ['dropped', figure((l) => l.open_loop?.dropped)],
  ['service_time_p50_ms', figure((l) => l.open_loop?.service_time_ms.p50)],
  ['service_time_p95_ms', figure((l) => l.open_loop?.service_time_ms.p95)],
  ['service_time_p99_ms', figure((l) => l.open_loop?.service_time_ms.p99)],
  ['schedule_lag_p99_ms', figure((l) => l.open_loop?.schedule_lag_ms.p99)],
  ['max_in_flight_seen', figure((l) => l.open_loop?.max_in_flight_seen)],
]);

/** The summary CSV: one row per scenario and level, full precision. Pure. */
export function formatSummaryCsv(summary: RunSummary): string {
  const rows = summary.scenarios.flatMap((s) => s.levels.map((level) => ({ scenario: s.name, level })));
  return formatCsv(SUMMARY_COLUMNS, rows);
}
