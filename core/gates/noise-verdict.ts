/**
 * The noise-aware regression rules (issue 13, part 2). `judgeRepetitions`, for any two sets of
 * repetitions of one metric: the baseline's and this run's (the head).
 *
 * Rule: the head regresses when its median is worse than the base's WORST repetition by more
 * than the tolerance. Against the base's median, that is a change larger than the tolerance plus
 * the spread the base showed in its own repetitions, so a level whose repetitions wander by
 * ±10 % needs more than tolerance + 10 % to fail, while a steady level fails at the tolerance.
 * The head's median (not its worst repetition) is judged, so one disturbed head repetition does
 * not fail the gate either. With one repetition per side it is the plain median rule.
 *
 * Why repetitions and not the per-second samples: the seconds of one level share that moment's
 * machine state (a neighbour's burst, a GC, CPU frequency), so they are not independent draws; a
 * rank test over them calls every small drift between two runs "significant". Repetitions are
 * separate level runs, the unit that varies the way a rerun does. See README "Noise-aware verdict".
 *
 * `judgePairs` below is the rule of `loadbench ab`, whose repetitions come in pairs run back to
 * back: the median change over the pairs, and the head worse in every pair.
 *
 * Pure functions, no I/O; the API (names and fields) is stable: `loadbench ab` imports it.
 */
import { median } from '../model/stats.ts';

/** Which way a metric gets worse: `higher` for latency and error rate, `lower` for throughput. */
export type WorseDirection = 'higher' | 'lower';

/** How a change is measured: `pct` in percent of the base value, `points` as a plain difference (error rate in percentage points). */
export type ChangeUnit = 'pct' | 'points';

/** One metric of one level, both sides' repetitions. */
export interface RepetitionComparison {
  /** One value per repetition of the base side (the baseline, or the base build of an A/B run); at least one. */
  base: readonly number[];
  /** One value per repetition of the head side (this run, or the head build); at least one. */
  head: readonly number[];
  /** Which way is worse. */
  worse: WorseDirection;
  /**
   * The tolerance in `unit` (0 or more): the head's median must be worse than the base's worst
   * repetition by more than this to be a regression.
   */
  tolerance: number;
  /** `pct` (default) or `points`. */
  unit?: ChangeUnit;
}

/** Why a comparison passed or failed. */
export type NoiseOutcome =
  /** Head median worse than the base's worst repetition by more than the tolerance. */
  | 'regressed'
  /** The change from the base median is within the tolerance (or an improvement). */
  | 'within_tolerance'
  /** The change from the base median exceeds the tolerance, but not beyond the base's worst repetition: the base's own spread covers it. */
  | 'within_noise';

/** The verdict of one metric. Every change and noise figure is in the comparison's `unit`. */
export interface NoiseVerdict {
  unit: ChangeUnit;
  base_median: number;
  head_median: number;
  /** The base repetition furthest in the worse direction (the highest latency, the lowest throughput). */
  base_worst: number;
  /** Head median against base median, signed as the metric moves (+ = higher), e.g. -20 for a 20 % throughput drop. */
  change: number;
  /** Head median against base median, + = worse (a drop in throughput is positive). */
  worsening: number;
  /** Head median against the base's worst repetition, + = worse: what the rule compares with the tolerance. */
  beyond_worst: number;
  /** Largest distance of a base repetition from the base median (in % of that median for `pct`). */
  base_noise: number;
  /** Largest distance of a head repetition from the head median (in % of that median for `pct`). */
  head_noise: number;
  /** The larger of the two: the "±" reported beside the change. */
  noise: number;
  repetitions: { base: number; head: number };
  tolerance: number;
  regressed: boolean;
  outcome: NoiseOutcome;
}

function check(values: readonly number[], side: string): void {
  if (values.length === 0) throw new RangeError(`judgeRepetitions: ${side} has no repetition; expected at least one value`);
  const bad = values.find((v) => !Number.isFinite(v));
  if (bad !== undefined) throw new RangeError(`judgeRepetitions: ${side} holds ${bad}; expected finite numbers`);
}

/** Change from `from` to `to` in `unit`, + when `to` is higher. Percent from 0 is +Infinity (or 0 from 0 to 0). */
export function changeIn(unit: ChangeUnit, from: number, to: number): number {
  if (unit === 'points') return to - from;
  if (from !== 0) return ((to - from) / Math.abs(from)) * 100;
  return to > 0 ? Infinity : to < 0 ? -Infinity : 0;
}

/**
 * The spread of one side's repetitions: the largest distance of a repetition from their median,
 * in `unit` (percent of the median; when the median is 0, of the largest absolute value). 0 for
 * a single repetition: its noise is not measured.
 */
export function repetitionNoise(values: readonly number[], unit: ChangeUnit = 'pct'): number {
  check(values, 'the repetitions');
  const m = median(values);
  const dev = Math.max(...values.map((v) => Math.abs(v - m)));
  if (unit === 'points') return dev;
  const scale = m !== 0 ? Math.abs(m) : Math.max(...values.map(Math.abs));
  return scale === 0 ? 0 : (dev / scale) * 100;
}

/**
 * Judges one metric: regressed when the head's median is worse than the base's worst repetition
 * by more than `tolerance`. Also returns the change between the medians and the noise of both
 * sides, to print beside it. Pure.
 * @throws RangeError when a side is empty or holds a non-finite number, or the tolerance is negative
 */
export function judgeRepetitions(input: RepetitionComparison): NoiseVerdict {
  const unit = input.unit ?? 'pct';
  check(input.base, 'base');
  check(input.head, 'head');
  if (!(input.tolerance >= 0)) throw new RangeError(`judgeRepetitions: tolerance ${input.tolerance}; expected 0 or more`);
  const sign = input.worse === 'higher' ? 1 : -1;
  const baseMedian = median(input.base);
  const headMedian = median(input.head);
  const baseWorst = input.worse === 'higher' ? Math.max(...input.base) : Math.min(...input.base);
  const change = changeIn(unit, baseMedian, headMedian);
  const worsening = sign * change;
  const beyondWorst = sign * changeIn(unit, baseWorst, headMedian);
  const baseNoise = repetitionNoise(input.base, unit);
  const headNoise = repetitionNoise(input.head, unit);
  const regressed = beyondWorst > input.tolerance;
  return {
    unit,
    base_median: baseMedian,
    head_median: headMedian,
    base_worst: baseWorst,
    change,
    worsening,
    beyond_worst: beyondWorst,
    base_noise: baseNoise,
    head_noise: headNoise,
    noise: Math.max(baseNoise, headNoise),
    repetitions: { base: input.base.length, head: input.head.length },
    tolerance: input.tolerance,
    regressed,
    outcome: regressed ? 'regressed' : worsening > input.tolerance ? 'within_noise' : 'within_tolerance',
  };
}

/**
 * One metric of one level of an A/B run, as pairs: the k-th base repetition and the k-th head
 * repetition, which ran back to back (the ABBA order of core/ab/schedule.ts puts them next to
 * each other), so that both saw the machine of the same moment.
 */
export interface PairedComparison {
  /** `[base, head]` per pair, in the order they ran; at least one. */
  pairs: readonly (readonly [base: number, head: number])[];
  worse: WorseDirection;
  /** The tolerance in `unit` (0 or more): the median change over the pairs must be worse than this. */
  tolerance: number;
  /** `pct` (default) or `points`. */
  unit?: ChangeUnit;
}

/** The verdict of one metric over pairs. Changes and noise in the comparison's `unit`. */
export interface PairedVerdict {
  unit: ChangeUnit;
  /** Head against base within each pair, signed as the metric moves (+ = higher), in the order the pairs ran. */
  pair_changes: number[];
  /** Median of `pair_changes`: the change the verdict is about. */
  change: number;
  /** `change`, + = worse. */
  worsening: number;
  /** The pair in which the head looked least worse (+ = worse): at or below 0, some pair saw no slowdown at all. */
  least_worsening: number;
  /** Largest distance of a pair's change from their median: the noise of the paired change. */
  pair_noise: number;
  tolerance: number;
  regressed: boolean;
  outcome: NoiseOutcome;
}

/**
 * The A/B rule: a metric regresses when the median of the pairs' changes is worse than the
 * tolerance AND the head was worse in every pair. Why pairs and not the two sides' medians: the
 * machine's speed drifts during a run (where it was chosen, the reference gateway's throughput
 * at concurrency 1 rose through every level's repetitions, and the rule of `judgeRepetitions`
 * measured from the first and lowest), but two runs a few seconds apart see nearly the same
 * machine, so the change within a pair carries the slowdown and little of the drift. Why every pair: with 3 pairs, one pair that saw
 * no slowdown says the median's change may be noise; a real slowdown shows in each of them.
 * With one pair it is the plain comparison. See README "The A/B rule". Pure.
 * @throws RangeError when there is no pair, a value is not finite, or the tolerance is negative
 */
export function judgePairs(input: PairedComparison): PairedVerdict {
  const unit = input.unit ?? 'pct';
  if (input.pairs.length === 0) throw new RangeError('judgePairs: no pair; expected at least one [base, head] pair');
  check(input.pairs.map((p) => p[0]), 'base');
  check(input.pairs.map((p) => p[1]), 'head');
  if (!(input.tolerance >= 0)) throw new RangeError(`judgePairs: tolerance ${input.tolerance}; expected 0 or more`);
  const sign = input.worse === 'higher' ? 1 : -1;
  const changes = input.pairs.map(([b, h]) => changeIn(unit, b, h));
  const change = median(changes);
  const worsening = sign * change;
  const leastWorsening = Math.min(...changes.map((c) => sign * c));
  const pairNoise = Math.max(...changes.map((c) => Math.abs(c - change)));
  const regressed = worsening > input.tolerance && leastWorsening > 0;
  return {
    unit,
    pair_changes: changes,
    change,
    worsening,
    least_worsening: leastWorsening,
    pair_noise: Number.isFinite(pairNoise) ? pairNoise : 0,
    tolerance: input.tolerance,
    regressed,
    outcome: regressed ? 'regressed' : worsening > input.tolerance ? 'within_noise' : 'within_tolerance',
  };
}
