/**
 * The order of an A/B run. Both builds see the same machine conditions only when their runs are
 * interleaved finely: every level is run `repetitions` times per side, and the sides follow the
 * pattern A B B A, continued across repetitions and levels (A B B A A B | B A A B B A | ...), so
 * that a drift of the machine (a neighbour's load, thermal throttling, a cache warming up) over
 * any four consecutive runs hits both sides alike, and neither side always goes first.
 */

import { levelName } from '../model/summary.ts';
import type { LevelRun } from '../scenario/resolve.ts';

/** The two builds of an A/B run: the base ref and the working tree. */
export type AbSide = 'base' | 'head';

/** One run of one level on one side. */
export interface AbStep {
  scenario: string;
  /** The level's key: its concurrency, or an open-loop level's rate (req/s). */
  concurrency: number;
  /** Set for an open-loop level: its arrival rate, req/s (equal to `concurrency`). */
  rateRps?: number;
  /** 1-based, per side. */
  repetition: number;
  side: AbSide;
}

const ABBA: readonly AbSide[] = ['base', 'head', 'head', 'base'];

/**
 * Every step of an A/B run in order: scenarios in order, each level in order, `2 x repetitions`
 * runs per level, sides following ABBA over the whole run. An `open` scenario's levels are arrival
 * rates (req/s): its steps carry `rateRps`. Pure.
 */
export function abbaSchedule(scenarios: readonly { name: string; levels: readonly number[]; open?: boolean }[], repetitions: number): AbStep[] {
  if (!Number.isInteger(repetitions) || repetitions < 1) throw new RangeError(`repetitions must be a positive integer, got ${repetitions}`);
  const steps: AbStep[] = [];
  for (const s of scenarios) {
    for (const concurrency of s.levels) {
      const done: Record<AbSide, number> = { base: 0, head: 0 };
      for (let k = 0; k < 2 * repetitions; k++) {
        const side = ABBA[steps.length % ABBA.length]!;
        done[side]++;
        steps.push({ scenario: s.name, concurrency, ...(s.open ? { rateRps: concurrency } : {}), repetition: done[side], side });
      }
    }
  }
  return steps;
}

/** The level run of a step, as the scenario runner takes it: an open-loop step keeps its rate, so that it runs open loop. Pure. */
export function stepLevelRun(step: AbStep, repetitions: number): LevelRun {
  return {
    concurrency: step.concurrency,
    ...(step.rateRps !== undefined ? { rateRps: step.rateRps } : {}),
    ...(repetitions > 1 ? { repetition: step.repetition } : {}),
  };
}

/** How progress lines name a step: `[3/12] submit, concurrency 4, head rep 2/3`, or `..., 200 req/s, ...` open loop. Pure. */
export function describeStep(step: AbStep, index: number, total: number, repetitions: number): string {
  const level = levelName(step.rateRps !== undefined ? { concurrency: step.concurrency, target_rate_rps: step.rateRps } : step.concurrency);
  return `[${index + 1}/${total}] ${step.scenario}, ${level}, ${step.side} rep ${step.repetition}/${repetitions}`;
}
