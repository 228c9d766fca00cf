import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { Client, type Dispatcher } from 'undici';
import type { Histogram } from 'hdr-histogram-js';
import { emptyErrorCounts, errorRatePct, latencyFromHistogram, throughputRps } from '../stats.ts';
import type { ErrorCategory, GeneratorLoad, LevelSummary, ProgressEvent, TimelinePoint } from '../types.ts';
import { ERROR_CATEGORIES } from '../types.ts';
import { BodyTooLargeError, RequestTimeoutError, classifyError, classifyStatus } from './classify-error.ts';
import { HIGHEST_TRACKABLE_US, createLatencyHistogram, encodeHistogram, initHistograms } from './histogram.ts';

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

/** Where raw rows go; `write` returns false when the consumer wants the engine to wait for `drain`. */
export interface RawSink {
  write(chunk: string): boolean;
  waitDrain(): Promise<void>;
}

/** Everything the engine needs to run one concurrency level. Built once per level by the scenario. */
export interface LevelPlan {
  scenario: string;
  concurrency: number;
  url: URL;
  method: Dispatcher.HttpMethod;
  headers: Record<string, string>;
  /** A fixed body (serialised once) or a function producing one per request. */
  body?: string | ((ctx: PayloadContext) => string);
  challengeId: string;
  durationSeconds?: number;
  requestsPerLevel?: number;
  warmupSeconds: number;
  timeoutSeconds: number;
  maxBodyBytes: number;
  check?: (response: CheckResponse) => boolean | void | Promise<boolean | void>;
  raw?: RawSink;
  onProgress?: (event: ProgressEvent) => void;
  /** Aborting ends the level at once; the result is marked partial. */
  signal?: AbortSignal;
  /** Generator saturation thresholds (defaults: 90% of a core, 20 ms event-loop delay p99). */
  clientBound?: { cpuPct: number; eventLoopP99Ms: number };
}

/** The measured part of a level summary (the SLO verdict is added by the caller). */
export type LevelMeasurement = Omit<LevelSummary, 'slo' | 'skipped'>;

const MAX_ERROR_SAMPLES_PER_CATEGORY = 3;
const MAX_SAMPLE_LENGTH = 200;
const RAW_FLUSH_CHARS = 64 * 1024;
const ELD_RESOLUTION_MS = 10;
/**
 * Event-loop delay p99 above which a level counts as client-bound. A few ms of delay are common
 * when the target shares the machine's cores (the generator is descheduled, not saturated);
 * 20 ms late timers distort latencies enough to distrust the level.
 */
export const CLIENT_BOUND_EVENT_LOOP_MS = 20;
/** How long an interrupted level waits for its in-flight requests. */
const INTERRUPT_GRACE_MS = 1000;

/** Thrown into in-flight requests when the level ends; such requests are not counted. */
class LevelEndedError extends Error {
  readonly code = 'LOADBENCH_LEVEL_ENDED';
}

function csvField(text: string): string {
  return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/**
 * Closed-loop load at one concurrency level: `concurrency` workers, each with its own undici
 * `Client` (one connection), each sending its next request as soon as the previous one ended.
 * Uses undici's `dispatch()` handler API, so no body stream or promise is created per response.
 * Never prints; reports progress through `onProgress`.
 */
export async function runLevel(plan: LevelPlan): Promise<LevelMeasurement> {
  await initHistograms();
  const run = new LevelRun(plan);
  try {
    return await run.execute();
  } finally {
    run.dispose();
  }
}

/** One worker: one connection, one request in flight. It is its own undici handler, reused for every request. */
class Worker implements Dispatcher.DispatchHandler {
  readonly client: Client;
  readonly opts: Dispatcher.DispatchOptions;
  iteration = 0;
  inFlight = false;
  counted = false;
  start = 0;
  status = 0;
  bytes = 0;
  rawHeaders: Buffer[] | string[] | null = null;
  chunks: Buffer[] | null = null;
  abortFn: ((err?: Error) => void) | null = null;
  settled = false;
  readonly next = (): void => this.run.send(this);

  constructor(
    readonly id: number,
    readonly run: LevelRun,
    plan: LevelPlan,
  ) {
    const timeoutMs = plan.timeoutSeconds * 1000;
    this.client = new Client(plan.url.origin, {
      pipelining: 1,
      connect: { timeout: timeoutMs },
      // Backstops only: the engine's own sweep enforces the total timeout (headers + body).
      headersTimeout: timeoutMs + 1000,
      bodyTimeout: timeoutMs + 1000,
      keepAliveTimeout: 30_000,
    });
    this.opts = {
      path: plan.url.pathname + plan.url.search,
      method: plan.method,
      headers: plan.headers,
      body: typeof plan.body === 'string' ? Buffer.from(plan.body) : undefined,
    };
  }

  onConnect(abort: (err?: Error) => void): void {
    this.abortFn = abort;
  }

  onHeaders(statusCode: number, rawHeaders: Buffer[] | string[] | null): boolean {
    this.status = statusCode;
    if (this.chunks) this.rawHeaders = rawHeaders;
    return true;
  }

  onData(chunk: Buffer): boolean {
    this.bytes += chunk.length;
    if (this.bytes > this.run.plan.maxBodyBytes) {
      this.abortFn?.(new BodyTooLargeError(this.run.plan.maxBodyBytes));
      return false;
    }
    if (this.chunks) this.chunks.push(chunk);
    return true;
  }

  onComplete(): void {
    this.run.complete(this, undefined);
  }

  onError(err: Error): void {
    this.run.complete(this, err);
  }
}

function headersToRecord(raw: Buffer[] | string[] | null): Record<string, string> {
  const out: Record<string, string> = {};
  if (!raw) return out;
  for (let i = 0; i + 1 < raw.length; i += 2) out[String(raw[i]).toLowerCase()] = String(raw[i + 1]);
  return out;
}

/** State of one running level. */
class LevelRun {
  readonly workers: Worker[] = [];
  readonly histogram: Histogram = createLatencyHistogram();
  readonly secondHistogram: Histogram = createLatencyHistogram();
  readonly errors = new Float64Array(ERROR_CATEGORIES.length);
  readonly errorSamples = new Map<ErrorCategory, Set<string>>();
  readonly statusCodes = new Map<number, number>();
  readonly timeline: TimelinePoint[] = [];
  readonly categoryIndex = new Map(ERROR_CATEGORIES.map((c, i) => [c, i] as const));
  readonly timeoutMs: number;
  readonly scenarioCsv: string;
  readonly rowPrefix: string;

  measuring = false;
  stopped = false;
  draining = false;
  drainTimer: NodeJS.Timeout | undefined;
  partial = false;
  tStart = 0;
  tMeasure = 0;
  tEnd = 0;
  warmupRequests = 0;
  requests = 0;
  successes = 0;
  toIssue = Infinity;
  inFlightCounted = 0;
  second = { start: 0, requests: 0, successes: 0, failures: 0 };
  rawBuffer = '';
  rawBlocked: Promise<void> | null = null;
  finish!: () => void;
  ticker: NodeJS.Timeout | undefined;
  lastProgress = { t: 0, requests: 0 };

  constructor(readonly plan: LevelPlan) {
    this.timeoutMs = plan.timeoutSeconds * 1000;
    this.scenarioCsv = csvField(plan.scenario);
    this.rowPrefix = `${this.scenarioCsv},${plan.concurrency},`;
    for (let i = 0; i < plan.concurrency; i++) this.workers.push(new Worker(i, this, plan));
  }

  async execute(): Promise<LevelMeasurement> {
    const { plan } = this;
    const cpuStart = process.cpuUsage();
    const eld = monitorEventLoopDelay({ resolution: ELD_RESOLUTION_MS });
    eld.enable();
    const done = new Promise<void>((resolve) => (this.finish = resolve));
    const onAbort = (): void => {
      this.partial = true;
      this.drain();
    };
    if (plan.signal?.aborted) onAbort();
    plan.signal?.addEventListener('abort', onAbort, { once: true });

    this.tStart = performance.now();
    if (plan.warmupSeconds > 0) {
      setTimeout(() => this.beginMeasure(), plan.warmupSeconds * 1000).unref();
    } else {
      this.beginMeasure();
    }
    const tick = Math.max(10, Math.min(100, this.timeoutMs / 4));
    this.ticker = setInterval(() => this.onTick(), tick);
    if (!this.stopped) for (const w of this.workers) this.send(w);
    await done;
    clearInterval(this.ticker);
    plan.signal?.removeEventListener('abort', onAbort);
    eld.disable();
    await this.closeClients();
    this.flushRaw(true);

    const wallMs = performance.now() - this.tStart;
    const cpu = process.cpuUsage(cpuStart);
    const cpuPct = wallMs > 0 ? ((cpu.user + cpu.system) / 1000 / wallMs) * 100 : 0;
    // The histogram holds whole timer intervals, so the resolution itself is subtracted to get the delay.
    const eldP99 = eld.count > 0 ? Math.max(0, eld.percentile(99) / 1e6 - ELD_RESOLUTION_MS) : 0;
    const limits = plan.clientBound ?? { cpuPct: 90, eventLoopP99Ms: CLIENT_BOUND_EVENT_LOOP_MS };
    const generator: GeneratorLoad = {
      cpu_pct: Math.round(cpuPct * 10) / 10,
      event_loop_delay_p99_ms: Math.round(eldP99 * 1000) / 1000,
      client_bound: cpuPct >= limits.cpuPct || eldP99 > limits.eventLoopP99Ms,
    };
    return this.result(generator);
  }

  beginMeasure(): void {
    if (this.stopped) return;
    this.measuring = true;
    this.tMeasure = performance.now();
    this.second = { start: this.tMeasure, requests: 0, successes: 0, failures: 0 };
    this.secondHistogram.reset();
    const { plan } = this;
    if (plan.requestsPerLevel !== undefined) {
      this.toIssue = plan.requestsPerLevel;
    } else {
      const ms = (plan.durationSeconds ?? 0) * 1000;
      setTimeout(() => this.stop(), ms).unref();
    }
  }

  /**
   * On interruption: send nothing more, give in-flight requests a short grace to finish (they
   * are counted), then end the level.
   */
  drain(): void {
    if (this.stopped || this.draining) return;
    this.draining = true;
    this.drainTimer = setTimeout(() => this.stop(), INTERRUPT_GRACE_MS);
    this.drainTimer.unref();
    if (this.workers.every((w) => !w.inFlight)) this.stop();
  }

  /** Ends the level now: no new requests, in-flight ones are aborted and not counted. */
  stop(): void {
    if (this.stopped) return;
    this.tEnd = this.measuring ? performance.now() : this.tStart;
    this.halt();
  }

  halt(): void {
    this.stopped = true;
    for (const w of this.workers) {
      if (!w.inFlight) continue;
      const ended = new LevelEndedError('level ended');
      // A request still queued (not yet connected) has no abort function: failing its client ends it.
      if (w.abortFn) w.abortFn(ended);
      else void w.client.destroy(ended).catch(() => undefined);
    }
    this.checkFinished();
  }

  checkFinished(): void {
    if (this.workers.every((w) => !w.inFlight)) this.finish();
  }

  send(w: Worker): void {
    if (this.stopped) {
      this.checkFinished();
      return;
    }
    if (this.draining) {
      if (this.workers.every((x) => !x.inFlight)) this.stop();
      return;
    }
    if (this.rawBlocked) {
      void this.rawBlocked.then(w.next);
      return;
    }
    if (this.measuring && this.plan.requestsPerLevel !== undefined) {
      if (this.toIssue <= 0) {
        if (this.inFlightCounted === 0) this.endRequestsMode();
        return;
      }
      this.toIssue--;
      this.inFlightCounted++;
      w.counted = true;
    } else {
      w.counted = false;
    }
    const body = this.plan.body;
    if (typeof body === 'function') {
      w.opts.body = body({
        level: this.plan.concurrency,
        worker: w.id,
        iteration: w.iteration,
        challengeId: this.plan.challengeId,
      });
    }
    w.iteration++;
    w.status = 0;
    w.bytes = 0;
    w.abortFn = null;
    if (this.plan.check) w.chunks = [];
    w.inFlight = true;
    w.start = performance.now();
    w.client.dispatch(w.opts, w);
  }

  endRequestsMode(): void {
    if (this.stopped) return;
    this.tEnd = performance.now();
    this.halt();
  }

  complete(w: Worker, err: Error | undefined): void {
    if (!w.inFlight) return;
    const end = performance.now();
    w.inFlight = false;
    if (err && (err as { code?: string }).code === 'LOADBENCH_LEVEL_ENDED') {
      if (w.counted) this.inFlightCounted--;
      this.checkFinished();
      return;
    }
    let category: ErrorCategory | undefined;
    let message = '';
    if (err) {
      category = classifyError(err);
      message = err.message;
    } else {
      category = classifyStatus(w.status);
      if (category) message = `HTTP ${w.status}`;
    }
    if (!category && this.plan.check) {
      const verdict = this.runCheck(w);
      if (verdict !== true) {
        category = 'check_failed';
        message = typeof verdict === 'string' ? verdict : 'check returned false';
      }
    }
    w.chunks = null;
    this.record(w, end, category, message);
    queueMicrotask(w.next);
  }

  runCheck(w: Worker): true | string | false {
    const body = Buffer.concat(w.chunks ?? []).toString('utf8');
    const response: CheckResponse = {
      status: w.status,
      headers: headersToRecord(w.rawHeaders),
      body,
      json: <T>() => JSON.parse(body) as T,
    };
    try {
      const out = this.plan.check!(response);
      if (out instanceof Promise) return 'check returned a Promise: checks must be synchronous';
      return out === false ? false : true;
    } catch (error) {
      return `check threw: ${(error as Error).message}`;
    }
  }

  record(w: Worker, end: number, category: ErrorCategory | undefined, message: string): void {
    const counted =
      this.plan.requestsPerLevel !== undefined ? w.counted : this.measuring && !this.stopped && end >= this.tMeasure;
    if (w.counted) this.inFlightCounted--;
    if (!counted) {
      this.warmupRequests++;
      return;
    }
    const latencyUs = Math.min(HIGHEST_TRACKABLE_US, Math.max(1, Math.round((end - w.start) * 1000)));
    this.requests++;
    this.second.requests++;
    if (w.status > 0) this.statusCodes.set(w.status, (this.statusCodes.get(w.status) ?? 0) + 1);
    if (category === undefined) {
      this.successes++;
      this.second.successes++;
      this.histogram.recordValue(latencyUs);
      this.secondHistogram.recordValue(latencyUs);
    } else {
      this.errors[this.categoryIndex.get(category)!]!++;
      this.second.failures++;
      this.sampleError(category, message);
    }
    if (this.plan.raw) {
      this.rawBuffer += `${this.rowPrefix}${w.id},${Math.round(performance.timeOrigin + end)},${latencyUs / 1000},${
        w.status
      },${category === undefined ? 1 : 0},${category ?? ''}\n`;
      if (this.rawBuffer.length >= RAW_FLUSH_CHARS) this.flushRaw(false);
    }
  }

  sampleError(category: ErrorCategory, message: string): void {
    let set = this.errorSamples.get(category);
    if (!set) this.errorSamples.set(category, (set = new Set()));
    if (set.size < MAX_ERROR_SAMPLES_PER_CATEGORY) set.add(message.slice(0, MAX_SAMPLE_LENGTH));
  }

  flushRaw(final: boolean): void {
    const sink = this.plan.raw;
    if (!sink || this.rawBuffer.length === 0) return;
    const ok = sink.write(this.rawBuffer);
    this.rawBuffer = '';
    if (!ok && !final && !this.rawBlocked) {
      // Back-pressure: workers wait for the disk instead of growing memory without bound.
      this.rawBlocked = sink.waitDrain().then(() => {
        this.rawBlocked = null;
      });
    }
  }

  onTick(): void {
    const now = performance.now();
    for (const w of this.workers) {
      if (w.inFlight && now - w.start > this.timeoutMs) w.abortFn?.(new RequestTimeoutError(this.timeoutMs));
    }
    if (this.measuring && !this.stopped && now - this.second.start >= 1000) this.rollSecond(now);
    if (now - this.lastProgress.t >= 1000) this.emitProgress(now);
  }

  rollSecond(now: number): void {
    const s = this.second;
    this.timeline.push({
      t_ms: Math.round(performance.timeOrigin + s.start),
      requests: s.requests,
      successes: s.successes,
      failures: s.failures,
      p95_ms: s.successes > 0 ? this.secondHistogram.getValueAtPercentile(95) / 1000 : 0,
    });
    this.secondHistogram.reset();
    this.second = { start: now, requests: 0, successes: 0, failures: 0 };
  }

  emitProgress(now: number): void {
    const { plan } = this;
    const total = this.requests + this.warmupRequests;
    const dt = (now - this.lastProgress.t) / 1000;
    const rps = this.lastProgress.t > 0 && dt > 0 ? (total - this.lastProgress.requests) / dt : 0;
    this.lastProgress = { t: now, requests: total };
    if (!plan.onProgress) return;
    const failures = this.errors.reduce((a, b) => a + b, 0);
    plan.onProgress({
      scenario: plan.scenario,
      concurrency: plan.concurrency,
      phase: this.measuring ? 'measure' : 'warmup',
      elapsed_s: Math.round(((this.measuring ? now - this.tMeasure : now - this.tStart) / 1000) * 10) / 10,
      total_s: this.measuring ? plan.durationSeconds : plan.warmupSeconds,
      total_requests: this.measuring ? plan.requestsPerLevel : undefined,
      requests: this.requests,
      failures,
      current_rps: Math.round(rps),
      p95_ms: this.histogram.totalCount > 0 ? this.histogram.getValueAtPercentile(95) / 1000 : 0,
    });
  }

  async closeClients(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.client.destroy().catch(() => undefined)));
  }

  result(generator: GeneratorLoad): LevelMeasurement {
    const { plan } = this;
    if (this.measuring && this.second.requests > 0) this.rollSecond(this.tEnd);
    const durationS = this.measuring ? Math.max(0, this.tEnd - this.tMeasure) / 1000 : 0;
    const failures = this.requests - this.successes;
    const errors = emptyErrorCounts();
    ERROR_CATEGORIES.forEach((c, i) => (errors[c] = this.errors[i] ?? 0));
    const errorSamples = [...this.errorSamples].flatMap(([category, set]) =>
      [...set].map((message) => ({ category, message })),
    );
    return {
      scenario: plan.scenario,
      concurrency: plan.concurrency,
      requests: this.requests,
      successes: this.successes,
      failures,
      error_rate_pct: errorRatePct(failures, this.requests),
      throughput_rps: throughputRps(this.successes, durationS),
      latency_ms: latencyFromHistogram(this.histogram),
      duration_s: Math.round(durationS * 1000) / 1000,
      started_at_ms: Math.round(performance.timeOrigin + (this.measuring ? this.tMeasure : this.tStart)),
      warmup_requests: this.warmupRequests,
      errors,
      error_samples: errorSamples,
      status_codes: Object.fromEntries([...this.statusCodes].map(([k, v]) => [String(k), v])),
      histogram: encodeHistogram(this.histogram),
      timeline: this.timeline,
      generator,
      partial: this.partial,
    };
  }

  dispose(): void {
    clearInterval(this.ticker);
    clearTimeout(this.drainTimer);
    this.histogram.destroy();
    this.secondHistogram.destroy();
  }
}
