/**
 * The shared level schedule of a sharded run (issue 15): level k starts at the start time plus
 * the warm-ups and durations of the levels before it and a fixed gap after each. Every shard
 * computes it from the same config, so levels line up across machines without a coordinator.
 */
import { LEVEL_GAP_MS } from './run-shard.ts';

/** One level's place in the schedule. */
export interface LevelSlot {
  /** 0-based position of the level in the run. */
  ordinal: number;
  /** When the level (its warm-up) is due to start, epoch ms. */
  scheduledAtMs: number;
}

/**
 * Hands out the slots of the run's levels in the order they run. `originMs` is the shared start
 * (LOADBENCH_START_AT), or the shard's own start when there is none.
 */
export class LevelSchedule {
  readonly originMs: number;
  readonly gapMs: number;
  #nextAtMs: number;
  #ordinal = 0;

  constructor(originMs: number, gapMs = LEVEL_GAP_MS) {
    this.originMs = originMs;
    this.gapMs = gapMs;
    this.#nextAtMs = originMs;
  }

  /** The slot of the next level, which lasts `warmupS + durationS`. */
  next(warmupS: number, durationS: number): LevelSlot {
    const slot = { ordinal: this.#ordinal++, scheduledAtMs: this.#nextAtMs };
    this.#nextAtMs += Math.round((warmupS + durationS) * 1000) + this.gapMs;
    return slot;
  }
}

/** The start times of levels of `[warmupS, durationS]` from `originMs`: the schedule as one list. Pure. */
export function levelStarts(originMs: number, levels: readonly (readonly [number, number])[], gapMs = LEVEL_GAP_MS): number[] {
  const schedule = new LevelSchedule(originMs, gapMs);
  return levels.map(([w, d]) => schedule.next(w, d).scheduledAtMs);
}

/** Waits until `atMs` (epoch ms), or until `signal` aborts. Resolves at once for a time already past. */
export function waitUntil(atMs: number, signal?: AbortSignal, now: () => number = Date.now): Promise<void> {
  const delay = atMs - now();
  if (delay <= 0 || signal?.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(done, delay);
    function done(): void {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
