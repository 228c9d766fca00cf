/**
 * The lines that state a level's verdict, as the console prints them and the summary's
 * `outcome.failures` stores them: every output that tells a failure (console, JUnit, GitHub
 * annotations) words it with these. Pure functions of the summary model.
 */
import { levelName, type BaselineCheck, type BaselineLevelVerdict, type BaselineReport, type LevelRef, type SloMetric, type SloVerdict } from './summary.ts';

const UNITS: Record<SloMetric, string> = {
  p50_ms: 'ms',
  p95_ms: 'ms',
  p99_ms: 'ms',
  error_rate_pct: '%',
  min_throughput_rps: 'req/s',
  min_achieved_rate_pct: '% of the target rate',
  max_dropped_pct: '% of arrivals',
};

/** The lower bounds among the SLO metrics (the others are upper bounds). */
const LOWER_BOUNDS: ReadonlySet<SloMetric> = new Set(['min_throughput_rps', 'min_achieved_rate_pct']);

const round = (x: number): number => Math.round(x * 1000) / 1000;

/** One line per broken threshold: scenario, level, metric, measured value and limit. */
export function describeSloFailures(scenario: string, level: LevelRef, verdict: SloVerdict): string[] {
  const at = levelName(level);
  return verdict.checks
    .filter((c) => !c.pass)
    .map((c) => {
      const unit = UNITS[c.metric];
      const op = LOWER_BOUNDS.has(c.metric) ? '>=' : '<=';
      if (c.no_data) {
        return `SLO failed: scenario "${scenario}" at ${at}: ${c.metric}: no successful request to measure, limit ${op} ${c.limit} ${unit}`;
      }
      return `SLO failed: scenario "${scenario}" at ${at}: ${c.metric} = ${round(c.value)} ${unit}, limit ${op} ${c.limit} ${unit}`;
    });
}

/**
 * A figure as a line shows it: at most `digits` decimals, trailing zeros dropped (700, 441.5,
 * 6.08). The summary JSON keeps three decimals; a line meant to be read needs fewer.
 */
const shown = (x: number, digits: number): string => String(Number(x.toFixed(digits)));
const signed = (x: number, digits = 1): string => `${x >= 0 ? '+' : ''}${shown(x, digits)}`;
/** Decimals per unit: ms to 0.01 ms, req/s to 0.1 req/s, percentages to 0.1 %, error rates (points) to 0.01. */
const DIGITS = { ms: 2, rps: 1, pct: 1, points: 2 } as const;

/**
 * The noise beside a change, when both sides had repetitions (issue 13): how far the repetitions
 * wandered, and the change from the baseline's worst repetition that the rule compares with the limit.
 */
function noiseNote(x: BaselineCheck, unit: string, worstUnit: string, changeDigits: number, worstDigits: number): string {
  if (x.noise === undefined || x.repetitions === undefined || (x.repetitions.baseline < 2 && x.repetitions.run < 2)) return '';
  const worst = `the baseline's worst repetition (${x.baseline_worst === undefined ? '?' : shown(x.baseline_worst, worstDigits)}${worstUnit})`;
  const beyond =
    x.beyond_worst === undefined ? '' : x.beyond_worst > 0 ? `; ${shown(x.beyond_worst, changeDigits)}${unit} worse than ${worst}` : `; no worse than ${worst}`;
  return `, noise ±${shown(x.noise, changeDigits)}${unit}${beyond}`;
}

const DESCRIBE: Record<BaselineCheck['metric'], (x: BaselineCheck) => string> = {
  p95_ms: (x) =>
    `p95 ${shown(x.baseline, DIGITS.ms)} ms -> ${shown(x.value, DIGITS.ms)} ms (${signed(x.change)} %${noiseNote(x, ' %', ' ms', DIGITS.pct, DIGITS.ms)}, allowed +${x.limit} %)`,
  throughput_rps: (x) =>
    `throughput ${shown(x.baseline, DIGITS.rps)} -> ${shown(x.value, DIGITS.rps)} req/s (${signed(x.change)} %${noiseNote(x, ' %', ' req/s', DIGITS.pct, DIGITS.rps)}, allowed -${x.limit} %)`,
  error_rate_pct: (x) =>
    `error rate ${shown(x.baseline, DIGITS.points)} % -> ${shown(x.value, DIGITS.points)} % (${signed(x.change, DIGITS.points)} points${noiseNote(x, ' points', ' %', DIGITS.points, DIGITS.points)}, allowed +${x.limit})`,
};

const CLIENT_BOUND_SIDE = { run: 'this run', baseline: 'the baseline', both: 'this run and the baseline' } as const;

function machineNote(v: BaselineLevelVerdict): string {
  const d = v.disturbed_left_out;
  const left = d
    ? ` [repetitions left out because other processes took CPU during them: ${[d.run ? `${d.run} of this run` : '', d.baseline ? `${d.baseline} of the baseline` : ''].filter(Boolean).join(', ')}]`
    : '';
  return left + (v.client_bound
    ? ` [the load generator was saturated or delayed in ${CLIENT_BOUND_SIDE[v.client_bound]} at this level: the machine may be the cause; rerun on a quiet machine to confirm]`
    : '');
}

/** One line per exceeded tolerance: scenario, level, metric, baseline value, new value, change. */
export function describeBaselineFailures(verdicts: BaselineLevelVerdict[]): string[] {
  return verdicts.flatMap((v) =>
    v.checks
      .filter((x) => !x.pass)
      .map((x) => `Baseline regression: scenario "${v.scenario}" at ${levelName(v)}: ${x.metric}: ${DESCRIBE[x.metric](x)}${machineNote(v)}`),
  );
}

/** One line per level that could not be judged. */
export function describeBaselineWarnings(verdicts: BaselineLevelVerdict[]): string[] {
  return verdicts
    .filter((v) => v.status === 'skipped' || v.status === 'not_in_baseline')
    .map((v) => `Baseline check skipped: scenario "${v.scenario}" at ${levelName(v)}: ${v.reason}`);
}

/**
 * Issue 13: one line per reason a baseline (or one of its scenarios) was not judged, saying how
 * to record a baseline on this machine. Empty when it was judged in full.
 */
export function describeBaselineNotJudged(report: Pick<BaselineReport, 'file' | 'applicability'>, runLabel: string): string[] {
  const a = report.applicability;
  if (!a) return [];
  const record = `record one on this machine: npx loadbench baseline ${runLabel} --out ${report.file}`;
  return a.reasons.map((r) =>
    r.scenario === undefined
      ? `Baseline not judged: ${report.file}: ${r.reason}; ${record}`
      : `Baseline not judged: scenario "${r.scenario}" against ${report.file}: ${r.reason}; ${record}`,
  );
}

/** The `reason` of a skipped level that could not run (an unexpected error), before the error's message. */
export const FAILED_TO_RUN = 'failed to run';

/** The failure line of a level that could not run. */
export function describeLevelError(scenario: string, level: LevelRef, error: string): string {
  return `Level failed to run: scenario "${scenario}" at ${levelName(level)}: ${error}`;
}
