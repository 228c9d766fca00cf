/**
 * What a shard (the part of a level one event loop runs) is given and hands back: the engine's
 * internal vocabulary between the level controller, the shards and the generator threads.
 * Every type here is structured-cloneable, so that it crosses to a worker thread as is.
 */
import type { Histogram } from 'hdr-histogram-js';
import type { ArrivalPartition, ArrivalProcess } from './arrival-schedule.ts';
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
  /** Set for an open-loop level: this shard follows its part of the arrival schedule instead of keeping `connections` busy. */
  open?: OpenShardPlan;
}

/** The open-loop part of a shard's plan (structured-cloneable). */
export interface OpenShardPlan {
  /** Arrivals per second of the level's global schedule. */
  rateRps: number;
  arrivals: ArrivalProcess;
  seed: number;
  /** This shard's part of the global schedule (a distributed shard's part, split again per thread). */
  partition: ArrivalPartition;
  /** Requests this shard may have outstanding; an arrival beyond them is dropped. */
  maxInFlight: number;
  /** Arrivals due before this (ms after t0) are the warm-up. */
  warmupMs: number;
  /** Arrivals due from `warmupMs` to `warmupMs + durationMs` are counted (duration mode). */
  durationMs?: number;
  /** The first `requests` arrivals of the global schedule due at or after `warmupMs` are counted (requests_per_level mode). */
  requests?: number;
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
  /** Open loop: counted arrivals sent in this second (0 in a closed loop). */
  sent: number;
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
  /** Open loop only. */
  open?: OpenShardResult;
}

/** What an open-loop shard measured besides the closed loop's figures. Structured-cloneable. */
export interface OpenShardResult {
  /** Counted arrivals sent. */
  sent: number;
  /** Counted arrivals not sent because `maxInFlight` requests were outstanding. */
  dropped: number;
  /** Counted arrivals the schedule had due in the measured window: sent, dropped, or not reached by a late generator. */
  scheduled: number;
  /** Most requests outstanding at once during the measured phase. */
  maxInFlightSeen: number;
  /** Counted requests still outstanding when the level ended (aborted, not counted). */
  inFlightAtEnd: number;
  /** Service times (response end - actual send) of counted successes, µs, compressed base64. */
  serviceHistogram: string;
  /** Schedule lags (actual send - due time) of counted sent arrivals, µs, compressed base64. */
  lagHistogram: string;
}

/** What the level controller needs from a shard, wherever it runs (this event loop or a generator thread). */
export interface ShardHandle {
  /** Settles when the shard can start (a thread has loaded the engine). */
  readonly ready: Promise<void>;
  /** Starts sending; `epochMs` (ms since the epoch, fractional) is t0 of an open-loop schedule, the same for every shard. */
  start(epochMs: number): void;
  /** Starts the measured phase at `epochMs` (ms since the epoch, fractional). */
  measure(epochMs: number): void;
  stop(): void;
  counters(): ShardCounters;
  /** Settles after the shard stopped: its counts and its latency histogram (the caller destroys it); a thread's load too. */
  readonly done: Promise<{ result: ShardResult; histogram: Histogram; load?: ThreadLoad }>;
  dispose(): Promise<void>;
}
