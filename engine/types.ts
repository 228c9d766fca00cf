/**
 * The engine's own vocabulary: what a level measures and how it reports. The engine imports
 * nothing of loadbench's above it; the summary model (core/model) is built on these types.
 */

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
  // Open loop: an arrival not sent because max_in_flight requests were outstanding (it counts in the error rate).
  'dropped',
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
  /** The second's HDR histogram of successful latencies (µs, compressed base64); kept only when asked (run shards). */
  histogram?: string;
  /** Open loop: counted arrivals sent in this second (the achieved rate); absent in a closed loop. */
  sent?: number;
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

/** An error message seen at a level, as the target or the OS gave it. */
export interface ErrorSample {
  category: ErrorCategory;
  message: string;
}

/** What an open-loop level measured besides a closed level's figures (`latency_ms` is then timed from each request's due time). */
export interface OpenLoopFigures {
  /** Arrivals per second of the schedule (of the whole schedule, when this run sent only a part of it). */
  target_rate_rps: number;
  /** Counted arrivals sent / measured time. */
  achieved_rate_rps: number;
  arrivals: 'constant' | 'poisson';
  /** Seed of a Poisson schedule (absent for constant). */
  seed?: number;
  /** The run's part of the global schedule, when it sent only a part (distributed shards). */
  partition?: { index: number; count: number };
  /** Outstanding requests allowed (`max_in_flight`); an arrival beyond them is dropped. */
  max_in_flight: number;
  /** Counted arrivals sent. */
  sent: number;
  /** Counted arrivals not sent since max_in_flight requests were outstanding; also `errors.dropped`, and in the error rate. */
  dropped: number;
  /**
   * Counted arrivals the schedule had due in the measured window (sent, dropped, or never reached
   * by a generator that fell behind). `min_achieved_rate_pct` judges sent / scheduled, so that a
   * Poisson level's own randomness is not taken for a shortfall.
   */
  scheduled: number;
  /** Most requests outstanding at once (with generator threads: the sum of each thread's most, an upper bound). */
  max_in_flight_seen: number;
  /** Counted requests still outstanding when the level ended: aborted, not counted in requests. */
  in_flight_at_end: number;
  /** Response end - actual send, of the successes. */
  service_time_ms: LatencyMs;
  /** Actual send - due time, of the sent arrivals. */
  schedule_lag_ms: LatencyMs;
  /** HDR histogram of the service times in µs, compressed base64. */
  service_histogram: string;
  /** HDR histogram of the schedule lags in µs, compressed base64. */
  schedule_lag_histogram: string;
}

/** Everything the engine measured at one level. */
export interface LevelMeasurement {
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
  /** A few distinct error messages per category, as long as {@link MAX_ERROR_SAMPLE_SOURCE_LENGTH}; the caller redacts and cuts them. */
  error_samples: ErrorSample[];
  /** Count per HTTP status ("200", "503", ...). */
  status_codes: Record<string, number>;
  /** HDR histogram of all counted latencies in microseconds, compressed base64 (hdr-histogram-js). */
  histogram: string;
  timeline: TimelinePoint[];
  generator: GeneratorLoad;
  /** True when the level was cut short (its abort signal fired). */
  partial: boolean;
  /** Set for an open-loop level (`arrival_rates`): `concurrency` then holds its target rate. */
  open_loop?: OpenLoopFigures;
}

/** Progress event emitted by the engine about once a second while a level runs. */
export interface ProgressEvent {
  scenario: string;
  concurrency: number;
  /** Set for an open-loop level: `concurrency` is then this rate. */
  target_rate_rps?: number;
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

/** What `check(response)` receives; the body is buffered only when a check is set. */
export interface CheckResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
  json<T = unknown>(): T;
}

/** Context given to a payload function, so that every body can be unique. */
export interface PayloadContext {
  level: number;
  worker: number;
  iteration: number;
  challengeId: string;
}

/** A response check: the request fails (`check_failed`) when it returns `false` or throws. */
export type ResponseCheck = (response: CheckResponse) => boolean | void;

/** Where raw rows go; `write` returns false when the consumer wants the engine to wait for `drain`. */
export interface RawSink {
  write(chunk: string | Uint8Array): boolean;
  waitDrain(): Promise<void>;
}

/**
 * Error samples are kept up to this many characters. The caller redacts secrets on this text and
 * only then cuts it to {@link ERROR_SAMPLE_LENGTH}: a secret cut in two would no longer match.
 */
export const MAX_ERROR_SAMPLE_SOURCE_LENGTH = 2000;
/** Length of an error sample in the results, after redaction. */
export const ERROR_SAMPLE_LENGTH = 200;
