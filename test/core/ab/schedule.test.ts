import { describe, expect, it } from 'vitest';
import { abbaSchedule, describeStep, stepLevelRun } from '../../../core/ab/schedule.ts';

const sides = (steps: ReturnType<typeof abbaSchedule>): string => steps.map((s) => (s.side === 'base' ? 'A' : 'B')).join('');

describe('abbaSchedule', () => {
  it('interleaves A B B A across repetitions and levels, so no side always goes first', () => {
    const steps = abbaSchedule([{ name: 's', levels: [1, 2, 4] }], 3);
    expect(sides(steps)).toBe('ABBAAB' + 'BAABBA' + 'ABBAAB');
    expect(steps.slice(0, 6).map((s) => s.concurrency)).toEqual([1, 1, 1, 1, 1, 1]);
    expect(steps.slice(6, 12).map((s) => s.concurrency)).toEqual([2, 2, 2, 2, 2, 2]);
  });

  it('runs every level exactly R times per side, numbering the repetitions per side', () => {
    const steps = abbaSchedule([{ name: 'a', levels: [1, 8] }, { name: 'b', levels: [16] }], 2);
    expect(steps).toHaveLength(3 * 2 * 2);
    for (const [scenario, c] of [['a', 1], ['a', 8], ['b', 16]] as const) {
      for (const side of ['base', 'head'] as const) {
        const mine = steps.filter((s) => s.scenario === scenario && s.concurrency === c && s.side === side);
        expect(mine.map((s) => s.repetition)).toEqual([1, 2]);
      }
    }
    // Scenarios in order, all of one before the next.
    expect(steps.map((s) => s.scenario).join('')).toBe('aaaaaaaabbbb');
  });

  it('balances position: in every window of four consecutive runs each side runs twice', () => {
    const steps = abbaSchedule([{ name: 's', levels: [1, 2, 4, 8, 16] }], 5);
    for (let i = 0; i + 4 <= steps.length; i += 4) {
      expect(steps.slice(i, i + 4).filter((s) => s.side === 'base')).toHaveLength(2);
    }
  });

  it('with one repetition, alternates A B then B A', () => {
    expect(sides(abbaSchedule([{ name: 's', levels: [1, 2, 3, 4] }], 1))).toBe('ABBAABBA');
  });

  it('refuses a repetition count below 1', () => {
    expect(() => abbaSchedule([{ name: 's', levels: [1] }], 0)).toThrow(/positive integer/);
  });

  it('gives the steps of an open-loop scenario their rate, so that they run open loop and are named by it', () => {
    const steps = abbaSchedule([{ name: 'c', levels: [4] }, { name: 'o', levels: [200], open: true }], 3);
    const closed = steps.find((s) => s.scenario === 'c')!;
    const open = steps.find((s) => s.scenario === 'o')!;
    expect('rateRps' in closed).toBe(false);
    expect(open).toMatchObject({ concurrency: 200, rateRps: 200 });
    expect(stepLevelRun(closed, 3)).toEqual({ concurrency: 4, repetition: 1 });
    expect(stepLevelRun(open, 3)).toEqual({ concurrency: 200, rateRps: 200, repetition: 1 });
    expect(stepLevelRun(open, 1)).toEqual({ concurrency: 200, rateRps: 200 });
    expect(describeStep(closed, 0, steps.length, 3)).toBe('[1/12] c, concurrency 4, base rep 1/3');
    expect(describeStep(open, 6, steps.length, 3)).toBe(`[7/12] o, 200 req/s, ${open.side} rep 1/3`);
  });
});
