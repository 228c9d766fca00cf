import { describe, expect, it } from 'vitest';
import { changeIn, judgePairs, judgeRepetitions, repetitionNoise } from '../../../core/gates/noise-verdict.ts';

describe('repetitionNoise', () => {
  it('is the largest distance from the median, in % of the median or in points', () => {
    expect(repetitionNoise([90, 100, 120])).toBe(20); // 120 is 20 from the median 100
    expect(repetitionNoise([95, 100, 102])).toBe(5);
    expect(repetitionNoise([0.5, 1, 3], 'points')).toBe(2);
    expect(repetitionNoise([42])).toBe(0); // one repetition: not measured
    expect(repetitionNoise([0, 0, 0])).toBe(0);
    expect(repetitionNoise([0, 0, 4])).toBe(100); // median 0: in % of the largest value
  });
});

describe('changeIn', () => {
  it('is signed as the metric moves', () => {
    expect(changeIn('pct', 200, 150)).toBe(-25);
    expect(changeIn('pct', 10, 12.5)).toBe(25);
    expect(changeIn('points', 0.5, 2)).toBe(1.5);
    expect(changeIn('pct', 0, 3)).toBe(Infinity);
    expect(changeIn('pct', 0, 0)).toBe(0);
  });
});

describe('judgeRepetitions: the head median against the base worst repetition', () => {
  it('regresses when the head median is worse than the worst base repetition by more than the tolerance', () => {
    // p95: base 10, 10.5, 11 ms (worst 11); head 13, 13.5, 14 ms: median 13.5 is +22.727 % beyond 11.
    const v = judgeRepetitions({ base: [10.5, 10, 11], head: [14, 13, 13.5], worse: 'higher', tolerance: 15 });
    expect(v).toMatchObject({ unit: 'pct', base_median: 10.5, head_median: 13.5, base_worst: 11, regressed: true, outcome: 'regressed' });
    expect(v.change).toBeCloseTo(28.5714, 3); // 13.5 / 10.5
    expect(v.worsening).toBeCloseTo(28.5714, 3);
    expect(v.beyond_worst).toBeCloseTo(22.7273, 3); // 13.5 / 11
    expect(v.base_noise).toBeCloseTo(4.7619, 3); // 0.5 / 10.5
    expect(v.head_noise).toBeCloseTo(3.7037, 3); // 0.5 / 13.5
    expect(v.noise).toBeCloseTo(4.7619, 3);
    expect(v.repetitions).toEqual({ base: 3, head: 3 });
  });

  it('passes a change over the tolerance that the base spread covers (within_noise)', () => {
    // p95 base 10, 11, 13 ms; head median 12: +9.09 % over the median 11, -7.7 % against the worst 13.
    const v = judgeRepetitions({ base: [10, 11, 13], head: [12, 12, 12], worse: 'higher', tolerance: 5 });
    expect(v.worsening).toBeCloseTo(9.0909, 3);
    expect(v.beyond_worst).toBeCloseTo(-7.6923, 3);
    expect(v).toMatchObject({ regressed: false, outcome: 'within_noise' });
  });

  it('judges a throughput drop against the lowest base repetition', () => {
    // base 700, 680, 720 req/s (worst 680); head 520, 540, 560: median 540 is 20.588 % below 680.
    const v = judgeRepetitions({ base: [700, 680, 720], head: [520, 560, 540], worse: 'lower', tolerance: 15 });
    expect(v.base_worst).toBe(680);
    expect(v.change).toBeCloseTo(-22.8571, 3); // 540 / 700
    expect(v.worsening).toBeCloseTo(22.8571, 3);
    expect(v.beyond_worst).toBeCloseTo(20.5882, 3);
    expect(v.regressed).toBe(true);
    // The same drop with a tolerance of 25 %: within it.
    expect(judgeRepetitions({ base: [700, 680, 720], head: [520, 560, 540], worse: 'lower', tolerance: 25 })).toMatchObject({
      regressed: false,
      outcome: 'within_tolerance',
    });
  });

  it('ignores one disturbed head repetition (the head median is judged)', () => {
    const v = judgeRepetitions({ base: [100, 101, 99], head: [100, 250, 102], worse: 'higher', tolerance: 10 });
    expect(v.head_median).toBe(102);
    expect(v.regressed).toBe(false);
    expect(v.head_noise).toBeCloseTo(145.098, 2); // (250 - 102) / 102
  });

  it('an improvement is never a regression, whatever its size', () => {
    expect(judgeRepetitions({ base: [10, 10, 10], head: [5, 5, 5], worse: 'higher', tolerance: 0 })).toMatchObject({ change: -50, worsening: -50, regressed: false, outcome: 'within_tolerance' });
    expect(judgeRepetitions({ base: [100], head: [300], worse: 'lower', tolerance: 0 }).regressed).toBe(false);
  });

  it('with one repetition per side is the plain median rule', () => {
    const at = (head: number) => judgeRepetitions({ base: [20], head: [head], worse: 'higher', tolerance: 20 });
    expect(at(24).regressed).toBe(false); // +20 %: not more than the tolerance
    expect(at(24.1).regressed).toBe(true);
    expect(at(24.1).noise).toBe(0);
  });

  it('measures error rates in points', () => {
    const v = judgeRepetitions({ base: [0, 0.2, 0.1], head: [1.5, 1.2, 2], worse: 'higher', tolerance: 1, unit: 'points' });
    expect(v).toMatchObject({ unit: 'points', base_worst: 0.2, regressed: true });
    expect(v.change).toBeCloseTo(1.4, 9);
    expect(v.beyond_worst).toBeCloseTo(1.3, 9);
    expect(v.noise).toBeCloseTo(0.5, 9);
    expect(judgeRepetitions({ base: [0, 0.2, 0.1], head: [1, 1.2, 1.1], worse: 'higher', tolerance: 1, unit: 'points' }).regressed).toBe(false);
  });

  it('different repetition counts per side are fine', () => {
    const v = judgeRepetitions({ base: [10, 12], head: [15, 14, 16, 15, 13], worse: 'higher', tolerance: 20 });
    expect(v.base_median).toBe(11);
    expect(v.head_median).toBe(15);
    expect(v.beyond_worst).toBe(25);
    expect(v.regressed).toBe(true);
    expect(v.repetitions).toEqual({ base: 2, head: 5 });
  });

  it('refuses empty sides, non-finite values and negative tolerances', () => {
    expect(() => judgeRepetitions({ base: [], head: [1], worse: 'higher', tolerance: 1 })).toThrow(/base has no repetition/);
    expect(() => judgeRepetitions({ base: [1], head: [Number.NaN], worse: 'higher', tolerance: 1 })).toThrow(/head holds NaN/);
    expect(() => judgeRepetitions({ base: [1], head: [1], worse: 'higher', tolerance: -1 })).toThrow(/tolerance -1/);
  });
});

describe('judgePairs: the median change over back-to-back pairs, and every pair worse', () => {
  it('regresses when the median pair change is beyond the tolerance and the head is worse in every pair', () => {
    // Throughput pairs: 400 -> 320 (-20 %), 500 -> 410 (-18 %), 300 -> 255 (-15 %): median -18 %.
    const v = judgePairs({ pairs: [[400, 320], [500, 410], [300, 255]], worse: 'lower', tolerance: 10 });
    expect(v.pair_changes).toEqual([-20, -18, -15]);
    expect(v).toMatchObject({ unit: 'pct', change: -18, worsening: 18, least_worsening: 15, pair_noise: 3, regressed: true, outcome: 'regressed' });
  });

  it('is within the noise when the median is beyond the tolerance but one pair is not worse', () => {
    // p95 pairs: +30 %, -2 %, +25 %: median +25 % over 15 %, but the second pair saw the head faster.
    const v = judgePairs({ pairs: [[10, 13], [10, 9.8], [10, 12.5]], worse: 'higher', tolerance: 15 });
    expect(v.change).toBeCloseTo(25, 9);
    expect(v.least_worsening).toBeCloseTo(-2, 9);
    expect(v.pair_noise).toBeCloseTo(27, 9); // -2 is 27 from the median 25
    expect(v).toMatchObject({ regressed: false, outcome: 'within_noise' });
  });

  it('is within the tolerance when every pair is worse but the median is not beyond it', () => {
    const v = judgePairs({ pairs: [[100, 95], [100, 93], [100, 96]], worse: 'lower', tolerance: 10 });
    expect(v).toMatchObject({ change: -5, least_worsening: 4, regressed: false, outcome: 'within_tolerance' });
  });

  it('judges one pair by its change, and points for the error rate', () => {
    expect(judgePairs({ pairs: [[100, 80]], worse: 'lower', tolerance: 15 })).toMatchObject({ change: -20, pair_noise: 0, regressed: true });
    const e = judgePairs({ pairs: [[0, 2], [0.5, 3], [0, 1.5]], worse: 'higher', tolerance: 1, unit: 'points' });
    expect(e).toMatchObject({ unit: 'points', pair_changes: [2, 2.5, 1.5], change: 2, regressed: true });
  });

  it('rejects no pair, a non-finite value and a negative tolerance', () => {
    expect(() => judgePairs({ pairs: [], worse: 'lower', tolerance: 10 })).toThrow(/no pair/);
    expect(() => judgePairs({ pairs: [[1, NaN]], worse: 'lower', tolerance: 10 })).toThrow(/head holds NaN/);
    expect(() => judgePairs({ pairs: [[1, 1]], worse: 'lower', tolerance: -1 })).toThrow(/tolerance -1/);
  });
});
