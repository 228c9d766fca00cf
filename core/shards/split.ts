/**
 * How a level is split over run shards (issue 15), so that the shards together send exactly
 * the level: pure arithmetic, no I/O.
 */

/** One run shard's part of a closed-loop level: its connections and the number of its first worker. */
export interface ConnectionPart {
  connections: number;
  /** The first worker number of this shard: the connections of the earlier shards come before it. */
  firstWorker: number;
  /** Every shard's connections, in shard order (add up to the level's concurrency). */
  parts: number[];
}

/**
 * Splits concurrency `total` over `count` shards: parts that differ by at most one, the larger
 * first, adding up to `total` (64 over 3 = 22 + 21 + 21; 2 over 3 = 1 + 1 + 0). `index` is 1-based.
 */
export function connectionPart(total: number, index: number, count: number): ConnectionPart {
  const base = Math.floor(total / count);
  const parts = Array.from({ length: count }, (_, i) => base + (i < total % count ? 1 : 0));
  const firstWorker = parts.slice(0, index - 1).reduce((a, b) => a + b, 0);
  return { connections: parts[index - 1]!, firstWorker, parts };
}

/**
 * One run shard's part of an open-loop level (arrival rate `rate` per second): the arrivals of
 * the level's one schedule (arrival k, 0-based, at k / rate seconds) whose number k satisfies
 * k % count === index - 1. The shards' arrivals interleave, so together they follow the intended
 * schedule exactly, whatever the rate; each shard sends at rate / count.
 */
export interface ArrivalPart {
  /** The engine's arrival partition: arrival k belongs to this shard when k % count === index - 1. */
  partition: { index: number; count: number };
  /** This shard's arrivals per second. */
  rate: number;
  /** When this shard's first arrival is due, seconds after the level's start: (index - 1) / rate. */
  firstOffsetS: number;
  /** Seconds between two of this shard's arrivals: count / rate. */
  intervalS: number;
}

/** The open-loop split of `rate` arrivals per second over `count` shards, for 1-based `index`. */
export function arrivalPart(rate: number, index: number, count: number): ArrivalPart {
  return { partition: { index, count }, rate: rate / count, firstOffsetS: (index - 1) / rate, intervalS: count / rate };
}

/** How many arrivals of a `durationS`-second level at `rate` per second fall to shard `index` of `count` (arrivals at k / rate, k = 0, 1, ... while < durationS). */
export function arrivalsOfPart(rate: number, durationS: number, index: number, count: number): number {
  const total = Math.ceil(durationS * rate - 1e-9);
  const first = index - 1;
  return total > first ? Math.floor((total - 1 - first) / count) + 1 : 0;
}
