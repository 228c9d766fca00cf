import { measuredLevels, type MeasuredLevel, type RunSummary } from '../../core/model/summary.ts';
import { columns, formatCsv } from './columns.ts';

type Row = { scenario: string; l: MeasuredLevel };

/** Fixed decimals; a value that is not a number (a level without any success) is written 0, never NaN or empty. */
const fixed = (x: number, digits: number): string => (Number.isFinite(x) ? x : 0).toFixed(digits);
const ms = (x: number): string => fixed(x, 3);
const rate = (x: number): string => fixed(x, 2);

/** Columns of `<run_label>_summary_clean.csv`: units in the names, fixed precision, booleans as 0/1. */
export const CLEAN_COLUMNS = columns<Row>([
  ['scenario', (r) => r.scenario],
  // 0 for an open-loop level, whose key is target_rate_rps.
  ['concurrency', ({ l }) => (l.target_rate_rps === undefined ? l.concurrency : 0)],
  ['requests', ({ l }) => l.requests],
  ['successes', ({ l }) => l.successes],
  ['failures', ({ l }) => l.failures],
  ['error_rate_pct', ({ l }) => rate(l.error_rate_pct)],
  ['throughput_rps', ({ l }) => rate(l.throughput_rps)],
  ['latency_p50_ms', ({ l }) => ms(l.latency_ms.p50)],
  ['latency_p90_ms', ({ l }) => ms(l.latency_ms.p90)],
  ['latency_p95_ms', ({ l }) => ms(l.latency_ms.p95)],
  ['latency_p99_ms', ({ l }) => ms(l.latency_ms.p99)],
  ['latency_mean_ms', ({ l }) => ms(l.latency_ms.mean)],
  ['latency_max_ms', ({ l }) => ms(l.latency_ms.max)],
  ['duration_s', ({ l }) => fixed(l.duration_s, 3)],
  ['slo_judged', ({ l }) => l.slo.judged],
  ['slo_pass', ({ l }) => l.slo.pass],
  ['client_bound', ({ l }) => l.generator.client_bound],
  ['partial', ({ l }) => l.status === 'partial'],
]);

/** Columns added when the run has open-loop levels (`arrival_rates`); 0 for its closed levels. */
export const CLEAN_OPEN_LOOP_COLUMNS = columns<Row>([
  ['target_rate_rps', ({ l }) => rate(l.target_rate_rps ?? 0)],
  ['achieved_rate_rps', ({ l }) => rate(l.open_loop?.achieved_rate_rps ?? 0)],
  ['dropped', ({ l }) => l.open_loop?.dropped ?? 0],
  ['service_time_p50_ms', ({ l }) => ms(l.open_loop?.service_time_ms.p50 ?? 0)],
  ['service_time_p95_ms', ({ l }) => ms(l.open_loop?.service_time_ms.p95 ?? 0)],
  ['service_time_p99_ms', ({ l }) => ms(l.open_loop?.service_time_ms.p99 ?? 0)],
  ['schedule_lag_p99_ms', ({ l }) => ms(l.open_loop?.schedule_lag_ms.p99 ?? 0)],
  ['max_in_flight_seen', ({ l }) => l.open_loop?.max_in_flight_seen ?? 0],
]);

/**
 * The clean summary: measured levels only, sorted by scenario then concurrency, fixed precision
 * (3 decimals for ms and seconds, 2 for rates and percentages), every cell numeric but the name;
 * the open-loop columns follow when the run has open-loop levels. Pure.
 */
export function formatCleanSummaryCsv(summary: RunSummary): string {
  const rows = summary.scenarios
    .flatMap((s) => measuredLevels(s).map((l) => ({ scenario: s.name, l })))
    .sort((a, b) => (a.scenario < b.scenario ? -1 : a.scenario > b.scenario ? 1 : a.l.concurrency - b.l.concurrency));
  const open = rows.some((r) => r.l.open_loop !== undefined);
  return formatCsv(open ? [...CLEAN_COLUMNS, ...CLEAN_OPEN_LOOP_COLUMNS] : CLEAN_COLUMNS, rows, 'bits');
}
