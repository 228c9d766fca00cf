import type { BaselineCheck, BaselineLevelVerdict, BaselineReport } from '../../core/model/summary.ts';

const signed = (x: number, digits: number): string => `${x >= 0 ? '+' : ''}${x.toFixed(digits)}`;

/**
 * The console view of the gate: one row per judged or skipped level with baseline -> new value
 * and the change of each metric, an exceeded tolerance marked "!". Pure; text without colours.
 */
export function formatBaselineTable(report: BaselineReport): string {
  // Issue 13: a baseline that does not apply to this machine or workload says so instead of a table.
  const a = report.applicability;
  if (a && !a.judged) return `baseline comparison with ${report.file}: not judged (why, and how to record a baseline here: below)`;
  const notJudged = (a?.reasons ?? []).map((r) => `scenario "${r.scenario}" not judged: ${r.reason}`);
  const noisy = report.verdicts.some((v) => v.checks.some((c) => c.repetitions && (c.repetitions.baseline > 1 || c.repetitions.run > 1)));
  const cell = (v: BaselineLevelVerdict, metric: BaselineCheck['metric'], digits: number, unit: string): string => {
    const x = v.checks.find((c) => c.metric === metric);
    if (!x) return '-';
    // Issue 13: the noise of the repetitions beside the change, when there were repetitions.
    const noise = x.noise !== undefined && x.repetitions && (x.repetitions.baseline > 1 || x.repetitions.run > 1) ? ` ±${x.noise.toFixed(1)}` : '';
    return `${x.baseline.toFixed(digits)} -> ${x.value.toFixed(digits)} (${signed(x.change, 1)}${unit}${noise})${x.pass ? '' : ' !'}`;
  };
  const header = ['scenario', 'conc', 'baseline', 'p95 ms', 'req/s', 'errors %'];
  const rows = report.verdicts.map((v) => [
    v.scenario,
    String(v.concurrency),
    (v.status === 'pass' ? 'PASS' : v.status === 'fail' ? 'REGRESSED' : v.status === 'skipped' ? 'not judged' : 'not in baseline') +
      (v.client_bound ? ' (client-bound)' : '') +
      (v.disturbed_left_out ? ` (${v.disturbed_left_out.run + v.disturbed_left_out.baseline} disturbed rep. left out)` : ''),
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
  const c = a?.calibration_change_pct;
  const calibration = c !== undefined ? `; this machine's calibration score is ${Math.abs(c).toFixed(1)} % ${c > 0 ? 'slower' : 'faster'} than the baseline's` : '';
  return [
    `baseline comparison with ${report.file} (${noisy ? 'medians of repetitions; ' : ''}allowed: p95 +${t.max_p95_increase_pct} %, ` +
      `throughput -${t.max_throughput_drop_pct} %, errors +${t.max_error_rate_increase_pct} pts` +
      (noisy ? ` beyond the baseline's worst repetition; ± = noise of the repetitions` : '') +
      `; "!" = over${calibration})`,
    ...(rows.length ? [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)] : []),
    ...notJudged,
  ].join('\n');
}

