/**
 * The verdict of an A/B run: every scenario and level both sides measured, judged metric by
 * metric with the paired rule of core/gates/noise-verdict.ts (`judgePairs`: the k-th base and
 * head repetitions ran back to back; the median change over those pairs worse than the tolerance,
 * and the head worse in every pair) and the tolerances of `baseline:` (with `ab:` and a
 * scenario's `baseline` option over them). Pure.
 */
import { judgePairs, repetitionNoise, type ChangeUnit, type NoiseOutcome, type WorseDirection } from '../gates/noise-verdict.ts';
import { isMeasured, levelName, type BaselineTolerances, type MeasuredLevel, type RunSummary } from '../model/summary.ts';
import { median } from '../model/stats.ts';

/** The metrics the A/B gate judges, as in the baseline gate. */
export const AB_METRICS = ['throughput_rps', 'p95_ms', 'error_rate_pct'] as const;
export type AbMetric = (typeof AB_METRICS)[number];

/** One metric of one level. Changes and noise in `unit`: % of the base (or of each side's median), or percentage points. */
export interface AbCheck {
  metric: AbMetric;
  /** Medians of the repetitions. */
  base: number;
  head: number;
  /** Median of the pairs' changes (head against base, back to back), + = higher: what the tolerance applies to. */
  change: number;
  /** Each pair's change, + = higher, in the order the pairs ran. */
  pair_changes: number[];
  /** Largest distance of a pair's change from their median: the noise of `change`. */
  pair_noise: number;
  /** Largest distance of a repetition from its side's median: the "±" of each side, drift of the machine included. */
  base_noise: number;
  head_noise: number;
  regressed: boolean;
  /** Why: `regressed`; `within_noise` (the median change is beyond the tolerance, but some pair saw no slowdown); `within_tolerance`. */
  outcome: NoiseOutcome;
  tolerance: number;
  /** `%` for relative metrics, `pp` (percentage points) for the error rate. */
  unit: '%' | 'pp';
}

/** One scenario and level. */
export interface AbLevelVerdict {
  scenario: string;
  /** The level's key: its concurrency, or an open-loop level's offered rate (req/s). */
  concurrency: number;
  /** Set when the level is open-loop: its offered rate, req/s (the same number as `concurrency`). */
  target_rate_rps?: number;
  status: 'pass' | 'fail' | 'not_judged';
  /** Why a level was not judged. */
  reason?: string;
  /** Complete repetitions judged per side. */
  repetitions: { base: number; head: number };
  checks: AbCheck[];
}

const value = (metric: AbMetric, l: MeasuredLevel): number =>
  metric === 'throughput_rps' ? l.throughput_rps : metric === 'p95_ms' ? l.latency_ms.p95 : l.error_rate_pct;

function rule(metric: AbMetric, t: BaselineTolerances): { worse: WorseDirection; unit: ChangeUnit; tolerance: number } {
  if (metric === 'throughput_rps') return { worse: 'lower', unit: 'pct', tolerance: t.max_throughput_drop_pct };
  if (metric === 'p95_ms') return { worse: 'higher', unit: 'pct', tolerance: t.max_p95_increase_pct };
  return { worse: 'higher', unit: 'points', tolerance: t.max_error_rate_increase_pct };
}

/** Complete (not partial) measured repetitions of one scenario and level. */
function complete(summary: RunSummary, scenario: string, concurrency: number): MeasuredLevel[] {
  const s = summary.scenarios.find((x) => x.name === scenario);
  return (s?.levels ?? []).filter((l): l is MeasuredLevel => isMeasured(l) && l.status === 'measured' && l.concurrency === concurrency);
}

/**
 * The k-th base and k-th head repetitions, for every k both sides completed: the ABBA schedule
 * runs them back to back. A repetition whose partner did not complete is left out.
 */
function pairUp(base: readonly MeasuredLevel[], head: readonly MeasuredLevel[]): [MeasuredLevel, MeasuredLevel][] {
  const rep = (l: MeasuredLevel): number => l.repetition ?? 1;
  return base.flatMap((b): [MeasuredLevel, MeasuredLevel][] => {
    const h = head.find((x) => rep(x) === rep(b));
    return h ? [[b, h]] : [];
  });
}

/**
 * Judges every scenario and level of the head run against the base run. A level is not judged
 * when a side has no complete repetition (cut short, failed to run), when fewer than
 * `min_requests` requests were counted (median of the repetitions), when the base had no success,
 * or when the scenario opts out (`baseline: false`). Pure.
 */
export function judgeAb(base: RunSummary, head: RunSummary, tolerances: BaselineTolerances): AbLevelVerdict[] {
  const out: AbLevelVerdict[] = [];
  for (const s of head.scenarios) {
    const override = s.baseline_override;
    const levels = [...new Set(s.levels.map((l) => l.concurrency))];
    for (const concurrency of levels) {
      const b = complete(base, s.name, concurrency);
      const h = complete(head, s.name, concurrency);
      const repetitions = { base: b.length, head: h.length };
      // Every repetition (skipped ones too) carries the rate of an open-loop level.
      const rate = s.levels.find((l) => l.concurrency === concurrency && l.target_rate_rps !== undefined)?.target_rate_rps;
      const key = { scenario: s.name, concurrency, ...(rate !== undefined ? { target_rate_rps: rate } : {}) };
      const skip = (reason: string): void => void out.push({ ...key, status: 'not_judged', reason, repetitions, checks: [] });
      if (override === false) {
        skip('the scenario sets baseline: false');
        continue;
      }
      const t = { ...tolerances, ...override };
      if (b.length === 0 || h.length === 0) {
        skip(`no complete repetition on the ${b.length === 0 ? 'base' : 'head'} side (interrupted or failed to run)`);
        continue;
      }
      const pairs = pairUp(b, h);
      if (pairs.length === 0) {
        skip('no repetition completed on both sides: nothing ran back to back to compare');
        continue;
      }
      const fewest = Math.min(median(b.map((l) => l.requests)), median(h.map((l) => l.requests)));
      if (fewest < t.min_requests) {
        skip(`only ${fewest} requests per repetition (min_requests ${t.min_requests}): too few to judge; run the level longer`);
        continue;
      }
      if (median(b.map((l) => l.throughput_rps)) <= 0) {
        skip('the base has no successful request at this level: nothing to compare with');
        continue;
      }
      const checks = AB_METRICS.map((metric): AbCheck => {
        const r = rule(metric, t);
        const j = judgePairs({ pairs: pairs.map(([x, y]) => [value(metric, x), value(metric, y)] as const), ...r });
        const bv = b.map((l) => value(metric, l));
        const hv = h.map((l) => value(metric, l));
        return {
          metric,
          base: median(bv),
          head: median(hv),
          change: j.change,
          pair_changes: j.pair_changes,
          pair_noise: j.pair_noise,
          base_noise: repetitionNoise(bv, r.unit),
          head_noise: repetitionNoise(hv, r.unit),
          regressed: j.regressed,
          outcome: j.outcome,
          tolerance: r.tolerance,
          unit: r.unit === 'points' ? 'pp' : '%',
        };
      });
      out.push({ ...key, status: checks.some((c) => c.regressed) ? 'fail' : 'pass', repetitions, checks });
    }
  }
  return out;
}

const METRIC_TEXT: Record<AbMetric, { name: string; unit: string; digits: number }> = {
  throughput_rps: { name: 'throughput', unit: 'req/s', digits: 1 },
  p95_ms: { name: 'p95', unit: 'ms', digits: 2 },
  error_rate_pct: { name: 'error rate', unit: '%', digits: 2 },
};

const signed = (x: number, digits: number): string => (Number.isFinite(x) ? `${x >= 0 ? '+' : ''}${x.toFixed(digits)}` : x > 0 ? '+inf' : '-inf');

const VERDICT_TEXT: Record<NoiseOutcome, (tolerance: string, pairs: number) => string> = {
  regressed: (t, n) => (n > 1 ? `REGRESSED: beyond the tolerance ${t} and worse in all ${n} pairs` : `REGRESSED: beyond the tolerance ${t}`),
  within_noise: (t) => `within the noise: beyond the tolerance ${t} at the median, but not worse in every pair`,
  within_tolerance: (t) => `within the tolerance ${t}`,
};

/**
 * One line of a check: `submit, concurrency 4: throughput base 250.0 req/s, head 190.0 req/s,
 * paired change -24.0 % (pairs -22.1, -24.0, -25.3; noise ±1.9 %), sides ±3.0 % base / ±2.0 % head
 * (3/3 repetitions); REGRESSED: ...` (`submit, 200 req/s: ...` for an open-loop level). Pure.
 */
export function describeAbCheck(v: AbLevelVerdict, c: AbCheck): string {
  const m = METRIC_TEXT[c.metric];
  const unit = c.unit === '%' ? ' %' : ' pp';
  const pairs = c.pair_changes.length > 1 ? ` (pairs ${c.pair_changes.map((x) => signed(x, 1)).join(', ')}; noise ±${c.pair_noise.toFixed(1)}${unit})` : '';
  const sides = `sides ±${c.base_noise.toFixed(1)}${unit} base / ±${c.head_noise.toFixed(1)}${unit} head (${v.repetitions.base}/${v.repetitions.head} repetitions)`;
  return (
    `${v.scenario}, ${levelName(v)}: ${m.name} base ${c.base.toFixed(m.digits)} ${m.unit}, head ${c.head.toFixed(m.digits)} ${m.unit}, ` +
    `${c.pair_changes.length > 1 ? 'paired change' : 'change'} ${signed(c.change, 1)}${unit}${pairs}, ${sides}; ${VERDICT_TEXT[c.outcome](`${c.tolerance}${unit}`, c.pair_changes.length)}`
  );
}

/** One line per regressed level and metric. Pure. */
export function describeAbRegressions(verdicts: readonly AbLevelVerdict[]): string[] {
  return verdicts.flatMap((v) => v.checks.filter((c) => c.regressed).map((c) => `A/B regression: ${describeAbCheck(v, c)}`));
}
