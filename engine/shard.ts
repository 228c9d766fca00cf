/**
 * The closed loop of one event loop: `plan.connections` connections, each sending its next
 * request as soon as the previous one ended. The shard schedules (start, measure, stop, the
 * requests_per_level count, timeouts); its connections talk HTTP (connection.ts) and its
 * recorder keeps the figures (shard-recorder.ts).
 */
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import type { Histogram } from 'hdr-histogram-js';
import { Connection, type ConnectionEndpoint, type ConnectionOwner } from './connection.ts';
import { LevelEndedError, RequestTimeoutError } from './errors.ts';
import { requestOutcome, type ShardCheck } from './request-outcome.ts';
import { buildRequestTemplate, type RequestTemplate } from './http1.ts';
import { nextRequestBytes } from './request-bytes.ts';
import { ShardRecorder } from './shard-recorder.ts';
import type { ShardCounters, ShardHooks, ShardPlan, ShardResult } from './shard-types.ts';
import type { ErrorCategory, PayloadContext } from './types.ts';

const READ_BUFFER_BYTES = 64 * 1024;

/** Where a shard's connections go, from its plan's URL. */
export function endpointOf(url: URL, template: RequestTemplate, collect: boolean, maxBodyBytes: number): ConnectionEndpoint {
  const secure = url.protocol === 'https:';
  const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  return {
    tls: secure,
    host,
    port: Number(url.port) || (secure ? 443 : 80),
    servername: secure && net.isIP(host) === 0 ? host : undefined,
    readBuffer: Buffer.allocUnsafe(READ_BUFFER_BYTES),
    isHead: template.isHead,
    collect,
    maxBodyBytes,
  };
}

/**
 * Runs a shard of a level: `plan.connections` closed-loop connections in this event loop.
 * Driven from outside (start, beginMeasure, stop), so that the same code runs a whole level
 * in-process or one generator thread's share of it. Never prints.
 */
export class LevelShard implements ConnectionOwner {
  /** Settles once the shard stopped and no request is in flight any more. */
  readonly idle: Promise<void>;
  readonly #plan: ShardPlan;
  readonly #bodyFn: ((ctx: PayloadContext) => string) | undefined;
  readonly #check: ShardCheck | undefined;
  readonly #template: RequestTemplate;
  readonly #connections: Connection[] = [];
  readonly #recorder: ShardRecorder;
  readonly #timeoutMs: number;
  readonly #timeOrigin = performance.timeOrigin;
  #measuring = false;
  #stopped = false;
  #tMeasure = 0;
  #tEnd = 0;
  #toIssue = Infinity;
  #inFlightCounted = 0;
  /** Connections waiting for the next turn of the event loop to send (see `requestEnded`). */
  readonly #sendQueue: Connection[] = [];
  #sendScheduled = false;
  #ticker: NodeJS.Timeout | undefined;
  #idleResolve: (() => void) | null = null;

  constructor(
    plan: ShardPlan,
    hooks: ShardHooks,
    bodyFn?: (ctx: PayloadContext) => string,
    check?: ShardCheck,
  ) {
    this.#plan = plan;
    this.#bodyFn = bodyFn;
    this.#check = check;
    const url = new URL(plan.url);
    this.#template = buildRequestTemplate(url, plan.method, plan.headers, bodyFn ?? plan.body);
    this.#timeoutMs = plan.timeoutSeconds * 1000;
    this.#recorder = new ShardRecorder(plan, hooks);
    const endpoint = endpointOf(url, this.#template, check !== undefined, plan.maxBodyBytes);
    for (let i = 0; i < plan.connections; i++) this.#connections.push(new Connection(plan.firstWorker + i, endpoint, this));
    this.idle = new Promise((resolve) => (this.#idleResolve = resolve));
  }

  /** Latencies of every counted success, µs (valid until `dispose`). */
  get histogram(): Histogram {
    return this.#recorder.histogram;
  }

  /** Starts every connection (the warm-up phase, until `beginMeasure`). The argument (an open loop's t0) is not used. */
  start(_t0?: number): void {
    if (this.#stopped) return this.#checkIdle();
    const tick = Math.max(10, Math.min(100, this.#timeoutMs / 4));
    this.#ticker = setInterval(() => this.#onTick(), tick);
    this.#recorder.start(performance.now());
    for (const c of this.#connections) this.#send(c);
  }

  /** Starts the measured phase at `tMeasure` (this thread's `performance.now()` clock). */
  beginMeasure(tMeasure = performance.now()): void {
    if (this.#stopped) return;
    this.#measuring = true;
    this.#tMeasure = tMeasure;
    this.#recorder.beginMeasure(tMeasure);
    if (this.#plan.requests !== undefined) {
      this.#toIssue = this.#plan.requests;
      if (this.#toIssue === 0) this.#endRequests();
    }
  }

  /** Ends the shard now: no new requests; in-flight ones are aborted and not counted. */
  stop(): void {
    if (this.#stopped) return;
    this.#tEnd = this.#measuring ? performance.now() : 0;
    this.#halt();
  }

  /** A snapshot for progress events. */
  counters(): ShardCounters {
    return this.#recorder.counters();
  }

  /** After `idle`: reports the last second, flushes raw rows, closes the sockets and returns the counts. */
  finish(): ShardResult {
    const result = this.#recorder.finish(this.#measuring, this.#measuring ? this.#timeOrigin + this.#tEnd : 0);
    for (const c of this.#connections) c.close();
    return result;
  }

  /** Frees the WASM histograms and timers. */
  dispose(): void {
    clearInterval(this.#ticker);
    for (const c of this.#connections) c.close();
    this.#recorder.dispose();
  }

  /** @internal A connection's request ended (the connection's callback). */
  requestEnded(c: Connection, err: Error | undefined): void {
    const end = performance.now();
    if (err instanceof LevelEndedError) {
      if (c.counted) this.#inFlightCounted--;
      this.#checkIdle();
      return;
    }
    const { category, message } = requestOutcome(c, err, this.#check);
    this.#record(c, end, category, message);
    if (this.#measuring && this.#toIssue <= 0 && this.#inFlightCounted === 0 && this.#plan.requests !== undefined) {
      // The last counted request of requests_per_level mode: the measured phase ends with it.
      this.#endRequests(end);
      return;
    }
    // The next request leaves on the next turn of the event loop, after every response that is
    // already readable has been timed: writing at once would delay those responses' end stamps
    // by a send each. One setImmediate serves every connection that finished in this turn.
    this.#sendQueue.push(c);
    if (!this.#sendScheduled) {
      this.#sendScheduled = true;
      setImmediate(this.#flushSends);
    }
  }

  #endRequests(end = performance.now()): void {
    if (this.#stopped) return;
    this.#tEnd = end;
    this.#halt();
  }

  #halt(): void {
    this.#stopped = true;
    clearInterval(this.#ticker);
    for (const c of this.#connections) {
      if (c.inFlight) c.fail(new LevelEndedError());
    }
    this.#checkIdle();
  }

  #checkIdle(): void {
    if (this.#connections.every((c) => !c.inFlight)) this.#idleResolve?.();
  }

  #send(c: Connection): void {
    if (this.#stopped) return this.#checkIdle();
    const blocked = this.#recorder.rawBlocked;
    if (blocked) {
      void blocked.then(() => this.#send(c));
      return;
    }
    if (this.#measuring && this.#plan.requests !== undefined) {
      if (this.#toIssue <= 0) return;
      this.#toIssue--;
      this.#inFlightCounted++;
      c.counted = true;
    } else {
      c.counted = false;
    }
    c.send(nextRequestBytes(this.#template, this.#bodyFn, this.#plan, c));
  }

  readonly #flushSends = (): void => {
    this.#sendScheduled = false;
    const queue = this.#sendQueue;
    // Sends may fail synchronously and queue again: take this turn's list first.
    const n = queue.length;
    for (let i = 0; i < n; i++) this.#send(queue[i]!);
    if (queue.length === n) queue.length = 0;
    else queue.splice(0, n);
  };

  #record(c: Connection, end: number, category: ErrorCategory | undefined, message: string): void {
    const counted = this.#plan.requests !== undefined ? c.counted : this.#measuring && !this.#stopped && end >= this.#tMeasure;
    if (c.counted) this.#inFlightCounted--;
    if (!counted) {
      this.#recorder.warmup();
      return;
    }
    this.#recorder.record(c.id, c.start, end, c.status, category, message);
  }

  #onTick(): void {
    const now = performance.now();
    for (const c of this.#connections) {
      if (c.inFlight && now - c.start > this.#timeoutMs) c.fail(new RequestTimeoutError(this.#timeoutMs));
    }
    this.#recorder.tick(now, this.#measuring && !this.#stopped);
  }
}
