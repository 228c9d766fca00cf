/**
 * The order of an A/B run. Both builds see the same machine conditions only when their runs are
 * interleaved finely: every level is run `repetitions` times per side, and the sides follow the
 * pattern A B B A, continued across repetitions and levels (A B B A A B | B A A B B A | ...), so
 * that a drift of the machine (a neighbour's load, thermal throttling, a cache warming up) over
 * any four consecutive runs hits both sides alike, and neither side always goes first.
 */

/** The two builds of an A/B run: the base ref and the working tree. */
export type AbSide = 'base' | 'head';

/** One run of one level on one side. */
export interface AbStep {
  scenario: string;
  concurrency: number;
  /** 1-based, per side. */
  repetition: number;
  side: AbSide;
}

const ABBA: readonly AbSide[] = ['base', 'head', 'head', 'base'];

/**
 * Every step of an A/B run in order: scenarios in order, each level in order, `2 x repetitions`
 * runs per level, sides following ABBA over the whole run. Pure.
 */
export function abbaSchedule(scenarios: readonly { name: string; levels: readonly number[] }[], repetitions: number): AbStep[] {
  if (!Number.isInteger(repetitions) || repetitions < 1) throw new RangeError(`repetitions must be a positive integer, got ${repetitions}`);
  const steps: AbStep[] = [];
  for (const s of scenarios) {
    for (const concurrency of s.levels) {
      const done: Record<AbSide, number> = { base: 0, head: 0 };
      for (let k = 0; k < 2 * repetitions; k++) {
        const side = ABBA[steps.length % ABBA.length]!;
        done[side]++;
        steps.push({ scenario: s.name, concurrency, repetition: done[side], side });
      }
    }
  }
  return steps;
}
