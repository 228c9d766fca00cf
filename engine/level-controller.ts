/**
 * One level of load, from start to figures: `runLevel` and the controller that owns the level's
 * clock (warm-up, measured phase, end), its progress events and the merge of its shards (one in
 * this event loop, or one per generator thread).
 */
import { performance } from 'node:perf_hooks';
import type { Histogram } from 'hdr-histogram-js';
import { WHOLE_SCHEDULE, arrivalPartitionProblem, splitPartition, type ArrivalPartition, type ArrivalProcess } from './arrival-schedule.ts';
import { CLIENT_BOUND_LIMITS, isScheduleLate, type ClientBoundLimits } from './client-bound.ts';
import { GeneratorLoadMeter } from './generator-load.ts';
import { createLatencyHistogram, decodeHistogramWasm, encodeHistogram, initHistograms } from './histogram.ts';
import { TimelineMerger, mergeShardCounts } from './level-merge.ts';
import { OpenLevelShard } from './open-shard.ts';
import { LevelShard } from './shard.ts';
import type { OpenShardPlan, ShardHandle, ShardPlan, ShardResult } from './shard-types.ts';
import { errorRatePct, latencyFromHistogram, throughputRps } from './stats.ts';
import { threadShard } from './thread-shard.ts';
import { resolveGeneratorThreads, splitEvenly } from './thread-policy.ts';
import type { CheckResponse, GeneratorLoad, LevelMeasurement, OpenLoopFigures, PayloadContext, ProgressEvent, RawSink } from './types.ts';

/**
 * An open-loop level: requests arrive by a schedule at `rateRps`, whatever the answers do, rather
 * than from `concurrency` closed-loop connections. The level's `concurrency` is then its key only
 * (set it to the rate).
 */
export interface OpenLevelPlan {
  /** Arrivals per second of the global schedule. */
  rateRps: number;
  /** `constant` (evenly spaced, the default) or `poisson` (seeded exponential gaps). */
  arrivals: ArrivalProcess;
  /** Seed of a Poisson schedule: the same rate and seed give the same schedule everywhere. */
  seed: number;
  /** Requests outstanding at most (over all generator threads); an arrival beyond them is dropped. */
  maxInFlight: number;
  /**
   * The part of the global schedule this run sends: arrivals i (0-based) with
   * `i % partition.count === partition.index - 1` (`index` is 1-based). N runs with the same rate,
   * seed and start, partitions 1..N of N, send the whole schedule between them, each arrival once.
   * Default: the whole schedule. Generator threads split this part again the same way.
   */
  partition?: ArrivalPartition;
}

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
  /** Set for an open-loop level (see {@link OpenLevelPlan}). */
  open?: OpenLevelPlan;
}

/** Generator threads of an open level start their schedule this long after the level does, so that every thread has its start message by t0. */
const THREAD_T0_LEAD_MS = 50;

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
  const open = plan.open;
  if (open) {
    const problem = openLevelProblem(open);
    if (problem) throw new Error(problem);
  }
  const threads = resolveGeneratorThreads(open ? { ...plan, concurrency: open.maxInFlight, rateRps: open.rateRps } : plan);
  const controller = new LevelController(plan, threads);
  try {
    return await controller.execute();
  } finally {
    await controller.dispose();
  }
}

/** Why an open-loop plan cannot run, or undefined. Pure. */
export function openLevelProblem(open: OpenLevelPlan): string | undefined {
  if (!(open.rateRps > 0) || !Number.isFinite(open.rateRps)) return `arrival rate: found ${open.rateRps}, expected a positive number of requests per second`;
  if (!Number.isSafeInteger(open.maxInFlight) || open.maxInFlight < 1) return `max_in_flight: found ${open.maxInFlight}, expected a whole number, 1 or more`;
  return open.partition ? arrivalPartitionProblem(open.partition) : undefined;
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
  /** Open loop: when the measured phase starts by the schedule (t0 + warm-up), ms since the epoch. */
  #plannedMeasureEpochMs = 0;
  // -Infinity, not 0: performance.now() counts from the process's start, so a level begun in a process's first
  // second would otherwise give no first event (seen in CI: a 1 s level with no progress at all).
  #lastProgress = { t: -Infinity, requests: 0 };
  /** Raw chunks from generator threads, written one after the other. */
  #rawChain: Promise<void> = Promise.resolve();

  constructor(plan: LevelPlan, threads: number) {
    this.#plan = plan;
    this.#threads = threads;
    this.#timeline = new TimelineMerger(threads, () => this.#measureEpochMs, plan.timelineHistograms === true, plan.open !== undefined);
    const open = plan.open;
    // An open level splits its schedule and its max_in_flight over the threads; a closed one its connections.
    const connections = splitEvenly(open ? 0 : plan.concurrency, threads);
    const requests = plan.requestsPerLevel === undefined || open ? undefined : splitEvenly(plan.requestsPerLevel, threads);
    const parts = open ? splitPartition(open.partition ?? WHOLE_SCHEDULE, threads) : [];
    const inFlight = open ? splitEvenly(open.maxInFlight, threads) : [];
    let firstWorker = plan.firstWorker ?? 0;
    connections.forEach((n, i) => {
      const openPlan: OpenShardPlan | undefined = open && {
        rateRps: open.rateRps,
        arrivals: open.arrivals,
        seed: open.seed,
        partition: parts[i]!,
        maxInFlight: inFlight[i]!,
        warmupMs: plan.warmupSeconds * 1000,
        ...(plan.requestsPerLevel !== undefined ? { requests: plan.requestsPerLevel } : { durationMs: (plan.durationSeconds ?? 0) * 1000 }),
      };
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
        ...(openPlan ? { open: openPlan } : {}),
      };
      // Open loop: each thread numbers its connections from its own block, so raw `worker` numbers stay distinct.
      firstWorker += open ? inFlight[i]! : n;
      this.#shards.push(threads === 1 ? this.#localShard(shardPlan) : this.#threadShard(shardPlan));
    });
  }

  #localShard(shardPlan: ShardPlan): ShardHandle {
    const plan = this.#plan;
    const sink = plan.raw;
    const Shard = shardPlan.open ? OpenLevelShard : LevelShard;
    const shard = new Shard(
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
      start: (epochMs) => shard.start(epochMs - performance.timeOrigin),
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
    // An open schedule's t0, the same for every shard: a little ahead when threads must hear of it first.
    const t0Epoch = this.#startEpochMs + (plan.open && this.#threads > 1 ? THREAD_T0_LEAD_MS : 0);
    if (plan.open) this.#plannedMeasureEpochMs = t0Epoch + plan.warmupSeconds * 1000;
    if (plan.signal?.aborted) onAbort();
    // Without a warm-up the first requests are already measured: the phase starts before them.
    const warmupMs = plan.open ? this.#plannedMeasureEpochMs - this.#startEpochMs : plan.warmupSeconds * 1000;
    if (warmupMs > 0) {
      this.#timers.push(setTimeout(() => this.#beginMeasure(), warmupMs));
    } else {
      this.#beginMeasure();
    }
    for (const s of this.#shards) s.start(t0Epoch);
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
    const now = performance.timeOrigin + performance.now();
    // Open loop: the window is the schedule's, whenever this timer fired; the shards count by it.
    this.#measureEpochMs = this.#plan.open ? this.#plannedMeasureEpochMs : now;
    for (const s of this.#shards) s.measure(this.#measureEpochMs);
    if (this.#plan.requestsPerLevel === undefined) {
      const end = this.#measureEpochMs + (this.#plan.durationSeconds ?? 0) * 1000;
      this.#timers.push(setTimeout(() => this.#stop(), Math.max(0, end - now)));
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
    const rps = Number.isFinite(this.#lastProgress.t) && dt > 0 ? (total - this.#lastProgress.requests) / dt : 0;
    this.#lastProgress = { t: now, requests: total };
    if (!plan.onProgress) return;
    const nowEpoch = performance.timeOrigin + now;
    const cumulative = this.#timeline.cumulative;
    plan.onProgress({
      scenario: plan.scenario,
      concurrency: plan.concurrency,
      ...(plan.open ? { target_rate_rps: plan.open.rateRps } : {}),
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
      const openLoop = plan.open ? this.#openFigures(outcomes.map((o) => o.result), durationS) : undefined;
      if (openLoop && isScheduleLate(openLoop.schedule_lag_ms.p99, plan.clientBound ?? CLIENT_BOUND_LIMITS)) generator.client_bound = true;
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
        ...(openLoop ? { open_loop: openLoop } : {}),
      };
    } finally {
      histogram.destroy();
      for (const o of outcomes) o.histogram.destroy();
    }
  }

  /** The open-loop figures of the shards, added up: counts, and the service-time and lag histograms merged. */
  #openFigures(results: ShardResult[], durationS: number): OpenLoopFigures {
    const open = this.#plan.open!;
    const service = createLatencyHistogram();
    const lag = createLatencyHistogram();
    const add = (into: Histogram, encoded: string): void => {
      const h = decodeHistogramWasm(encoded);
      into.add(h);
      h.destroy();
    };
    try {
      let sent = 0;
      let dropped = 0;
      let scheduled = 0;
      let maxInFlightSeen = 0;
      let inFlightAtEnd = 0;
      for (const r of results) {
        const o = r.open!;
        sent += o.sent;
        dropped += o.dropped;
        scheduled += o.scheduled;
        maxInFlightSeen += o.maxInFlightSeen;
        inFlightAtEnd += o.inFlightAtEnd;
        add(service, o.serviceHistogram);
        add(lag, o.lagHistogram);
      }
      return {
        target_rate_rps: open.rateRps,
        achieved_rate_rps: durationS > 0 ? sent / durationS : 0,
        arrivals: open.arrivals,
        ...(open.arrivals === 'poisson' ? { seed: open.seed } : {}),
        ...(open.partition && open.partition.count > 1 ? { partition: { ...open.partition } } : {}),
        max_in_flight: open.maxInFlight,
        sent,
        dropped,
        scheduled,
        max_in_flight_seen: maxInFlightSeen,
        in_flight_at_end: inFlightAtEnd,
        service_time_ms: latencyFromHistogram(service),
        schedule_lag_ms: latencyFromHistogram(lag),
        service_histogram: encodeHistogram(service),
        schedule_lag_histogram: encodeHistogram(lag),
      };
    } finally {
      service.destroy();
      lag.destroy();
    }
  }

  async dispose(): Promise<void> {
    for (const t of this.#timers) clearTimeout(t);
    this.#stop();
    await Promise.all(this.#shards.map((s) => s.dispose().catch(() => undefined)));
    this.#timeline.dispose();
  }
}
