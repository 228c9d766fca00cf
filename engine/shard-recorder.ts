/**
 * The bookkeeping of a shard: what its requests gave. Counts, failures per error category with a
 * few samples of each, counts per status code, the latency histograms (whole level and current
 * second), the per-second reports of the measured phase and the raw CSV rows with their timed
 * flush and back-pressure. It decides nothing about sending; the shard tells it what happened.
 */
import { performance } from 'node:perf_hooks';
import type { Histogram } from 'hdr-histogram-js';
import { HIGHEST_TRACKABLE_US, createLatencyHistogram, encodeHistogram } from './histogram.ts';
import { RawRowEncoder } from './raw-rows.ts';
import type { OpenShardResult, SecondReport, ShardCounters, ShardHooks, ShardPlan, ShardResult } from './shard-types.ts';
import { ERROR_CATEGORIES, ERROR_SAMPLE_LENGTH, MAX_ERROR_SAMPLE_SOURCE_LENGTH, type ErrorCategory } from './types.ts';

const MAX_ERROR_SAMPLES_PER_CATEGORY = 3;
/**
 * Partly filled raw chunks are handed out at least this often while the level runs, so that a
 * killed process leaves every row up to the last second on disk: the file lags by at most this
 * plus a tick (≤ 100 ms) and the write. One write per interval, never one per row.
 */
export const RAW_FLUSH_INTERVAL_MS = 500;

/** A duration in ms as a histogram value in µs (1 µs to the histogram's top). */
const toUs = (ms: number): number => Math.min(HIGHEST_TRACKABLE_US, Math.max(1, Math.round(ms * 1000)));

/** What an open-loop shard records besides a closed loop's figures. */
interface OpenFigures {
  service: Histogram;
  lag: Histogram;
  sent: number;
  dropped: number;
}

const CATEGORY_INDEX: ReadonlyMap<ErrorCategory, number> = new Map(ERROR_CATEGORIES.map((c, i) => [c, i] as const));

/** Records the outcome of a shard's counted requests and hands out its seconds and raw rows. */
export class ShardRecorder {
  /** Latencies of every counted success, µs. */
  readonly histogram: Histogram = createLatencyHistogram();
  readonly #secondHistogram: Histogram = createLatencyHistogram();
  readonly #hooks: ShardHooks;
  readonly #errors = new Float64Array(ERROR_CATEGORIES.length);
  /** Up to three samples per category: the first {@link ERROR_SAMPLE_LENGTH} characters, then the kept text. */
  readonly #errorSamples = new Map<ErrorCategory, Map<string, string>>();
  /** Count per status code 0-999 (0: no response). */
  readonly #statusCounts = new Float64Array(1000);
  readonly #rows: RawRowEncoder | null;
  readonly #timeOrigin = performance.timeOrigin;
  #requests = 0;
  #successes = 0;
  #failures = 0;
  #warmupRequests = 0;
  #tMeasure = 0;
  #secIndex = 0;
  #sec: SecondReport = { index: 0, requests: 0, successes: 0, failures: 0, sent: 0 };
  #rawBlocked: Promise<void> | null = null;
  readonly #open: OpenFigures | null;
  /** When raw rows were last handed out (`performance.now()`). */
  #lastRawFlush = 0;

  constructor(plan: Pick<ShardPlan, 'scenario' | 'levelConcurrency' | 'raw' | 'open'>, hooks: ShardHooks) {
    this.#hooks = hooks;
    this.#rows = plan.raw ? new RawRowEncoder(plan.scenario, plan.levelConcurrency) : null;
    this.#open = plan.open ? { service: createLatencyHistogram(), lag: createLatencyHistogram(), sent: 0, dropped: 0 } : null;
  }

  /**
   * Set while the consumer of raw rows is behind (back-pressure): the shard sends nothing until it
   * settles, so that memory does not grow without bound.
   */
  get rawBlocked(): Promise<void> | null {
    return this.#rawBlocked;
  }

  /** The shard starts sending at `now`: the raw flush clock starts. */
  start(now: number): void {
    this.#lastRawFlush = now;
  }

  /** The measured phase starts at `tMeasure` (this thread's `performance.now()` clock): second 0 begins. */
  beginMeasure(tMeasure: number): void {
    this.#tMeasure = tMeasure;
    this.#secIndex = 0;
    this.#sec = { index: 0, requests: 0, successes: 0, failures: 0, sent: 0 };
    this.#secondHistogram.reset();
  }

  /** A request of the warm-up ended (it is counted nowhere else). */
  warmup(): void {
    this.#warmupRequests++;
  }

  /**
   * A counted request ended at `end` (ms, `performance.now()`); its latency is `end - start`.
   * `category` undefined is a success; otherwise `message` may become a sample of that category.
   */
  record(worker: number, start: number, end: number, status: number, category: ErrorCategory | undefined, message: string): void {
    const index = Math.floor((end - this.#tMeasure) / 1000);
    if (index !== this.#secIndex) this.#rollTo(index);
    const latencyUs = toUs(end - start);
    this.#requests++;
    this.#sec.requests++;
    this.#statusCounts[status < 1000 ? status : 0]!++;
    if (category === undefined) {
      this.#successes++;
      this.#sec.successes++;
      this.histogram.recordValue(latencyUs);
      this.#secondHistogram.recordValue(latencyUs);
    } else {
      this.#failures++;
      this.#errors[CATEGORY_INDEX.get(category)!]!++;
      this.#sec.failures++;
      this.#sampleError(category, message);
    }
    const rows = this.#rows;
    if (rows !== null) {
      rows.row(worker, Math.round(this.#timeOrigin + end), latencyUs, status, category);
      if (rows.full) this.#flushRaw();
    }
  }

  /**
   * Open loop: a counted request ended at `end`. Its latency is counted from `due`, the time the
   * schedule meant it to leave (so that a stall delays every arrival it held up), its service
   * time from `send`, when it actually left.
   */
  recordOpen(worker: number, due: number, send: number, end: number, status: number, category: ErrorCategory | undefined, message: string): void {
    this.record(worker, due, end, status, category, message);
    if (category === undefined) this.#open!.service.recordValue(toUs(end - send));
  }

  /** Open loop: a counted arrival due at `due` left at `send` (now); its schedule lag is `send - due`. */
  sent(due: number, send: number): void {
    const open = this.#open!;
    const index = Math.floor((send - this.#tMeasure) / 1000);
    if (index > this.#secIndex) this.#rollTo(index);
    open.sent++;
    this.#sec.sent++;
    open.lag.recordValue(toUs(send - due));
  }

  /**
   * Open loop: a counted arrival due at `due` was not sent, since the shard's `max_in_flight`
   * requests were outstanding. It counts as a request that failed (`dropped`): the user it stands
   * for got no answer. It has no raw row, since nothing was sent.
   */
  dropped(due: number, message: string): void {
    const open = this.#open!;
    const index = Math.floor((due - this.#tMeasure) / 1000);
    if (index > this.#secIndex) this.#rollTo(index);
    open.dropped++;
    this.#requests++;
    this.#failures++;
    this.#sec.requests++;
    this.#sec.failures++;
    this.#errors[CATEGORY_INDEX.get('dropped')!]!++;
    this.#sampleError('dropped', message);
  }

  /**
   * The shard's periodic tick at `now`: while `measuring`, the seconds up to now are reported (seconds
   * without any response too, so the timeline has no holes); raw rows are flushed by the clock.
   */
  tick(now: number, measuring: boolean): void {
    if (measuring) {
      const index = Math.floor((now - this.#tMeasure) / 1000);
      if (index > this.#secIndex) this.#rollTo(index);
    }
    // A slow level may take minutes to fill a chunk; a killed process must not lose those rows.
    // While the consumer is behind (back-pressure) the rows wait: the next flush takes them.
    if (this.#rows !== null && this.#rows.size > 0 && this.#rawBlocked === null && now - this.#lastRawFlush >= RAW_FLUSH_INTERVAL_MS) this.#flushRaw();
  }

  /** A snapshot for progress events. */
  counters(): ShardCounters {
    return { requests: this.#requests, successes: this.#successes, failures: this.#failures, warmupRequests: this.#warmupRequests };
  }

  /**
   * The shard ended: reports the last second (when `measuring` and it has requests), hands out the
   * last raw rows and returns the counts. `endEpochMs`: end of the measured phase (0 when none).
   */
  finish(measuring: boolean, endEpochMs: number): ShardResult {
    if (measuring && this.#sec.requests > 0) {
      this.#hooks.second(this.#sec, this.#secondHistogram);
      this.#secondHistogram.reset();
      this.#sec = { index: this.#secIndex + 1, requests: 0, successes: 0, failures: 0, sent: 0 };
    }
    this.#flushRaw();
    const statusCodes: [number, number][] = [];
    this.#statusCounts.forEach((n, status) => {
      if (n > 0 && status > 0) statusCodes.push([status, n]);
    });
    return {
      requests: this.#requests,
      successes: this.#successes,
      warmupRequests: this.#warmupRequests,
      errors: [...this.#errors],
      statusCodes,
      errorSamples: [...this.#errorSamples].flatMap(([category, samples]) => [...samples.values()].map((m): [ErrorCategory, string] => [category, m])),
      endEpochMs,
      ...(this.#open ? { open: this.#openResult() } : {}),
    };
  }

  /** The open-loop counts and histograms; `scheduled`, `maxInFlightSeen` and `inFlightAtEnd` are the shard's to fill in. */
  #openResult(): OpenShardResult {
    const open = this.#open!;
    return { sent: open.sent, dropped: open.dropped, scheduled: 0, maxInFlightSeen: 0, inFlightAtEnd: 0, serviceHistogram: encodeHistogram(open.service), lagHistogram: encodeHistogram(open.lag) };
  }

  /** Frees the WASM histograms. */
  dispose(): void {
    this.histogram.destroy();
    this.#secondHistogram.destroy();
    this.#open?.service.destroy();
    this.#open?.lag.destroy();
  }

  /** Reports the current second (and any empty ones after it) up to `index`. */
  #rollTo(index: number): void {
    while (this.#secIndex < index) {
      this.#hooks.second(this.#sec, this.#secondHistogram);
      this.#secondHistogram.reset();
      this.#secIndex++;
      this.#sec = { index: this.#secIndex, requests: 0, successes: 0, failures: 0, sent: 0 };
    }
  }

  #sampleError(category: ErrorCategory, message: string): void {
    let samples = this.#errorSamples.get(category);
    if (!samples) this.#errorSamples.set(category, (samples = new Map()));
    // Told apart by what the results will show: messages that differ only past the cut would
    // fill the slots with samples that read the same.
    const key = message.slice(0, ERROR_SAMPLE_LENGTH);
    if (samples.size < MAX_ERROR_SAMPLES_PER_CATEGORY && !samples.has(key)) samples.set(key, message.slice(0, MAX_ERROR_SAMPLE_SOURCE_LENGTH));
  }

  /** Hands the raw rows so far to `hooks.raw` (dropped when there is no consumer). */
  #flushRaw(): void {
    this.#lastRawFlush = performance.now();
    const chunk = this.#rows?.take();
    if (!chunk || !this.#hooks.raw) return;
    const ok = this.#hooks.raw(chunk);
    if (!ok && !this.#rawBlocked && this.#hooks.rawDrain) {
      // Back-pressure: connections wait for the disk instead of memory growing without bound.
      this.#rawBlocked = this.#hooks.rawDrain().then(() => {
        this.#rawBlocked = null;
      });
    }
  }
}
