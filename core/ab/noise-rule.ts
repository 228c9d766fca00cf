/**
 * The per-metric rule the A/B gate judges with, behind a small interface so that the shared
 * noise-aware rule of the baseline gate (core/gates/noise-verdict.ts) can replace it. The rule:
 * a metric regresses only when the head's median is worse than the base's WORST repetition by
 * more than the tolerance, so a change must clear both the tolerance and the noise measured in
 * the same run; the noise reported is the spread (max - min) of each side's repetitions.
 */
import { median } from '../model/stats.ts';

/** Which way is worse, and how the tolerance is read. */
export interface MetricRule {
  /** `higher`: larger values are worse (latency, errors); `lower`: smaller values are worse (throughput). */
  worse: 'higher' | 'lower';
  /** `relative`: tolerance and change in % of the base; `absolute`: in the metric's own unit (percentage points of error rate). */
  scale: 'relative' | 'absolute';
  tolerance: number;
}

/** The judgement of one metric at one level. */
export interface MetricJudgement {
  base: number;
  head: number;
  /** Head median against base median: % (relative) or units (absolute); positive = larger. */
  change: number;
  /** Spread of each side's repetitions (max - min): % of its median (relative) or units (absolute). */
  base_noise: number;
  head_noise: number;
  /** How far the head's median is beyond the base's worst repetition, in the rule's scale (positive = worse). */
  beyond_worst: number;
  regressed: boolean;
}

const spread = (values: readonly number[], scale: MetricRule['scale']): number => {
  if (values.length < 2) return 0;
  const range = Math.max(...values) - Math.min(...values);
  if (scale === 'absolute') return range;
  const m = median(values);
  return m > 0 ? (range / m) * 100 : 0;
};

/** Judges one metric from the repetitions of both sides. Pure. */
export function judgeMetric(base: readonly number[], head: readonly number[], rule: MetricRule): MetricJudgement {
  if (base.length === 0 || head.length === 0) throw new RangeError('judgeMetric needs at least one repetition per side');
  const b = median(base);
  const h = median(head);
  const worst = rule.worse === 'higher' ? Math.max(...base) : Math.min(...base);
  const diff = (from: number, to: number): number => {
    if (rule.scale === 'absolute') return to - from;
    return from > 0 ? ((to - from) / from) * 100 : to > from ? Infinity : to < from ? -Infinity : 0;
  };
  const beyond = rule.worse === 'higher' ? diff(worst, h) : -diff(worst, h);
  return {
    base: b,
    head: h,
    change: diff(b, h),
    base_noise: spread(base, rule.scale),
    head_noise: spread(head, rule.scale),
    beyond_worst: beyond,
    regressed: beyond > rule.tolerance,
  };
}
