import type { RunSummary } from '../../plugin/types.ts';

/** Columns of `<run_label>_summary_clean.csv`: units in the names, booleans as 0/1. */
export const CLEAN_COLUMNS = [
  'scenario',
  'concurrency',
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
  'slo_judged',
  'slo_pass',
  'client_bound',
  'partial',
] as const;

/** Fixed decimals; a value that is not a number (a level without any success) is written 0, never NaN or empty. */
const fixed = (x: number, digits: number): string => (Number.isFinite(x) ? x : 0).toFixed(digits);
const ms = (x: number): string => fixed(x, 3);
const rate = (x: number): string => fixed(x, 2);
const bit = (b: boolean): string => (b ? '1' : '0');

function csvText(text: string): string {
  return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/**
 * The clean summary: measured levels only, sorted by scenario then concurrency, fixed precision
 * (3 decimals for ms and seconds, 2 for rates and percentages), every cell numeric but the name. Pure.
 */
export function formatCleanSummaryCsv(summary: RunSummary): string {
  const rows = summary.scenarios
    .flatMap((s) => s.levels.filter((l) => !l.skipped).map((l) => ({ name: s.name, l })))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : a.l.concurrency - b.l.concurrency))
    .map(({ name, l }) =>
      [
        csvText(name),
        String(l.concurrency),
        String(l.requests),
        String(l.successes),
        String(l.failures),
        rate(l.error_rate_pct),
        rate(l.throughput_rps),
        ms(l.latency_ms.p50),
        ms(l.latency_ms.p90),
        ms(l.latency_ms.p95),
        ms(l.latency_ms.p99),
        ms(l.latency_ms.mean),
        ms(l.latency_ms.max),
        fixed(l.duration_s, 3),
        bit(l.slo.judged),
        bit(l.slo.pass),
        bit(l.generator.client_bound),
        bit(l.partial),
      ].join(','),
    );
  return `${[CLEAN_COLUMNS.join(','), ...rows].join('\n')}\n`;
}
