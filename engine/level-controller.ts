/**
 * One level of load, from start to figures: `runLevel` and the controller that owns the level's
 * clock (warm-up, measured phase, end), its progress events and the merge of its shards (one in
 * this event loop, or one per generator thread).
 */
import { performance } from 'node:perf_hooks';
import { CLIENT_BOUND_LIMITS, type ClientBoundLimits } from './client-bound.ts';
import { GeneratorLoadMeter } from './generator-load.ts';
import { createLatencyHistogram, encodeHistogram, initHistograms } from './histogram.ts';
import { TimelineMerger, mergeShardCounts } from './level-merge.ts';
import { LevelShard } from './shard.ts';
import type { ShardHandle, ShardPlan } from './shard-types.ts';
import { errorRatePct, latencyFromHistogram, throughputRps } from './stats.ts';
import { threadShard } from './thread-shard.ts';
import { resolveGeneratorThreads, splitEvenly } from './thread-policy.ts';
import type { CheckResponse, GeneratorLoad, LevelMeasurement, PayloadContext, ProgressEvent, RawSink } from './types.ts';

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
  /**
   * The level's concurrency when this generator runs only part of its connections (a run shard of
   * a distributed run, core/shards/): written into the raw rows and the result instead of `concurrency`.
   */
  levelConcurrency?: number;
  /** Number of this generator's first connection (default 0), so that several generators' worker numbers do not overlap. */
  firstWorker?: number;
  /** Keep each timeline second's HDR histogram (encoded) in its point, so that timelines of several generators merge exactly. */
  timelineHistograms?: boolean;
}

const PROGRESS_CHECK_MS = 250;
/** Starting a thread loads the engine (and tsx from the sources): well under a second, unless something is wrong. */
const THREAD_READY_TIMEOUT_MS = 30_000;

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

type ShardOutcome = Awaited<ShardHandle['done']>;

/** Runs one level over one or more shards: the clock (warm-up, measure, end), progress and the merge. */
class LevelController {
  readonly #plan: LevelPlan;
  readonly #threads: number;
  readonly #shards: ShardHandle[] = [];
  readonly #timeline: TimelineMerger;
  #measureEpochMs = 0;
  #startEpochMs = 0;
  #measuring = false;
  #partial = false;
  #stopped = false;
  #timers: NodeJS.Timeout[] = [];
  #lastProgress = { t: 0, requests: 0 };
  /** Raw chunks from generator threads, written one after the other. */
  #rawChain: Promise<void> = Promise.resolve();

  constructor(plan: LevelPlan, threads: number) {
    this.#plan = plan;
    this.#threads = threads;
    this.#timeline = new TimelineMerger(threads, () => this.#measureEpochMs, plan.timelineHistograms === true);
    const connections = splitEvenly(plan.concurrency, threads);
    const requests = plan.requestsPerLevel === undefined ? undefined : splitEvenly(plan.requestsPerLevel, threads);
    let firstWorker = plan.firstWorker ?? 0;
    connections.forEach((n, i) => {
      const shardPlan: ShardPlan = {
        scenario: plan.scenario,
        levelConcurrency: plan.levelConcurrency ?? plan.concurrency,
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
      this.#shards.push(threads === 1 ? this.#localShard(shardPlan) : this.#threadShard(shardPlan));
    });
  }

  #localShard(shardPlan: ShardPlan): ShardHandle {
    const plan = this.#plan;
    const sink = plan.raw;
    const shard = new LevelShard(
      shardPlan,
      {
        raw: sink ? (chunk) => sink.write(chunk) : undefined,
        rawDrain: sink ? () => sink.waitDrain() : undefined,
        second: (report, histogram) => this.#timeline.add(report, histogram),
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

  #threadShard(shardPlan: ShardPlan): ShardHandle {
    const sink = this.#plan.raw;
    return threadShard(shardPlan, {
      second: (report, histogram) => this.#timeline.add(report, histogram),
      writeRaw: sink
        ? (chunk) =>
            (this.#rawChain = this.#rawChain.then(async () => {
              if (!sink.write(chunk)) await sink.waitDrain();
            }))
        : undefined,
    });
  }

  async execute(): Promise<LevelMeasurement> {
    const plan = this.#plan;
    let readyTimer: NodeJS.Timeout | undefined;
    const readyTimeout = new Promise<never>((_, reject) => {
      readyTimer = setTimeout(() => reject(new Error(`generator threads not ready within ${THREAD_READY_TIMEOUT_MS / 1000} s`)), THREAD_READY_TIMEOUT_MS);
    });
    try {
      await Promise.race([Promise.all(this.#shards.map((s) => s.ready)), readyTimeout]);
    } finally {
      clearTimeout(readyTimer);
    }
    const load = new GeneratorLoadMeter();
    const onAbort = (): void => {
      this.#partial = true;
      this.#stop();
    };
    plan.signal?.addEventListener('abort', onAbort, { once: true });

    const tStart = performance.now();
    this.#startEpochMs = performance.timeOrigin + tStart;
    if (plan.signal?.aborted) onAbort();
    // Without a warm-up the first requests are already measured: the phase starts before them.
    if (plan.warmupSeconds > 0) {
      this.#timers.push(setTimeout(() => this.#beginMeasure(), plan.warmupSeconds * 1000));
    } else {
      this.#beginMeasure();
    }
    for (const s of this.#shards) s.start();
    this.#timers.push(setInterval(() => this.#maybeProgress(), PROGRESS_CHECK_MS));
    this.#maybeProgress();

    let outcomes: ShardOutcome[];
    try {
      outcomes = await Promise.all(this.#shards.map((s) => s.done));
    } finally {
      for (const t of this.#timers) clearTimeout(t);
      plan.signal?.removeEventListener('abort', onAbort);
      load.stopEventLoop();
    }
    await this.#rawChain;
    const generator = load.result(this.#threads === 1 ? undefined : outcomes.map((o) => o.load!), plan.clientBound ?? CLIENT_BOUND_LIMITS);
    return this.#result(outcomes, generator);
  }

  #beginMeasure(): void {
    if (this.#stopped) return;
    this.#measuring = true;
    this.#measureEpochMs = performance.timeOrigin + performance.now();
    for (const s of this.#shards) s.measure(this.#measureEpochMs);
    if (this.#plan.requestsPerLevel === undefined) {
      this.#timers.push(setTimeout(() => this.#stop(), (this.#plan.durationSeconds ?? 0) * 1000));
    }
  }

  #stop(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    for (const s of this.#shards) s.stop();
  }

  #maybeProgress(): void {
    const now = performance.now();
    if (now - this.#lastProgress.t < 1000) return;
    const plan = this.#plan;
    const c = this.#shards.map((s) => s.counters());
    const requests = c.reduce((a, x) => a + x.requests, 0);
    const total = requests + c.reduce((a, x) => a + x.warmupRequests, 0);
    const dt = (now - this.#lastProgress.t) / 1000;
    const rps = this.#lastProgress.t > 0 && dt > 0 ? (total - this.#lastProgress.requests) / dt : 0;
    this.#lastProgress = { t: now, requests: total };
    if (!plan.onProgress) return;
    const nowEpoch = performance.timeOrigin + now;
    const cumulative = this.#timeline.cumulative;
    plan.onProgress({
      scenario: plan.scenario,
      concurrency: plan.concurrency,
      phase: this.#measuring ? 'measure' : 'warmup',
      elapsed_s: Math.round(((this.#measuring ? nowEpoch - this.#measureEpochMs : nowEpoch - this.#startEpochMs) / 1000) * 10) / 10,
      total_s: this.#measuring ? plan.durationSeconds : plan.warmupSeconds,
      total_requests: this.#measuring ? plan.requestsPerLevel : undefined,
      requests,
      failures: c.reduce((a, x) => a + x.failures, 0),
      current_rps: Math.round(rps),
      p95_ms: cumulative.totalCount > 0 ? cumulative.getValueAtPercentile(95) / 1000 : 0,
    });
  }

  #result(outcomes: ShardOutcome[], generator: GeneratorLoad): LevelMeasurement {
    const plan = this.#plan;
    const merged = mergeShardCounts(outcomes.map((o) => o.result));
    const histogram = createLatencyHistogram();
    try {
      for (const o of outcomes) histogram.add(o.histogram);
      const durationS = this.#measuring && merged.endEpochMs > 0 ? Math.max(0, merged.endEpochMs - this.#measureEpochMs) / 1000 : 0;
      const failures = merged.requests - merged.successes;
      return {
        scenario: plan.scenario,
        concurrency: plan.levelConcurrency ?? plan.concurrency,
        requests: merged.requests,
        successes: merged.successes,
        failures,
        error_rate_pct: errorRatePct(failures, merged.requests),
        throughput_rps: throughputRps(merged.successes, durationS),
        latency_ms: latencyFromHistogram(histogram),
        duration_s: Math.round(durationS * 1000) / 1000,
        started_at_ms: Math.round(this.#measuring ? this.#measureEpochMs : this.#startEpochMs),
        warmup_requests: merged.warmupRequests,
        errors: merged.errors,
        error_samples: merged.errorSamples,
        status_codes: merged.statusCodes,
        histogram: encodeHistogram(histogram),
        timeline: this.#measuring ? this.#timeline.timeline() : [],
        generator,
        partial: this.#partial,
      };
    } finally {
      histogram.destroy();
      for (const o of outcomes) o.histogram.destroy();
    }
  }

  async dispose(): Promise<void> {
    for (const t of this.#timers) clearTimeout(t);
    this.#stop();
    await Promise.all(this.#shards.map((s) => s.dispose().catch(() => undefined)));
    this.#timeline.dispose();
  }
}
