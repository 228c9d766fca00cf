/**
 * The open loop of one event loop: requests leave when the arrival schedule says they are due
 * (arrival-schedule.ts), whatever the answers to earlier ones are doing. Each goes out on a free
 * keep-alive connection; a new connection is opened when none is free, up to the shard's
 * `maxInFlight`; an arrival due while that many requests are outstanding is not sent and counts
 * as `dropped`. Every counted request is timed three ways: latency from its due time, service
 * time from its actual send, and the schedule lag between the two.
 */
import { performance } from 'node:perf_hooks';
import type { Histogram } from 'hdr-histogram-js';
import { ArrivalSchedule, firstArrivalAtOrAfter } from './arrival-schedule.ts';
import { Connection, type ConnectionEndpoint, type ConnectionOwner } from './connection.ts';
import { LevelEndedError, RequestTimeoutError } from './errors.ts';
import { buildRequestTemplate, type RequestTemplate } from './http1.ts';
import { nextRequestBytes } from './request-bytes.ts';
import { requestOutcome, type ShardCheck } from './request-outcome.ts';
import { endpointOf } from './shard.ts';
import { ShardRecorder } from './shard-recorder.ts';
import type { OpenShardPlan, ShardCounters, ShardHooks, ShardPlan, ShardResult } from './shard-types.ts';
import type { PayloadContext } from './types.ts';

/** Timers fire up to about a millisecond late: an arrival this close to due is sent now rather than after another timer. */
const EARLY_SEND_MS = 0.05;
/**
 * Below this wait (ms) the next arrival is waited for by turns of the event loop rather than a
 * timer, which would fire up to a millisecond late. Longer, those turns cost more CPU than the lag
 * they save (waiting out a whole millisecond so cost ~0.4 ms of CPU per request).
 */
const SPIN_MS = 0.3;

/**
 * Runs one part of an open-loop level in this event loop. Driven from outside like the closed
 * loop's shard (start, beginMeasure, stop), so that the same code runs a whole level in-process or
 * one generator thread's share. Counting follows the schedule, not the messages: an arrival due in
 * the warm-up is warm-up, whenever the measure message arrives. Never prints.
 */
export class OpenLevelShard implements ConnectionOwner {
  /** Settles once the shard stopped and no request is in flight any more. */
  readonly idle: Promise<void>;
  readonly #plan: ShardPlan;
  readonly #open: OpenShardPlan;
  readonly #bodyFn: ((ctx: PayloadContext) => string) | undefined;
  readonly #check: ShardCheck | undefined;
  readonly #template: RequestTemplate;
  readonly #endpoint: ConnectionEndpoint;
  readonly #connections: Connection[] = [];
  /** Connections without a request in flight, the most recently used last (kept warm, the others idle). */
  readonly #free: Connection[] = [];
  readonly #recorder: ShardRecorder;
  readonly #timeoutMs: number;
  readonly #timeOrigin = performance.timeOrigin;
  readonly #schedule: ArrivalSchedule;
  /** Global indices of the counted arrivals (requests_per_level): from `#firstCounted` up to, not including, `#endCounted`. */
  #firstCounted = 0;
  #endCounted = Infinity;
  #t0 = 0;
  #tMeasure = 0;
  #tEnd = 0;
  #stopped = false;
  #inFlight = 0;
  #inFlightCounted = 0;
  #maxInFlightSeen = 0;
  #inFlightAtEnd = 0;
  #unsentAtEnd = 0;
  /** Whether the schedule has no arrival left for this shard (requests_per_level, or past the duration). */
  #exhausted = false;
  #timer: NodeJS.Timeout | undefined;
  #immediate: NodeJS.Immediate | undefined;
  #ticker: NodeJS.Timeout | undefined;
  #idleResolve: (() => void) | null = null;

  constructor(plan: ShardPlan, hooks: ShardHooks, bodyFn?: (ctx: PayloadContext) => string, check?: ShardCheck) {
    if (!plan.open) throw new Error('OpenLevelShard needs an open-loop plan (plan.open)');
    this.#plan = plan;
    this.#open = plan.open;
    this.#bodyFn = bodyFn;
    this.#check = check;
    const url = new URL(plan.url);
    this.#template = buildRequestTemplate(url, plan.method, plan.headers, bodyFn ?? plan.body);
    this.#timeoutMs = plan.timeoutSeconds * 1000;
    this.#recorder = new ShardRecorder(plan, hooks);
    this.#endpoint = endpointOf(url, this.#template, check !== undefined, plan.maxBodyBytes);
    const o = this.#open;
    this.#schedule = new ArrivalSchedule({ rateRps: o.rateRps, arrivals: o.arrivals, seed: o.seed, partition: o.partition });
    if (o.requests !== undefined) {
      this.#firstCounted = firstArrivalAtOrAfter(o, o.warmupMs);
      this.#endCounted = this.#firstCounted + o.requests;
    }
    this.idle = new Promise((resolve) => (this.#idleResolve = resolve));
  }

  /** Latencies (from the due time) of every counted success, µs (valid until `dispose`). */
  get histogram(): Histogram {
    return this.#recorder.histogram;
  }

  /** Starts the schedule at `t0` (this thread's `performance.now()` clock); arrival 0 is due then. */
  start(t0 = performance.now()): void {
    if (this.#stopped) return this.#checkIdle();
    this.#t0 = t0;
    this.#tMeasure = t0 + this.#open.warmupMs;
    const tick = Math.max(10, Math.min(100, this.#timeoutMs / 4));
    this.#ticker = setInterval(() => this.#onTick(), tick);
    this.#recorder.start(performance.now());
    this.#recorder.beginMeasure(this.#tMeasure);
    this.#schedule.next();
    this.#pump();
  }

  /** The measured phase follows from the schedule (t0 + warm-up): nothing to do. */
  beginMeasure(_tMeasure?: number): void {}

  /** Ends the shard now: no new arrivals; in-flight requests are aborted and not counted. */
  stop(): void {
    if (this.#stopped) return;
    const now = performance.now();
    const d = this.#open.durationMs;
    // The measured window is the arrivals' window: a stop that comes a little late does not stretch it.
    this.#tEnd = now < this.#tMeasure ? 0 : d !== undefined ? Math.min(now, this.#tMeasure + d) : now;
    this.#halt();
  }

  /** A snapshot for progress events. */
  counters(): ShardCounters {
    return this.#recorder.counters();
  }

  /** After `idle`: reports the last second, flushes raw rows, closes the sockets and returns the counts. */
  finish(): ShardResult {
    const measured = this.#tEnd > 0;
    const result = this.#recorder.finish(measured, measured ? this.#timeOrigin + this.#tEnd : 0);
    for (const c of this.#connections) c.close();
    const open = result.open!;
    result.open = { ...open, maxInFlightSeen: this.#maxInFlightSeen, inFlightAtEnd: this.#inFlightAtEnd, scheduled: open.sent + open.dropped + this.#unsentAtEnd };
    return result;
  }

  /** Frees the WASM histograms and timers. */
  dispose(): void {
    clearTimeout(this.#timer);
    if (this.#immediate) clearImmediate(this.#immediate);
    clearInterval(this.#ticker);
    for (const c of this.#connections) c.close();
    this.#recorder.dispose();
  }

  /** @internal A connection's request ended (the connection's callback). */
  requestEnded(c: Connection, err: Error | undefined): void {
    const end = performance.now();
    this.#inFlight--;
    if (err instanceof LevelEndedError) {
      if (c.counted) this.#inFlightCounted--;
      this.#checkIdle();
      return;
    }
    const { category, message } = requestOutcome(c, err, this.#check);
    if (c.counted) {
      this.#inFlightCounted--;
      this.#recorder.recordOpen(c.id, c.due, c.start, end, c.status, category, message);
    } else {
      this.#recorder.warmup();
    }
    this.#free.push(c);
    this.#pumpIfDue(end);
    if (this.#exhausted && this.#inFlightCounted === 0 && !this.#stopped && this.#open.requests !== undefined) {
      // The last counted request of requests_per_level mode: the measured phase ends with it.
      this.#tEnd = end;
      this.#halt();
    }
  }

  /** Sends every arrival that is due, then sleeps until the next one. */
  readonly #pump = (): void => {
    this.#timer = undefined;
    this.#immediate = undefined;
    if (this.#stopped || this.#exhausted) return;
    const schedule = this.#schedule;
    const o = this.#open;
    const endMs = o.durationMs !== undefined ? o.warmupMs + o.durationMs : Infinity;
    let now = performance.now();
    while (this.#t0 + schedule.dueMs <= now + EARLY_SEND_MS) {
      const dueMs = schedule.dueMs;
      const index = schedule.index;
      if (dueMs >= endMs || index >= this.#endCounted) {
        this.#exhausted = true;
        if (this.#open.requests !== undefined && this.#inFlightCounted === 0) {
          this.#tEnd = now;
          this.#halt();
        }
        return;
      }
      const counted = dueMs >= o.warmupMs && index >= this.#firstCounted;
      this.#arrive(this.#t0 + dueMs, counted);
      if (this.#stopped) return;
      schedule.next();
      now = performance.now();
    }
    // A timer, not a sleep: the due times come from t0, so a late timer makes no drift, only lag.
    // Timers count whole milliseconds and may fire up to one early; the last fraction of a
    // millisecond (at most SPIN_MS) is waited out by turns of the loop, a longer one by another timer.
    const wait = this.#t0 + schedule.dueMs - now;
    if (wait < SPIN_MS) this.#immediate = setImmediate(this.#pump);
    else this.#timer = setTimeout(this.#pump, Math.max(1, Math.floor(wait)));
  };

  /** Sends the arrivals due by now, if any, between two timer wake-ups (a response just ended). */
  #pumpIfDue(now: number): void {
    if (this.#stopped || this.#exhausted || this.#t0 + this.#schedule.dueMs > now + EARLY_SEND_MS) return;
    clearTimeout(this.#timer);
    if (this.#immediate) clearImmediate(this.#immediate);
    this.#pump();
  }

  /** One arrival due at `due`: sent on a free connection (or a new one), or dropped at `maxInFlight`. */
  #arrive(due: number, counted: boolean): void {
    if (this.#inFlight >= this.#open.maxInFlight) {
      if (counted) this.#recorder.dropped(due, `${this.#open.maxInFlight} requests outstanding (max_in_flight): arrival not sent`);
      return;
    }
    let c = this.#free.pop();
    if (c === undefined) {
      c = new Connection(this.#plan.firstWorker + this.#connections.length, this.#endpoint, this);
      this.#connections.push(c);
    }
    c.counted = counted;
    c.due = due;
    const data = nextRequestBytes(this.#template, this.#bodyFn, this.#plan, c);
    this.#inFlight++;
    if (counted) {
      this.#inFlightCounted++;
      if (this.#inFlight > this.#maxInFlightSeen) this.#maxInFlightSeen = this.#inFlight;
    }
    c.send(data);
    if (counted) this.#recorder.sent(due, c.start);
  }

  #halt(): void {
    this.#stopped = true;
    if (this.#immediate) clearImmediate(this.#immediate);
    this.#unsentAtEnd = this.#countUnsent();
    clearTimeout(this.#timer);
    clearInterval(this.#ticker);
    this.#inFlightAtEnd = this.#inFlightCounted;
    for (const c of this.#connections) {
      if (c.inFlight) c.fail(new LevelEndedError());
    }
    this.#checkIdle();
  }

  /** Counted arrivals due before the end that the pump never reached (the generator fell behind): they were not sent. */
  #countUnsent(): number {
    if (this.#exhausted || this.#tEnd <= 0) return 0;
    const o = this.#open;
    const schedule = this.#schedule;
    const end = Math.min(this.#tEnd - this.#t0, o.durationMs !== undefined ? o.warmupMs + o.durationMs : Infinity);
    let n = 0;
    for (; schedule.dueMs < end && schedule.index < this.#endCounted; schedule.next()) {
      if (schedule.dueMs >= o.warmupMs && schedule.index >= this.#firstCounted) n++;
    }
    return n;
  }

  #checkIdle(): void {
    if (this.#stopped && this.#connections.every((c) => !c.inFlight)) this.#idleResolve?.();
  }

  #onTick(): void {
    const now = performance.now();
    for (const c of this.#connections) {
      if (c.inFlight && now - c.start > this.#timeoutMs) c.fail(new RequestTimeoutError(this.#timeoutMs));
    }
    this.#recorder.tick(now, now >= this.#tMeasure && !this.#stopped);
  }
}
