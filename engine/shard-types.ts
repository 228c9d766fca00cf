/**
 * What a shard (the part of a level one event loop runs) is given and hands back: the engine's
 * internal vocabulary between the level controller, the shards and the generator threads.
 * Every type here is structured-cloneable, so that it crosses to a worker thread as is.
 */
import type { Histogram } from 'hdr-histogram-js';
import type { ThreadLoad } from './generator-load.ts';
import type { ErrorCategory } from './types.ts';

/** The part of a level one event loop runs: all of it, or one generator thread's share. Structured-cloneable. */
export interface ShardPlan {
  scenario: string;
  /** The level's concurrency (the raw CSV column and the payload context's `level`). */
  levelConcurrency: number;
  /** Connections of this shard. */
  connections: number;
  /** Level-wide number of this shard's first connection (the raw CSV `worker` column). */
  firstWorker: number;
  url: string;
  method: string;
  headers: Record<string, string>;
  /** A fixed body; a body function is passed separately (it cannot cross threads). */
  body?: string;
  challengeId: string;
  timeoutSeconds: number;
  maxBodyBytes: number;
  /** Requests this shard sends in the measured phase (requests_per_level mode). */
  requests?: number;
  /** Whether raw rows are produced. */
  raw: boolean;
}

/** What the shard hands out while it runs. */
export interface ShardHooks {
  /** A chunk of raw CSV rows. Returns false when the consumer wants the shard to wait for `rawDrain`. */
  raw?(chunk: Buffer): boolean;
  rawDrain?(): Promise<void>;
  /** One finished second of the measured phase; the histogram is only valid during the call. */
  second(report: SecondReport, histogram: Histogram): void;
}

/** Counts of one second of the measured phase; `index` 0 starts at the measure start. */
export interface SecondReport {
  index: number;
  requests: number;
  successes: number;
  failures: number;
}

/** A shard's counters, cheap to read at any time (progress). */
export interface ShardCounters {
  requests: number;
  successes: number;
  failures: number;
  warmupRequests: number;
}

/** Everything a shard measured, for the merge. Structured-cloneable except `histogram` in-process. */
export interface ShardResult {
  requests: number;
  successes: number;
  warmupRequests: number;
  /** Failures per category, in ERROR_CATEGORIES order. */
  errors: number[];
  statusCodes: [number, number][];
  errorSamples: [ErrorCategory, string][];
  /** End of this shard's measured phase, ms since the epoch (0 when it never measured). */
  endEpochMs: number;
}

/** What the level controller needs from a shard, wherever it runs (this event loop or a generator thread). */
export interface ShardHandle {
  /** Settles when the shard can start (a thread has loaded the engine). */
  readonly ready: Promise<void>;
  start(): void;
  /** Starts the measured phase at `epochMs` (ms since the epoch, fractional). */
  measure(epochMs: number): void;
  stop(): void;
  counters(): ShardCounters;
  /** Settles after the shard stopped: its counts and its latency histogram (the caller destroys it); a thread's load too. */
  readonly done: Promise<{ result: ShardResult; histogram: Histogram; load?: ThreadLoad }>;
  dispose(): Promise<void>;
}
