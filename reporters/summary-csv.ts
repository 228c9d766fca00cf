import { stringify } from 'csv-stringify/sync';
import type { RunSummary } from '../plugin/types.ts';
import { ERROR_CATEGORIES } from '../plugin/types.ts';

/** Columns of `runs/<run_label>_summary.csv`, in order. */
export const SUMMARY_COLUMNS = [
  'scenario',
  'concurrency',
  'repetition',
  'requests',
  'successes',
  'failures',
  'error_rate_pct',
  'throughput_rps',
  'latency_p50_ms',
  'latency_p90_ms',
  'latency_p95_ms',
  'latency_p99_ms',
  'latency_mean_ms',
  'latency_max_ms',
  'duration_s',
  ...ERROR_CATEGORIES.map((c) => `errors_${c}`),
  'slo_judged',
  'slo_pass',
  'slo_failed_metrics',
  'client_bound',
  'generator_cpu_pct',
  'partial',
  'skipped',
] as const;

/** The summary CSV: one row per scenario and level, full precision. Pure. */
export function formatSummaryCsv(summary: RunSummary): string {
  const rows = summary.scenarios.flatMap((s) =>
    s.levels.map((l) => [
      s.name,
      l.concurrency,
      l.repetition ?? 1,
      l.requests,
      l.successes,
      l.failures,
      l.error_rate_pct,
      l.throughput_rps,
      l.latency_ms.p50,
      l.latency_ms.p90,
      l.latency_ms.p95,
      l.latency_ms.p99,
      l.latency_ms.mean,
      l.latency_ms.max,
      l.duration_s,
      ...ERROR_CATEGORIES.map((c) => l.errors[c]),
      l.slo.judged,
      l.slo.pass,
      l.slo.checks
        .filter((c) => !c.pass)
        .map((c) => c.metric)
        .join(' '),
      l.generator.client_bound,
      l.generator.cpu_pct,
      l.partial,
      l.skipped,
    ]),
  );
  return stringify([[...SUMMARY_COLUMNS], ...rows], { cast: { boolean: (b) => (b ? 'true' : 'false') } });
}
