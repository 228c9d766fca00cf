import type { BaselineCheck, BaselineLevelVerdict, BaselineReport } from '../../core/model/summary.ts';

const signed = (x: number, digits: number): string => `${x >= 0 ? '+' : ''}${x.toFixed(digits)}`;

/**
 * The console view of the gate: one row per judged or skipped level with baseline -> new value
 * and the change of each metric, an exceeded tolerance marked "!". Pure; text without colours.
 */
export function formatBaselineTable(report: BaselineReport): string {
  const cell = (v: BaselineLevelVerdict, metric: BaselineCheck['metric'], digits: number, unit: string): string => {
    const x = v.checks.find((c) => c.metric === metric);
    if (!x) return '-';
    return `${x.baseline.toFixed(digits)} -> ${x.value.toFixed(digits)} (${signed(x.change, 1)}${unit})${x.pass ? '' : ' !'}`;
  };
  const header = ['scenario', 'conc', 'baseline', 'p95 ms', 'req/s', 'errors %'];
  const rows = report.verdicts.map((v) => [
    v.scenario,
    String(v.concurrency),
    (v.status === 'pass' ? 'PASS' : v.status === 'fail' ? 'REGRESSED' : v.status === 'skipped' ? 'not judged' : 'not in baseline') +
      (v.client_bound ? ' (client-bound)' : ''),
    cell(v, 'p95_ms', 2, ' %'),
    cell(v, 'throughput_rps', 1, ' %'),
    cell(v, 'error_rate_pct', 2, ' pts'),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]): string =>
    cells
      .map((c, i) => (i === 1 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  const t = report.tolerances;
  return [
    `baseline comparison with ${report.file} (medians of repetitions; allowed: p95 +${t.max_p95_increase_pct} %, ` +
      `throughput -${t.max_throughput_drop_pct} %, errors +${t.max_error_rate_increase_pct} pts; "!" = over)`,
    line(header),
    line(widths.map((w) => '-'.repeat(w))),
    ...rows.map(line),
  ].join('\n');
}

