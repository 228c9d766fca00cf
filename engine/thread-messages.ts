/** The messages between the main thread and a generator thread (thread-shard.ts and level-thread.ts). */
import type { ThreadLoad } from './generator-load.ts';
import type { SecondReport, ShardCounters, ShardResult } from './shard-types.ts';

/** Main thread to a generator thread. */
export type ToThread =
  /** Start sending; `epochMs` is an open schedule's t0, ms since the epoch (fractional). */
  | { type: 'start'; epochMs: number }
  /** Start of the measured phase, ms since the epoch (fractional). */
  | { type: 'measure'; epochMs: number }
  | { type: 'stop' }
  /** A raw chunk was written: the thread may send another. */
  | { type: 'raw-ack' };

/** A generator thread to the main thread. */
export type FromThread =
  | { type: 'ready' }
  | { type: 'counters'; counters: ShardCounters }
  | { type: 'second'; report: SecondReport; histogram: string }
  | { type: 'raw'; chunk: Uint8Array }
  | { type: 'result'; result: ShardResult; histogram: string; load: ThreadLoad }
  | { type: 'error'; message: string };
