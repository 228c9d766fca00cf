/**
 * The run summary: the contract between the orchestrator, the reporters and every tool that
 * reads `runs/<run_label>_summary.json` later (report regeneration, comparison, baselines).
 * It is a zod schema, so that a file read back is validated field by field; the TypeScript
 * types are inferred from it.
 *
 * Bump {@link SUMMARY_FORMAT_VERSION} whenever a field changes meaning or disappears, and teach
 * `read-summary.ts` to migrate the older version.
 */
import { z } from 'zod';
import { ERROR_CATEGORIES, type LevelMeasurement } from '../../engine/types.ts';
import { levelResourcesSchema, replicaRunSchema, runResourcesSchema } from './resources.ts';
import { levelRunShardSchema, levelShardMergeSchema, mergedFromSchema, runShardInfoSchema } from './run-shards.ts';

export { ERROR_CATEGORIES, ERROR_SAMPLE_LENGTH } from '../../engine/types.ts';
export type { ErrorCategory, ErrorCounts, LatencyMs, TimelinePoint, GeneratorLoad, ProgressEvent } from '../../engine/types.ts';

/** The `format` tag written into every JSON summary. */
export const SUMMARY_FORMAT = 'loadbench-summary' as const;
/** Version of the JSON summary layout. Version 1 had `partial`/`skipped` flags and zero-filled skipped levels. */
export const SUMMARY_FORMAT_VERSION = 2 as const;

const count = z.number().int().nonnegative();
const ms = z.number().nonnegative();

/** Latency figures of one level in ms (successful requests only). */
export const latencySchema = z.object({
  min: ms,
  mean: ms,
  stddev: ms,
  p50: ms,
  p90: ms,
  p95: ms,
  p99: ms,
  p999: ms,
  max: ms,
});

/** Failures per error category; every category present (`dropped`, added with open-loop levels, reads as 0 from older summaries). */
export const errorCountsSchema = z.object({
  ...(Object.fromEntries(ERROR_CATEGORIES.map((c) => [c, count])) as Record<(typeof ERROR_CATEGORIES)[number], typeof count>),
  dropped: count.default(0),
});

/** One second of a level. */
export const timelinePointSchema = z.object({
  t_ms: z.number(),
  requests: count,
  successes: count,
  failures: count,
  p95_ms: ms,
  /** The second's HDR histogram (µs, compressed base64): only in a run shard's summary, for an exact merge. */
  histogram: z.string().optional(),
  /** Open loop: counted arrivals sent in this second. */
  sent: count.optional(),
});

/** What an open-loop level measured besides a closed level's figures (engine/types.ts OpenLoopFigures). */
export const openLoopSchema = z.object({
  target_rate_rps: z.number().positive(),
  achieved_rate_rps: z.number().nonnegative(),
  arrivals: z.enum(['constant', 'poisson']),
  seed: z.number().int().optional(),
  partition: z.object({ index: z.number().int().positive(), count: z.number().int().positive() }).optional(),
  max_in_flight: z.number().int().positive(),
  sent: count,
  dropped: count,
  scheduled: count,
  max_in_flight_seen: count,
  in_flight_at_end: count,
  service_time_ms: latencySchema,
  schedule_lag_ms: latencySchema,
  service_histogram: z.string(),
  schedule_lag_histogram: z.string(),
});

/** SLO thresholds; shared by config.yaml `slo:`, the scenario option `slo` and the summary. */
export const sloThresholdsSchema = z.strictObject({
  p50_ms: z.number().positive().optional(),
  p95_ms: z.number().positive().optional(),
  p99_ms: z.number().positive().optional(),
  error_rate_pct: z.number().min(0).max(100).optional(),
  min_throughput_rps: z.number().nonnegative().optional(),
  /** Open loop: achieved rate at least this % of the target rate (default 95 for open-loop levels). */
  min_achieved_rate_pct: z.number().min(0).max(100).optional(),
  /** Open loop: dropped arrivals at most this % of the level's arrivals. */
  max_dropped_pct: z.number().min(0).max(100).optional(),
  /** Only levels with concurrency <= this are judged. */
  up_to_concurrency: z.number().int().positive().optional(),
});

/** The SLO metrics a check can be about. */
export const SLO_METRICS = ['p50_ms', 'p95_ms', 'p99_ms', 'error_rate_pct', 'min_throughput_rps', 'min_achieved_rate_pct', 'max_dropped_pct'] as const;

/** One threshold compared with one measured value. */
export const sloCheckSchema = z.object({
  metric: z.enum(SLO_METRICS),
  limit: z.number(),
  value: z.number(),
  pass: z.boolean(),
  /** A latency limit on a level without a successful request: failed, with nothing to compare. */
  no_data: z.boolean().optional(),
});

/** The SLO verdict of one level. `judged` is false when the level is above `up_to_concurrency` or has no threshold. */
export const sloVerdictSchema = z.object({
  judged: z.boolean(),
  pass: z.boolean(),
  checks: z.array(sloCheckSchema),
});

const generatorSchema = z.object({
  cpu_pct: z.number().nonnegative(),
  event_loop_delay_p99_ms: z.number().nonnegative(),
  client_bound: z.boolean(),
  threads: z.number().int().positive().optional(),
});

const levelKey = {
  scenario: z.string(),
  concurrency: z.number().int().positive(),
  /** 1-based repetition of this level when `repetitions` > 1 (absent otherwise). */
  repetition: z.number().int().positive().optional(),
  /** In a run shard's summary (issue 15): this shard's part of the level and its place in the shared schedule. */
  run_shard: levelRunShardSchema.optional(),
  /** Open loop: the level's arrival rate, req/s; `concurrency` then holds the same number (the key every tool sorts and matches levels by). */
  target_rate_rps: z.number().positive().optional(),
};

const measuredFields = {
  ...levelKey,
  /** Counted requests (the warm-up excluded). */
  requests: count,
  successes: count,
  failures: count,
  error_rate_pct: z.number().min(0).max(100),
  /** Successful requests / measured wall time. */
  throughput_rps: z.number().nonnegative(),
  latency_ms: latencySchema,
  /** Measured wall time (warm-up excluded), seconds. */
  duration_s: z.number().nonnegative(),
  /** Start of the measured window, ms since the Unix epoch. */
  started_at_ms: z.number(),
  warmup_requests: count,
  errors: errorCountsSchema,
  /** A few distinct error messages per category, redacted and cut to 200 characters. */
  error_samples: z.array(z.object({ category: z.enum(ERROR_CATEGORIES), message: z.string() })),
  /** Count per HTTP status ("200", "503", ...). */
  status_codes: z.record(z.string(), count),
  /** HDR histogram of the successful latencies in µs, compressed base64 (hdr-histogram-js). */
  histogram: z.string(),
  timeline: z.array(timelinePointSchema),
  generator: generatorSchema,
  slo: sloVerdictSchema,
  // --- resources of the system under test (issue 16), optional: older summaries have none ---
  /** CPU and memory of each target process, the load generator and the machine during the level. */
  resources: levelResourcesSchema.optional(),
  /** In a merged run (`loadbench merge`, issue 15): the shards this level adds up, and their start skew. */
  shard_merge: levelShardMergeSchema.optional(),
  /** Set for an open-loop level: `latency_ms` is then timed from each request's due time. */
  open_loop: openLoopSchema.optional(),
};

/** A level that ran to its end. */
export const measuredLevelSchema = z.object({ status: z.literal('measured'), ...measuredFields });
/** A level cut short by an interrupt: its figures cover only part of the planned level. */
export const partialLevelSchema = z.object({ status: z.literal('partial'), ...measuredFields });
/** A level that was not run, and why (stop_on_slo_failure after an earlier failure, an interrupt). */
export const skippedLevelSchema = z.object({ status: z.literal('skipped'), ...levelKey, reason: z.string() });

/** One level of a scenario: measured, partial or skipped. */
export const levelSchema = z.discriminatedUnion('status', [measuredLevelSchema, partialLevelSchema, skippedLevelSchema]);

/** What a scenario sent, with credentials removed. */
export const workloadSnapshotSchema = z.object({
  url: z.string(),
  method: z.string(),
  /** Header names sent (values omitted: they may hold credentials). */
  header_names: z.array(z.string()),
  /** The payload with every leaf replaced by its type, or "function" for generated payloads. */
  payload_shape: z.unknown(),
  /** Closed loop's levels (empty for an open-loop scenario). */
  concurrency_levels: z.array(z.number().int().positive()),
  /** Open loop: the arrival rates (req/s), how they are spaced, the Poisson seed and max_in_flight. */
  arrival_rates: z.array(z.number().positive()).optional(),
  arrivals: z.enum(['constant', 'poisson']).optional(),
  seed: z.number().int().optional(),
  max_in_flight: z.number().int().positive().optional(),
  duration_seconds: z.number().positive().optional(),
  requests_per_level: z.number().int().positive().optional(),
  warmup_seconds: z.number().nonnegative(),
  timeout_seconds: z.number().positive(),
  challenge_id: z.string(),
  /** How many times each level runs (absent when 1). */
  repetitions: z.number().int().positive().optional(),
});

/** The regression gate's tolerances; every key is also a scenario option (`baseline: { ... }`). */
export const baselineTolerancesSchema = z.strictObject({
  max_p95_increase_pct: z.number().nonnegative(),
  max_throughput_drop_pct: z.number().min(0).max(100),
  max_error_rate_increase_pct: z.number().nonnegative(),
  min_requests: z.number().int().nonnegative(),
});

// ---- Machine fingerprint and workload hash (issue 13: baselines know where they were recorded) ----

/** The calibration score: a fixed CPU loop timed at the start of the run (core/gates/fingerprint.ts). */
export const calibrationSchema = z.object({
  /** Median wall time of the loops, ms (lower is faster). */
  ms: z.number().positive(),
  /** Every loop's time, ms, in the order measured. */
  runs_ms: z.array(z.number().nonnegative()),
  /** What the loop is: scores of different loops are not compared. */
  loop: z.string(),
});

/** Where a run was measured. */
export const machineFingerprintSchema = z.object({
  cpu_model: z.string(),
  logical_cpus: z.number().int().positive(),
  memory_bytes: count,
  /** Operating system type, release and architecture, e.g. "Linux 6.8.0 x64". */
  os: z.string(),
  /** Node version, e.g. "v20.20.0". */
  node: z.string(),
  calibration: calibrationSchema,
});

// ---- end of issue 13 block ----

/** All results of one scenario. */
export const scenarioSummarySchema = z.object({
  name: z.string(),
  /** Bench file, relative to the project root ('' for scenarios run through the API). */
  file: z.string(),
  /** Line of the `scenario()` call in `file` (1-based), where CI annotations point; absent when unknown. */
  line: z.number().int().positive().optional(),
  workload: workloadSnapshotSchema,
  slo: sloThresholdsSchema,
  levels: z.array(levelSchema),
  /** The scenario's `baseline` option: tolerances replacing config.yaml's for this scenario, or `false` (not judged). */
  baseline_override: z.union([z.literal(false), baselineTolerancesSchema.partial()]).optional(),
  /** Issue 13: hash of what defines the workload (core/gates/fingerprint.ts workloadHash); absent in older summaries. */
  workload_hash: z.string().optional(),
});

/** The baseline metrics a regression gate judges. */
export const BASELINE_METRICS = ['p95_ms', 'throughput_rps', 'error_rate_pct'] as const;

/** One metric of one level compared with the baseline (medians over repetitions). */
export const baselineCheckSchema = z.object({
  metric: z.enum(BASELINE_METRICS),
  baseline: z.number(),
  value: z.number(),
  /** Percent change for p95 and throughput, percentage points for the error rate. */
  change: z.number(),
  /** The tolerance: max increase (p95, error rate) or max drop (throughput). */
  limit: z.number(),
  pass: z.boolean(),
  // Issue 13, noise-aware verdict (core/gates/noise-verdict.ts); absent in older summaries.
  /** The baseline's worst repetition (highest p95 or error rate, lowest throughput): the rule judges the change from it. */
  baseline_worst: z.number().optional(),
  /** Change of the new median from `baseline_worst`, + = worse (in % or points like `change`); a regression when over `limit`. */
  beyond_worst: z.number().optional(),
  /** The noise: largest distance of a repetition from its side's median, either side (in % or points like `change`). */
  noise: z.number().optional(),
  /** Repetitions judged on each side. */
  repetitions: z.object({ baseline: z.number().int().nonnegative(), run: z.number().int().nonnegative() }).optional(),
});

/** The baseline verdict of one scenario and level. */
export const baselineLevelVerdictSchema = z.object({
  scenario: z.string(),
  concurrency: z.number().int().positive(),
  /** Open loop: the level's rate (req/s), the same number as `concurrency`. */
  target_rate_rps: z.number().positive().optional(),
  status: z.enum(['pass', 'fail', 'skipped', 'not_in_baseline']),
  reason: z.string().optional(),
  checks: z.array(baselineCheckSchema),
  /** Which side had only client-bound repetitions (load generator saturated or delayed): a verdict to confirm by a rerun. */
  client_bound: z.enum(['run', 'baseline', 'both']).optional(),
  /** Issue 13: repetitions left out on each side because other processes took CPU during them (core/gates/baseline.ts). */
  disturbed_left_out: z.object({ run: z.number().int().nonnegative(), baseline: z.number().int().nonnegative() }).optional(),
});

/** The regression gate's result, stored in the run summary. */
export const baselineReportSchema = z.object({
  file: z.string(),
  tolerances: baselineTolerancesSchema,
  verdicts: z.array(baselineLevelVerdictSchema),
  /** Issue 13: whether the baseline applies to this run (machine, workload); absent in older summaries. */
  applicability: z
    .object({
      /** False: the baseline as a whole was not judged (another machine, or no fingerprint); `verdicts` is empty. */
      judged: z.boolean(),
      /** One line per reason it, or one of its scenarios, was not judged. */
      reasons: z.array(z.object({ scenario: z.string().optional(), reason: z.string() })),
      /** This machine's calibration score against the baseline's: + slower, - faster, in % (max/min - 1). */
      calibration_change_pct: z.number().optional(),
      calibration_margin_pct: z.number().nonnegative(),
      require_same_machine: z.boolean(),
      /** With strict, a baseline not judged fails the run. */
      strict: z.boolean(),
      /** The baseline's machine, as recorded (absent for an old baseline). */
      baseline_machine: machineFingerprintSchema.optional(),
    })
    .optional(),
});

/** The `report:` section of config.yaml, as resolved. */
export const reportSettingsSchema = z.object({
  hardware_env: z.string(),
  software_env: z.string(),
  num_nodes: z.string(),
  template: z.string().optional(),
});

/** The verdict of the whole run: what the exit status says, and why. */
export const outcomeSchema = z.object({
  /** `pass`: every judged SLO and baseline check held; `fail`: one did not; `interrupted`: the run was cut short. */
  status: z.enum(['pass', 'fail', 'interrupted']),
  /** 0 pass, 1 fail, 130 / 143 interrupted by SIGINT / SIGTERM. */
  exit_code: z.number().int().nonnegative(),
  /** One line per broken SLO or baseline check, as printed. */
  failures: z.array(z.string()),
});

/** The JSON summary written to `runs/<run_label>_summary.json`. */
export const runSummarySchema = z.object({
  format: z.literal(SUMMARY_FORMAT),
  version: z.literal(SUMMARY_FORMAT_VERSION),
  run_label: z.string(),
  started_at: z.string(),
  finished_at: z.string(),
  /** True when the run was interrupted; some levels may be partial or missing. */
  interrupted: z.boolean(),
  report: reportSettingsSchema,
  scenarios: z.array(scenarioSummarySchema),
  /** Issue 13: the machine the run was measured on, calibrated at its start; absent in older summaries. */
  machine: machineFingerprintSchema.optional(),
  /** Comparison with a committed baseline, when config.yaml has `baseline:`. */
  baseline: baselineReportSchema.optional(),
  /** Set when the run ended (absent in the files rewritten after each level). */
  outcome: outcomeSchema.optional(),
  // --- resources and scaling sweep (issue 16), optional: older summaries have neither ---
  /** What the resource sampler watched, or why it could not. */
  resources: runResourcesSchema.optional(),
  /** Set on each run of a scaling sweep (`scaling:` in config.yaml): its replica count. */
  scaling: replicaRunSchema.optional(),
  // --- distributed runs (issue 15), optional ---
  /** Set in a run shard's summary: which shard, the config hash the merge checks. */
  run_shard: runShardInfoSchema.optional(),
  /** Set in a merged run: the shards it adds up. */
  merged_from: mergedFromSchema.optional(),
});

export type SloSpec = z.infer<typeof sloThresholdsSchema>;
export type SloMetric = (typeof SLO_METRICS)[number];
export type SloCheck = z.infer<typeof sloCheckSchema>;
export type SloVerdict = z.infer<typeof sloVerdictSchema>;
export type MeasuredLevel = z.infer<typeof measuredLevelSchema> | z.infer<typeof partialLevelSchema>;
export type SkippedLevel = z.infer<typeof skippedLevelSchema>;
export type LevelResult = z.infer<typeof levelSchema>;
export type WorkloadSnapshot = z.infer<typeof workloadSnapshotSchema>;
export type ScenarioSummary = z.infer<typeof scenarioSummarySchema>;
export type BaselineTolerances = z.infer<typeof baselineTolerancesSchema>;
export type BaselineMetric = (typeof BASELINE_METRICS)[number];
export type BaselineCheck = z.infer<typeof baselineCheckSchema>;
export type BaselineLevelVerdict = z.infer<typeof baselineLevelVerdictSchema>;
export type BaselineReport = z.infer<typeof baselineReportSchema>;
export type ReportSettings = z.infer<typeof reportSettingsSchema>;
export type RunOutcome = z.infer<typeof outcomeSchema>;
export type RunSummary = z.infer<typeof runSummarySchema>;
export type MachineFingerprint = z.infer<typeof machineFingerprintSchema>;
export type BaselineApplicability = NonNullable<BaselineReport['applicability']>;
/** A scenario without its levels: what stays the same for every level of it. */
export type ScenarioSnapshot = Omit<ScenarioSummary, 'levels'>;

/** Whether a level is open-loop (`arrival_rates`): its `concurrency` is then its target rate. */
export function isOpenLoop(level: Pick<LevelResult, 'target_rate_rps'>): boolean {
  return level.target_rate_rps !== undefined;
}

/** A level as messages name it: its concurrency, or the level itself (an open-loop level has `target_rate_rps`). */
export type LevelRef = number | { concurrency: number; target_rate_rps?: number };

/** How a level is named in every message: `concurrency 8`, or `200 req/s` for an open-loop level. */
export function levelName(level: LevelRef): string {
  if (typeof level === 'number') return `concurrency ${level}`;
  return level.target_rate_rps !== undefined ? `${level.target_rate_rps} req/s` : `concurrency ${level.concurrency}`;
}

/** Whether a scenario is open-loop (its workload has arrival rates). */
export function isOpenLoopScenario(s: Pick<ScenarioSummary, 'workload'>): boolean {
  return (s.workload.arrival_rates?.length ?? 0) > 0;
}

/** Whether a level was run (to its end or cut short), so that it has figures. */
export function isMeasured(level: LevelResult): level is MeasuredLevel {
  return level.status !== 'skipped';
}

/** The measured levels of a scenario (partial ones included), in concurrency order. */
export function measuredLevels(s: Pick<ScenarioSummary, 'levels'>): MeasuredLevel[] {
  return s.levels.filter(isMeasured).sort((a, b) => a.concurrency - b.concurrency || (a.repetition ?? 1) - (b.repetition ?? 1));
}

/** A measured level from what the engine measured and the SLO verdict. */
export function measuredLevel(m: LevelMeasurement, slo: SloVerdict, repetition?: number): MeasuredLevel {
  const { partial, ...figures } = m;
  const rate = m.open_loop ? { target_rate_rps: m.open_loop.target_rate_rps } : {};
  return { status: partial ? 'partial' : 'measured', ...figures, ...rate, ...(repetition ? { repetition } : {}), slo };
}

// The engine's measurement and the schema describe the same figures: a change to one must reach the other.
type EngineFigures = Omit<LevelMeasurement, 'partial'>;
type SchemaFigures = Omit<MeasuredLevel, 'status' | 'slo' | 'repetition' | 'resources' | 'run_shard' | 'shard_merge' | 'target_rate_rps'>;
const _sameFigures: [EngineFigures, SchemaFigures] extends [SchemaFigures, EngineFigures] ? true : never = true;
void _sameFigures;

export { CLIENT_BOUND_LIMITS, GENERATOR_DELAY_NOTE_MS } from '../../engine/client-bound.ts';
export { decodeHistogram } from '../../engine/histogram.ts';
