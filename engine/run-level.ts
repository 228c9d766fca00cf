import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { Histogram } from 'hdr-histogram-js';
import { errorRatePct, latencyFromHistogram, throughputRps } from './stats.ts';
import type { CheckResponse, GeneratorLoad, LevelMeasurement, PayloadContext, ProgressEvent, RawSink } from './types.ts';
import { createLatencyHistogram, decodeHistogramWasm, encodeHistogram, initHistograms } from './histogram.ts';
import { TimelineMerger, mergeShardCounts } from './level-merge.ts';
import { LevelShard, type ShardCounters, type ShardPlan, type ShardResult } from './shard.ts';
import type { FromThread, ThreadLoad, ToThread } from './thread-messages.ts';
import { CLIENT_BOUND_LIMITS, isClientBound, type ClientBoundLimits } from './client-bound.ts';
export { CLIENT_BOUND_LIMITS, isClientBound, type ClientBoundLimits };


/** Everything the engine needs to run one concurrency level. Built once per level by the scenario. */
export interface LevelPlan {
  scenario: string;
  concurrency: number;
  url: URL;
  method: string;
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
  /** Generator saturation thresholds (default {@link CLIENT_BOUND_LIMITS}). */
  clientBound?: ClientBoundLimits;
  /**
   * Event loops that share the level's connections: 1 (default) runs them here; N > 1 or 'auto'
   * spreads them over worker threads (a static body and no check only; see perf/README.md).
   */
  threads?: number | 'auto';
}

const ELD_RESOLUTION_MS = 10;
const PROGRESS_CHECK_MS = 250;
/** Starting a thread loads tsx and the engine: well under a second, unless something is wrong. */
const THREAD_READY_TIMEOUT_MS = 30_000;
/** Below this many connections per thread, another thread costs more than it brings. */
const MIN_CONNECTIONS_PER_THREAD = 16;

/**
 * Why `generator_threads` cannot be used as asked, or undefined. Functions (a payload function,
 * a check) live in the bench file's module and cannot be sent to another thread.
 */
export function generatorThreadsProblem(threads: number | 'auto' | undefined, payloadIsFunction: boolean, hasCheck: boolean): string | undefined {
  if (typeof threads !== 'number' || threads <= 1 || (!payloadIsFunction && !hasCheck)) return undefined;
  const what = [payloadIsFunction ? 'a payload function' : '', hasCheck ? 'a check' : ''].filter(Boolean).join(' and ');
  return (
    `generator_threads: found ${threads} with ${what}, expected 1 or "auto": functions cannot be sent to worker threads. ` +
    'Use a static payload and no check to spread the connections over threads, or set generator_threads: 1'
  );
}

/**
 * How many event loops run a level: `auto` is one per available core but one (left to the main
 * thread and whatever else runs on the machine), at most one per 16 connections, and 1 when
 * the level has a payload function or a check.
 * @throws Error when threads > 1 is asked together with a payload function or a check
 */
export function resolveGeneratorThreads(plan: Pick<LevelPlan, 'threads' | 'concurrency' | 'body' | 'check'>): number {
  const payloadIsFunction = typeof plan.body === 'function';
  const hasCheck = plan.check !== undefined;
  const problem = generatorThreadsProblem(plan.threads, payloadIsFunction, hasCheck);
  if (problem) throw new Error(problem);
  if (plan.threads === undefined || plan.threads === 1) return 1;
  if (plan.threads === 'auto') {
    if (payloadIsFunction || hasCheck) return 1;
    const byCores = availableParallelism() - 1;
    const byConnections = Math.floor(plan.concurrency / MIN_CONNECTIONS_PER_THREAD);
    return Math.max(1, Math.min(byCores, byConnections));
  }
  return Math.max(1, Math.min(Math.floor(plan.threads), plan.concurrency));
}

/** Splits `total` into `parts` integers that differ by at most one, larger first. Pure. */
export function splitEvenly(total: number, parts: number): number[] {
  const base = Math.floor(total / parts);
  return Array.from({ length: parts }, (_, i) => base + (i < total % parts ? 1 : 0));
}

/** What the controller needs from a shard, wherever it runs. */
interface ShardHandle {
  readonly ready: Promise<void>;
  start(): void;
  measure(epochMs: number): void;
  stop(): void;
  counters(): ShardCounters;
  /** Settles after the shard stopped: its counts and its latency histogram (the caller destroys it). */
  readonly done: Promise<{ result: ShardResult; histogram: Histogram; load?: ThreadLoad }>;
  dispose(): Promise<void>;
}

/**
 * Closed-loop load at one concurrency level: `concurrency` connections, each sending its next
 * request as soon as the previous one ended, over loadbench's own HTTP/1.1 client (http1.ts).
 * With `threads` > 1 the connections are spread over worker threads whose counts, histograms,
 * timelines and raw rows are merged into one result. Never prints; reports through `onProgress`.
 */
export async function runLevel(plan: LevelPlan): Promise<LevelMeasurement> {
  await initHistograms();
  const threads = resolveGeneratorThreads(plan);
  const controller = new LevelController(plan, threads);
  try {
    return await controller.execute();
  } finally {
    await controller.dispose();
  }
}

/** Runs one level over one or more shards: the clock (warm-up, measure, end), progress and the merge. */
class LevelController {
  readonly shards: ShardHandle[] = [];
  readonly timeline: TimelineMerger;
  measureEpochMs = 0;
  startEpochMs = 0;
  measuring = false;
  partial = false;
  stopped = false;
  timers: NodeJS.Timeout[] = [];
  lastProgress = { t: 0, requests: 0 };
  rawChain: Promise<void> = Promise.resolve();

  constructor(
    readonly plan: LevelPlan,
    readonly threads: number,
  ) {
    this.timeline = new TimelineMerger(threads, () => this.measureEpochMs);
    const connections = splitEvenly(plan.concurrency, threads);
    const requests = plan.requestsPerLevel === undefined ? undefined : splitEvenly(plan.requestsPerLevel, threads);
    let firstWorker = 0;
    connections.forEach((n, i) => {
      const shardPlan: ShardPlan = {
        scenario: plan.scenario,
        levelConcurrency: plan.concurrency,
        connections: n,
        firstWorker,
        url: plan.url.href,
        method: plan.method,
        headers: plan.headers,
        body: typeof plan.body === 'string' ? plan.body : undefined,
        challengeId: plan.challengeId,
        timeoutSeconds: plan.timeoutSeconds,
        maxBodyBytes: plan.maxBodyBytes,
        requests: requests?.[i],
        raw: plan.raw !== undefined,
      };
      firstWorker += n;
      this.shards.push(threads === 1 ? this.localShard(shardPlan) : this.threadShard(shardPlan));
    });
  }

  localShard(shardPlan: ShardPlan): ShardHandle {
    const { plan } = this;
    const sink = plan.raw;
    const shard = new LevelShard(
      shardPlan,
      {
        raw: sink ? (chunk) => sink.write(chunk) : undefined,
        rawDrain: sink ? () => sink.waitDrain() : undefined,
        second: (report, histogram) => this.timeline.add(report, histogram),
      },
      typeof plan.body === 'function' ? plan.body : undefined,
      plan.check,
    );
    return {
      ready: Promise.resolve(),
      start: () => shard.start(),
      measure: (epochMs) => shard.beginMeasure(epochMs - performance.timeOrigin),
      stop: () => shard.stop(),
      counters: () => shard.counters(),
      done: shard.idle.then(() => {
        const result = shard.finish();
        const histogram = createLatencyHistogram();
        histogram.add(shard.histogram);
        return { result, histogram };
      }),
      dispose: async () => shard.dispose(),
    };
  }

  threadShard(shardPlan: ShardPlan): ShardHandle {
    const worker = startThread(shardPlan);
    let counters: ShardCounters = { requests: 0, successes: 0, failures: 0, warmupRequests: 0 };
    const post = (m: ToThread): void => worker.postMessage(m);
    let resolveReady!: () => void;
    let resolveDone!: (v: { result: ShardResult; histogram: Histogram; load: ThreadLoad }) => void;
    let fail!: (e: Error) => void;
    const ready = new Promise<void>((resolve) => (resolveReady = resolve));
    const done = new Promise<{ result: ShardResult; histogram: Histogram; load: ThreadLoad }>((resolve) => (resolveDone = resolve));
    const failed = new Promise<never>((_, reject) => (fail = reject));
    // Whichever comes first: a thread that fails fails the level.
    const readyOrFail = Promise.race([ready, failed]);
    const doneOrFail = Promise.race([done, failed]);
    readyOrFail.catch(() => undefined);
    doneOrFail.catch(() => undefined);
    let finished = false;
    worker.on('message', (m: FromThread) => {
      switch (m.type) {
        case 'ready':
          resolveReady();
          break;
        case 'counters':
          counters = m.counters;
          break;
        case 'second': {
          const h = decodeHistogramWasm(m.histogram);
          this.timeline.add(m.report, h);
          h.destroy();
          break;
        }
        case 'raw': {
          const chunk = Buffer.from(m.chunk.buffer, m.chunk.byteOffset, m.chunk.byteLength);
          this.rawChain = this.rawChain.then(async () => {
            if (!this.plan.raw!.write(chunk)) await this.plan.raw!.waitDrain();
            if (!finished) post({ type: 'raw-ack' });
          });
          break;
        }
        case 'result':
          finished = true;
          counters = { requests: m.result.requests, successes: m.result.successes, failures: m.result.requests - m.result.successes, warmupRequests: m.result.warmupRequests };
          resolveDone({ result: m.result, histogram: decodeHistogramWasm(m.histogram), load: m.load });
          break;
        case 'error':
          fail(new Error(`generator thread failed: ${m.message}`));
          break;
      }
    });
    worker.on('error', (e) => fail(new Error(`generator thread failed: ${e.message}`)));
    worker.on('exit', (code) => {
      if (!finished) fail(new Error(`generator thread exited (code ${code}) before its result`));
    });
    return {
      ready: readyOrFail,
      start: () => post({ type: 'start' }),
      measure: (epochMs) => post({ type: 'measure', epochMs }),
      stop: () => post({ type: 'stop' }),
      counters: () => counters,
      done: doneOrFail,
      dispose: async () => {
        await worker.terminate();
      },
    };
  }

  async execute(): Promise<LevelMeasurement> {
    const { plan } = this;
    let readyTimer: NodeJS.Timeout | undefined;
    const readyTimeout = new Promise<never>((_, reject) => {
      readyTimer = setTimeout(() => reject(new Error(`generator threads not ready within ${THREAD_READY_TIMEOUT_MS / 1000} s`)), THREAD_READY_TIMEOUT_MS);
    });
    try {
      await Promise.race([Promise.all(this.shards.map((s) => s.ready)), readyTimeout]);
    } finally {
      clearTimeout(readyTimer);
    }
    const cpuStart = process.cpuUsage();
    const eld = monitorEventLoopDelay({ resolution: ELD_RESOLUTION_MS });
    eld.enable();
    const onAbort = (): void => {
      this.partial = true;
      this.stop();
    };
    plan.signal?.addEventListener('abort', onAbort, { once: true });

    const tStart = performance.now();
    this.startEpochMs = performance.timeOrigin + tStart;
    if (plan.signal?.aborted) onAbort();
    // Without a warm-up the first requests are already measured: the phase starts before them.
    if (plan.warmupSeconds > 0) {
      this.timers.push(setTimeout(() => this.beginMeasure(), plan.warmupSeconds * 1000));
    } else {
      this.beginMeasure();
    }
    for (const s of this.shards) s.start();
    this.timers.push(setInterval(() => this.maybeProgress(), PROGRESS_CHECK_MS));
    this.maybeProgress();

    let outcomes: Awaited<ShardHandle['done']>[];
    try {
      outcomes = await Promise.all(this.shards.map((s) => s.done));
    } finally {
      for (const t of this.timers) clearTimeout(t);
      plan.signal?.removeEventListener('abort', onAbort);
      eld.disable();
    }
    await this.rawChain;

    const wallMs = performance.now() - tStart;
    const cpu = process.cpuUsage(cpuStart);
    const cpuPct = wallMs > 0 ? ((cpu.user + cpu.system) / 1000 / wallMs) * 100 : 0;
    const limits = plan.clientBound ?? CLIENT_BOUND_LIMITS;
    let generator: GeneratorLoad;
    if (this.threads === 1) {
      // The histogram holds whole timer intervals, so the resolution itself is subtracted to get the delay.
      const eldP99 = eld.count > 0 ? Math.max(0, eld.percentile(99) / 1e6 - ELD_RESOLUTION_MS) : 0;
      generator = {
        cpu_pct: Math.round(cpuPct * 10) / 10,
        event_loop_delay_p99_ms: Math.round(eldP99 * 1000) / 1000,
        client_bound: isClientBound(cpuPct, eldP99, limits),
      };
    } else {
      // Process CPU spans every thread; saturation is judged per generator thread, by how busy its event loop was.
      const loads = outcomes.map((o) => o.load!);
      const busiest = Math.max(...loads.map((l) => l.utilization)) * 100;
      const eldP99 = Math.max(...loads.map((l) => l.eventLoopDelayP99Ms));
      generator = {
        cpu_pct: Math.round(cpuPct * 10) / 10,
        event_loop_delay_p99_ms: Math.round(eldP99 * 1000) / 1000,
        client_bound: isClientBound(busiest, eldP99, limits),
        threads: this.threads,
      };
    }
    return this.result(outcomes, generator);
  }

  beginMeasure(): void {
    if (this.stopped) return;
    this.measuring = true;
    this.measureEpochMs = performance.timeOrigin + performance.now();
    for (const s of this.shards) s.measure(this.measureEpochMs);
    if (this.plan.requestsPerLevel === undefined) {
      this.timers.push(setTimeout(() => this.stop(), (this.plan.durationSeconds ?? 0) * 1000));
    }
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    for (const s of this.shards) s.stop();
  }

  maybeProgress(): void {
    const now = performance.now();
    if (now - this.lastProgress.t < 1000) return;
    const { plan } = this;
    const c = this.shards.map((s) => s.counters());
    const requests = c.reduce((a, x) => a + x.requests, 0);
    const total = requests + c.reduce((a, x) => a + x.warmupRequests, 0);
    const dt = (now - this.lastProgress.t) / 1000;
    const rps = this.lastProgress.t > 0 && dt > 0 ? (total - this.lastProgress.requests) / dt : 0;
    this.lastProgress = { t: now, requests: total };
    if (!plan.onProgress) return;
    const nowEpoch = performance.timeOrigin + now;
    const cumulative = this.timeline.cumulative;
    plan.onProgress({
      scenario: plan.scenario,
      concurrency: plan.concurrency,
      phase: this.measuring ? 'measure' : 'warmup',
      elapsed_s: Math.round(((this.measuring ? nowEpoch - this.measureEpochMs : nowEpoch - this.startEpochMs) / 1000) * 10) / 10,
      total_s: this.measuring ? plan.durationSeconds : plan.warmupSeconds,
      total_requests: this.measuring ? plan.requestsPerLevel : undefined,
      requests,
      failures: c.reduce((a, x) => a + x.failures, 0),
      current_rps: Math.round(rps),
      p95_ms: cumulative.totalCount > 0 ? cumulative.getValueAtPercentile(95) / 1000 : 0,
    });
  }

  result(outcomes: Awaited<ShardHandle['done']>[], generator: GeneratorLoad): LevelMeasurement {
    const { plan } = this;
    const merged = mergeShardCounts(outcomes.map((o) => o.result));
    const histogram = createLatencyHistogram();
    try {
      for (const o of outcomes) histogram.add(o.histogram);
      const durationS = this.measuring && merged.endEpochMs > 0 ? Math.max(0, merged.endEpochMs - this.measureEpochMs) / 1000 : 0;
      const failures = merged.requests - merged.successes;
      return {
        scenario: plan.scenario,
        concurrency: plan.concurrency,
        requests: merged.requests,
        successes: merged.successes,
        failures,
        error_rate_pct: errorRatePct(failures, merged.requests),
        throughput_rps: throughputRps(merged.successes, durationS),
        latency_ms: latencyFromHistogram(histogram),
        duration_s: Math.round(durationS * 1000) / 1000,
        started_at_ms: Math.round(this.measuring ? this.measureEpochMs : this.startEpochMs),
        warmup_requests: merged.warmupRequests,
        errors: merged.errors,
        error_samples: merged.errorSamples,
        status_codes: merged.statusCodes,
        histogram: encodeHistogram(histogram),
        timeline: this.measuring ? this.timeline.timeline() : [],
        generator,
        partial: this.partial,
      };
    } finally {
      histogram.destroy();
      for (const o of outcomes) o.histogram.destroy();
    }
  }

  async dispose(): Promise<void> {
    for (const t of this.timers) clearTimeout(t);
    this.stop();
    await Promise.all(this.shards.map((s) => s.dispose().catch(() => undefined)));
    this.timeline.dispose();
  }
}

// Worker threads get no TypeScript loader: the bootstrap registers tsx's, then imports the entry.
const BOOTSTRAP = `
const { workerData, parentPort } = require('node:worker_threads');
import(workerData.tsx)
  .then((api) => api.register(), (error) => {
    throw new Error('cannot load tsx in the generator thread: ' + error.message);
  })
  .then(() => import(workerData.entry))
  .catch((error) => parentPort.postMessage({ type: 'error', message: String((error && error.stack) || error) }));
`;

let tsxApi: string | undefined;

/** URL of tsx's ESM API (`register()`), found through its package exports. */
function tsxApiUrl(): string {
  if (tsxApi) return tsxApi;
  try {
    const require = createRequire(import.meta.url);
    const manifest = require.resolve('tsx/package.json');
    const pkg = JSON.parse(readFileSync(manifest, 'utf8')) as { exports: Record<string, { import?: { default?: string } }> };
    const file = pkg.exports['./esm/api']?.import?.default;
    if (!file) throw new Error('tsx has no ./esm/api export');
    tsxApi = pathToFileURL(join(dirname(manifest), file)).href;
    return tsxApi;
  } catch (error) {
    throw new Error(`generator_threads > 1 needs the tsx package (it loads the engine in worker threads): ${(error as Error).message}`);
  }
}

/** A generator thread running `level-thread.ts`. */
function startThread(plan: ShardPlan): Worker {
  const entry = new URL('./level-thread.ts', import.meta.url).href;
  // No inherited flags: the parent's loaders and profilers are not the thread's business.
  return new Worker(BOOTSTRAP, { eval: true, workerData: { tsx: tsxApiUrl(), entry, plan }, execArgv: [] });
}
