/**
 * The summary fields of a distributed run (issue 15): what a run shard records about its part,
 * and what `loadbench merge` records about the shards it added up. Optional everywhere: a
 * single-generator run has none of them.
 */
import { z } from 'zod';

const count = z.number().int().nonnegative();

/** A level as one run shard ran it: its part and where in the shared schedule it started. */
export const levelRunShardSchema = z.object({
  index: z.number().int().positive(),
  count: z.number().int().positive(),
  /**
   * This shard's connections of the level (the level's `concurrency` is the whole run's); 0 when the
   * split left none, and always 0 for an open-loop level, which has arrivals rather than connections:
   * the shard sends every `count`-th arrival of the level's one schedule (its `open_loop.partition`).
   */
  connections: count,
  /** Number of this shard's first worker (the raw CSV's `worker` column), the earlier shards' connections (open loop: max_in_flight shares) before it. */
  first_worker: count,
  /** Open loop: this shard's share of the level's max_in_flight (an even split, at least 1). */
  max_in_flight: z.number().int().positive().optional(),
  /** When the shared schedule had the level start, epoch ms. */
  scheduled_at_ms: z.number().optional(),
  /** When the level actually started (its warm-up), epoch ms. */
  started_at_ms: z.number().optional(),
  /** How late it started against the schedule, ms (0 on time). */
  late_ms: z.number().nonnegative().optional(),
});

/** The run shard a summary belongs to. */
export const runShardInfoSchema = z.object({
  index: z.number().int().positive(),
  count: z.number().int().positive(),
  /** The whole run's label (this summary's `run_label` is `<label>.shard-<i>-of-<n>`). */
  run_label: z.string(),
  /** Hash of what every shard must share (scenarios, workloads, SLOs, the schedule's gap): `loadbench merge` refuses shards that differ. */
  config_hash: z.string(),
  /** How the index was given. */
  source: z.enum(['LOADBENCH_SHARD', 'JOB_COMPLETION_INDEX']),
  /** The shared start (LOADBENCH_START_AT), epoch ms; absent when each shard started its schedule on its own. */
  start_at_ms: z.number().optional(),
  /** The fixed gap between two levels of the schedule, ms. */
  gap_ms: count,
  /** How late the first level started against LOADBENCH_START_AT, ms. */
  late_ms: z.number().nonnegative().optional(),
});

/** One shard's share of a merged level. */
export const mergedShardPartSchema = z.object({
  index: z.number().int().positive(),
  connections: count,
  requests: count,
  successes: count,
  /** Start of its measured window, epoch ms (absent for a shard without connections). */
  started_at_ms: z.number().optional(),
  duration_s: z.number().nonnegative().optional(),
  late_ms: z.number().nonnegative().optional(),
});

/** How a merged level was added up from its shards. */
export const levelShardMergeSchema = z.object({
  /** Shards that sent load at this level (a shard whose part was 0 connections is not one). */
  generators: z.number().int().nonnegative(),
  /** The level start skew: latest minus earliest start of the shards' measured windows, ms. */
  start_skew_ms: z.number().nonnegative(),
  shards: z.array(mergedShardPartSchema),
});

/** What `loadbench merge` added up. */
export const mergedFromSchema = z.object({
  shards: z.number().int().positive(),
  config_hash: z.string(),
  /** The shard summaries, as given. */
  files: z.array(z.string()),
  /** Largest level start skew of the run, ms. */
  max_start_skew_ms: z.number().nonnegative(),
  /** Largest lateness of a shard's level against the schedule, ms. */
  max_late_ms: z.number().nonnegative(),
  /** Whether the shards shared a LOADBENCH_START_AT. */
  shared_start: z.boolean(),
  /** Each shard's machine: model, CPUs and calibration (absent when a shard recorded none). */
  machines: z.array(z.object({ index: z.number().int().positive(), cpu_model: z.string(), logical_cpus: z.number().int().positive(), calibration_ms: z.number() }).partial({ cpu_model: true, logical_cpus: true, calibration_ms: true })),
});

export type LevelRunShard = z.infer<typeof levelRunShardSchema>;
export type RunShardInfo = z.infer<typeof runShardInfoSchema>;
export type LevelShardMerge = z.infer<typeof levelShardMergeSchema>;
export type MergedFrom = z.infer<typeof mergedFromSchema>;
