/**
 * Shared, JSON-serializable result types. These are the contract between the load engine
 * (runs inside a Vitest worker), the reporters (run in the main process) and every tool that
 * reads `runs/<run_label>_summary.json` later (report regeneration, run comparison, baselines).
 *
 * Bump {@link SUMMARY_FORMAT_VERSION} whenever a field changes meaning or disappears.
 */

/** The `format` tag written into every JSON summary. */
export const SUMMARY_FORMAT = 'loadbench-summary' as const;
/** Version of the JSON summary layout; readers refuse other versions with a clear message. */
export const SUMMARY_FORMAT_VERSION = 1 as const;

/** Every error category, in the order used for CSV columns and charts. */
export const ERROR_CATEGORIES = [
  'timeout',
  'connect_refused',
  'connection_reset',
  'http_4xx',
  'http_5xx',
  'check_failed',
  'body_too_large',
  'invalid_response',
  'other',
] as const;

/** Why a request failed. */
export type ErrorCategory = (typeof ERROR_CATEGORIES)[number];

/** Count of failures per category; every category is present (0 when none). */
export type ErrorCounts = Record<ErrorCategory, number>;

/** Latency figures of one level, in milliseconds, measured end to end by the client. */
export interface LatencyMs {
  min: number;
  mean: number;
  stddev: number;
  p50: number;
  p90: number;
  p95: number;
  p99: number;
  p999: number;
  max: number;
}

/** One second of a level, for the timeline chart. */
export interface TimelinePoint {
  /** Start of this second, ms since the Unix epoch. */
  t_ms: number;
  requests: number;
  successes: number;
  failures: number;
  /** p95 latency of the requests that completed in this second (0 when none). */
  p95_ms: number;
}

/** The SLO thresholds of a scenario; every field optional. */
export interface SloSpec {
  p50_ms?: number;
  p95_ms?: number;
  p99_ms?: number;
  error_rate_pct?: number;
  min_throughput_rps?: number;
  /** Only levels with concurrency <= this are judged. */
  up_to_concurrency?: number;
}

/** The SLO metrics a check can be about. */
export type SloMetric = 'p50_ms' | 'p95_ms' | 'p99_ms' | 'error_rate_pct' | 'min_throughput_rps';

/** One threshold compared with one measured value. */
export interface SloCheck {
  metric: SloMetric;
  limit: number;
  value: number;
  pass: boolean;
  /** A latency limit on a level without a successful request: failed, with nothing to compare. */
  no_data?: boolean;
}

/** The SLO verdict of one level. `judged` is false when the level is above `up_to_concurrency` or was skipped. */
export interface SloVerdict {
  judged: boolean;
  pass: boolean;
  checks: SloCheck[];
}

/** How busy the load generator itself was during a level. */
export interface GeneratorLoad {
  /** Process CPU time / wall time, in percent of one core. */
  cpu_pct: number;
  /** p99 of the event-loop delay, ms. */
  event_loop_delay_p99_ms: number;
  /** True when the generator, not the target, was probably the limit. */
  client_bound: boolean;
  /** Generator threads that ran the level (`generator_threads`); absent when 1. */
  threads?: number;
}

/** Everything measured at one concurrency level of one scenario. */
export interface LevelSummary {
  scenario: string;
  concurrency: number;
  /** Counted requests (the warm-up excluded). */
  requests: number;
  successes: number;
  failures: number;
  error_rate_pct: number;
  /** Successful requests / measured wall time. */
  throughput_rps: number;
  latency_ms: LatencyMs;
  /** Measured wall time (warm-up excluded), seconds. */
  duration_s: number;
  /** Start of the measured window, ms since the Unix epoch. */
  started_at_ms: number;
  /** Requests sent during the warm-up (not counted anywhere else). */
  warmup_requests: number;
  errors: ErrorCounts;
  /** A few distinct error messages per category, truncated, as the target or the OS gave them. */
  error_samples: { category: ErrorCategory; message: string }[];
  /** Count per HTTP status ("200", "503", ...). */
  status_codes: Record<string, number>;
  /** HDR histogram of all counted latencies in microseconds, compressed base64 (hdr-histogram-js). */
  histogram: string;
  timeline: TimelinePoint[];
  slo: SloVerdict;
  generator: GeneratorLoad;
  /** True when the level was cut short (interrupt). */
  partial: boolean;
  /** True when the level was not run (stop_on_slo_failure after an earlier failure). */
  skipped: boolean;
  /** 1-based repetition of this level when `repetitions` > 1 (absent otherwise). */
  repetition?: number;
}

/** What a scenario sent, with credentials removed. */
export interface WorkloadSnapshot {
  url: string;
  method: string;
  /** Header names sent (values omitted: they may hold credentials). */
  header_names: string[];
  /** The payload with every leaf replaced by its type, or "function" for generated payloads. */
  payload_shape: unknown;
  concurrency_levels: number[];
  duration_seconds?: number;
  requests_per_level?: number;
  warmup_seconds: number;
  timeout_seconds: number;
  challenge_id: string;
}

/** All results of one scenario. */
export interface ScenarioSummary {
  name: string;
  /** Bench file, relative to the project root. */
  file: string;
  workload: WorkloadSnapshot;
  slo: SloSpec;
  levels: LevelSummary[];
  /** The scenario's `baseline` option: tolerances replacing config.yaml's for this scenario, or `false` (not judged). */
  baseline_override?: false | Partial<BaselineReport['tolerances']>;
}

/** The JSON summary written to `runs/<run_label>_summary.json`. */
export interface RunSummary {
  format: typeof SUMMARY_FORMAT;
  version: typeof SUMMARY_FORMAT_VERSION;
  run_label: string;
  started_at: string;
  finished_at: string;
  /** True when the run was interrupted; some levels may be partial or missing. */
  interrupted: boolean;
  /** The report: section of config.yaml, as resolved. */
  report: { hardware_env: string; software_env: string; num_nodes: string; template?: string };
  scenarios: ScenarioSummary[];
  /** Comparison with a committed baseline, when config.yaml has `baseline:`. */
  baseline?: BaselineReport;
}

/** The baseline metrics a regression gate judges. */
export type BaselineMetric = 'p95_ms' | 'throughput_rps' | 'error_rate_pct';

/** One metric of one level compared with the baseline (medians over repetitions). */
export interface BaselineCheck {
  metric: BaselineMetric;
  baseline: number;
  value: number;
  /** Percent change for p95 and throughput, percentage points for the error rate. */
  change: number;
  /** The tolerance: max increase (p95, error rate) or max drop (throughput). */
  limit: number;
  pass: boolean;
}

/** The baseline verdict of one scenario and level. */
export interface BaselineLevelVerdict {
  scenario: string;
  concurrency: number;
  status: 'pass' | 'fail' | 'skipped' | 'not_in_baseline';
  reason?: string;
  checks: BaselineCheck[];
  /** Which side had only client-bound repetitions (load generator saturated or delayed): a verdict to confirm by a rerun. */
  client_bound?: 'run' | 'baseline' | 'both';
}

/** The regression gate's result, stored in the run summary. */
export interface BaselineReport {
  file: string;
  tolerances: {
    max_p95_increase_pct: number;
    max_throughput_drop_pct: number;
    max_error_rate_increase_pct: number;
    min_requests: number;
  };
  verdicts: BaselineLevelVerdict[];
}

/** What a bench task writes into `task.meta.loadbench`, read by the reporters. */
export interface LevelMeta {
  scenario: Omit<ScenarioSummary, 'levels'>;
  level: LevelSummary;
}

/** Progress event emitted by the engine about once a second while a level runs. */
export interface ProgressEvent {
  scenario: string;
  concurrency: number;
  phase: 'warmup' | 'measure';
  elapsed_s: number;
  /** Planned measured duration (s), or undefined for requests_per_level. */
  total_s?: number;
  /** Planned request count, for requests_per_level. */
  total_requests?: number;
  requests: number;
  failures: number;
  current_rps: number;
  p95_ms: number;
}
