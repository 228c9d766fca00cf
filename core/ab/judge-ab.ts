/**
 * The verdict of an A/B run: every scenario and level both sides measured, judged metric by
 * metric with the noise-aware rule of the baseline gate (core/gates/noise-verdict.ts: the head's
 * median worse than the base's worst repetition by more than the tolerance) and the tolerances of
 * `baseline:` (with `ab:` and a scenario's `baseline` option over them). Pure.
 */
import { judgeRepetitions, type ChangeUnit, type WorseDirection } from '../gates/noise-verdict.ts';
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
  /** Head median against base median, + = higher. */
  change: number;
  /** Largest distance of a repetition from its side's median: the "±" of each side. */
  base_noise: number;
  head_noise: number;
  /** Head median against the base's worst repetition, + = worse: what the tolerance applies to. */
  beyond_worst: number;
  regressed: boolean;
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
        const j = judgeRepetitions({ base: b.map((l) => value(metric, l)), head: h.map((l) => value(metric, l)), ...r });
        return {
          metric,
          base: j.base_median,
          head: j.head_median,
          change: j.change,
          base_noise: j.base_noise,
          head_noise: j.head_noise,
          beyond_worst: j.beyond_worst,
          regressed: j.regressed,
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

/** One line of a check: `submit, concurrency 4: throughput base 250.0 req/s, head 190.0 req/s, change -24.0 %, noise ±3 % base / ±2 % head` (`submit, 200 req/s: ...` for an open-loop level). Pure. */
export function describeAbCheck(v: AbLevelVerdict, c: AbCheck): string {
  const m = METRIC_TEXT[c.metric];
  const unit = c.unit === '%' ? ' %' : ' pp';
  const noise = `noise ±${c.base_noise.toFixed(1)}${unit} base / ±${c.head_noise.toFixed(1)}${unit} head (${v.repetitions.base}/${v.repetitions.head} repetitions)`;
  return (
    `${v.scenario}, ${levelName(v)}: ${m.name} base ${c.base.toFixed(m.digits)} ${m.unit}, head ${c.head.toFixed(m.digits)} ${m.unit}, ` +
    `change ${signed(c.change, 1)}${unit}, ${noise}; ${c.regressed ? 'REGRESSED' : 'within'}: ${signed(c.beyond_worst, 1)}${unit} beyond the base's worst repetition, tolerance ${c.tolerance}${unit}`
  );
}

/** One line per regressed level and metric. Pure. */
export function describeAbRegressions(verdicts: readonly AbLevelVerdict[]): string[] {
  return verdicts.flatMap((v) => v.checks.filter((c) => c.regressed).map((c) => `A/B regression: ${describeAbCheck(v, c)}`));
}
