/**
 * The schedule of an open-loop level: when each request is due, computed from the level's start
 * rather than slept between sends, so that a slow answer never delays the next arrival.
 * Arrival i (0-based) of a constant level is due at i / rate; a Poisson level's arrivals are
 * separated by exponential gaps drawn from a seeded generator (pure-rand's xoroshiro128+), so the
 * same rate and seed always give the same schedule.
 *
 * A schedule can be cut into parts: {@link ArrivalPartition} `{ index, count }` keeps only the
 * arrivals i with `i % count === index - 1`. Generator threads of one level take one part each,
 * and so can distributed shards of one run: N parts with the same rate and seed together send
 * exactly the global schedule, each arrival once.
 */
import { uniformFloat64 } from 'pure-rand/distribution/uniformFloat64';
import { xoroshiro128plus } from 'pure-rand/generator/xoroshiro128plus';
import type { RandomGenerator } from 'pure-rand/types/RandomGenerator';

/** How arrivals are spaced: `constant` evenly (1/rate apart), `poisson` with exponential gaps of mean 1/rate. */
export type ArrivalProcess = 'constant' | 'poisson';

/** Every arrival process, in the order documented. */
export const ARRIVAL_PROCESSES: readonly ArrivalProcess[] = ['constant', 'poisson'];

/**
 * One part of a level's global arrival schedule: the arrivals i (0-based) with
 * `i % count === index - 1`. `index` is 1-based (1..count). `{ index: 1, count: 1 }` is the whole schedule.
 */
export interface ArrivalPartition {
  index: number;
  count: number;
}

/** What a schedule is made of. */
export interface ArrivalScheduleSpec {
  /** Arrivals per second of the global schedule (all parts together). */
  rateRps: number;
  arrivals: ArrivalProcess;
  /** Seed of the Poisson gaps (a 32-bit integer; ignored by `constant`). */
  seed: number;
  /** The part of the global schedule to follow (default: all of it). */
  partition?: ArrivalPartition;
}

/** The whole schedule, as a partition. */
export const WHOLE_SCHEDULE: Readonly<ArrivalPartition> = Object.freeze({ index: 1, count: 1 });

/** Why `p` is not a valid partition, or undefined. Pure. */
export function arrivalPartitionProblem(p: ArrivalPartition): string | undefined {
  if (!Number.isSafeInteger(p.count) || p.count < 1) return `partition count: found ${p.count}, expected a whole number of parts, 1 or more`;
  if (!Number.isSafeInteger(p.index) || p.index < 1 || p.index > p.count) {
    return `partition index: found ${p.index}, expected a whole number from 1 to ${p.count} (it is 1-based)`;
  }
  return undefined;
}

/**
 * The part `inner` of the part `outer`: `inner` splits the arrivals of `outer` (its j-th arrival,
 * j = 0, 1, ...) by `j % inner.count === inner.index - 1`. A shard's share of a run split over its
 * generator threads is `composePartitions(shard, thread)`. Pure.
 */
export function composePartitions(outer: ArrivalPartition, inner: ArrivalPartition): ArrivalPartition {
  // Arrival j of outer is global i = (outer.index - 1) + outer.count * j; j ≡ inner.index - 1 (mod inner.count).
  return { index: outer.index + outer.count * (inner.index - 1), count: outer.count * inner.count };
}

/** The partitions that split `outer` into `parts` parts, in order (1..parts). Pure. */
export function splitPartition(outer: ArrivalPartition, parts: number): ArrivalPartition[] {
  return Array.from({ length: parts }, (_, k) => composePartitions(outer, { index: k + 1, count: parts }));
}

/** A random seed for a Poisson schedule, recorded in the summary so that the run can be repeated. */
export function randomArrivalSeed(): number {
  return Math.floor(Math.random() * 0x7fff_ffff);
}

/**
 * Walks the due times of one part of a level's schedule, in order. `next()` moves to the part's
 * next arrival; `index` is its index in the global schedule and `dueMs` its due time in ms after
 * the level's start (t0). Never ends: the caller stops asking.
 */
export class ArrivalSchedule {
  /** Global index of the current arrival (-1 before the first `next()`). */
  index = -1;
  /** Due time of the current arrival, ms after t0. */
  dueMs = 0;
  readonly #gapMs: number;
  readonly #poisson: boolean;
  readonly #residue: number;
  readonly #count: number;
  readonly #rng: RandomGenerator | null;
  /** Global index and due time of the last arrival walked over (Poisson), whichever part it belongs to. */
  #globalIndex = -1;
  #globalDueMs = 0;

  /** @throws Error when the rate is not a positive finite number or the partition is invalid */
  constructor(spec: ArrivalScheduleSpec) {
    if (!(spec.rateRps > 0) || !Number.isFinite(spec.rateRps)) throw new Error(`arrival rate: found ${spec.rateRps}, expected a positive number of requests per second`);
    const partition = spec.partition ?? WHOLE_SCHEDULE;
    const problem = arrivalPartitionProblem(partition);
    if (problem) throw new Error(problem);
    this.#gapMs = 1000 / spec.rateRps;
    this.#poisson = spec.arrivals === 'poisson';
    this.#residue = partition.index - 1;
    this.#count = partition.count;
    this.#rng = this.#poisson ? xoroshiro128plus(spec.seed | 0) : null;
  }

  /** Moves to this part's next arrival; returns its due time (ms after t0), also in `dueMs`. */
  next(): number {
    if (!this.#poisson) {
      this.index = this.index < 0 ? this.#residue : this.index + this.#count;
      // From the index, not summed: no drift over millions of arrivals.
      this.dueMs = this.index * this.#gapMs;
      return this.dueMs;
    }
    // Poisson: every part draws the whole global sequence and keeps its own arrivals, so that all parts agree on every due time.
    const rng = this.#rng!;
    do {
      this.#globalIndex++;
      if (this.#globalIndex > 0) this.#globalDueMs += -Math.log(1 - uniformFloat64(rng)) * this.#gapMs;
    } while (this.#globalIndex % this.#count !== this.#residue);
    this.index = this.#globalIndex;
    this.dueMs = this.#globalDueMs;
    return this.dueMs;
  }
}

/**
 * Index of the first arrival of the global schedule due at or after `ms` (after t0): where a level's
 * counted arrivals start once its warm-up is over. Pure (it walks a schedule of its own).
 */
export function firstArrivalAtOrAfter(spec: Omit<ArrivalScheduleSpec, 'partition'>, ms: number): number {
  if (ms <= 0) return 0;
  const schedule = new ArrivalSchedule(spec);
  if (spec.arrivals === 'constant') {
    // From the rate, corrected for rounding either way: the same i * gap the schedule computes.
    const gap = 1000 / spec.rateRps;
    let i = Math.max(0, Math.floor(ms / gap) - 1);
    while (i * gap < ms) i++;
    while (i > 0 && (i - 1) * gap >= ms) i--;
    return i;
  }
  while (schedule.next() < ms);
  return schedule.index;
}
