import net from 'node:net';
import tls from 'node:tls';
import { performance } from 'node:perf_hooks';
import type { Histogram } from 'hdr-histogram-js';
import { ERROR_CATEGORIES, ERROR_SAMPLE_LENGTH, MAX_ERROR_SAMPLE_SOURCE_LENGTH, type CheckResponse, type ErrorCategory, type PayloadContext } from './types.ts';
import { BodyTooLargeError, RequestTimeoutError, SocketClosedError, classifyError, classifyStatus } from './errors.ts';
import { HIGHEST_TRACKABLE_US, createLatencyHistogram } from './histogram.ts';
import { ResponseParser, buildRequestTemplate, requestWithBody, type RequestTemplate, type ResponseHandler } from './http1.ts';
import { RawRowEncoder } from './raw-rows.ts';

/** The part of a level one event loop runs: all of it, or one generator thread's share. Structured-cloneable. */
export interface ShardPlan {
  scenario: string;
  /** The level's concurrency (the raw CSV column and the payload context's `level`). */
  levelConcurrency: number;
  /** Connections of this shard. */
  connections: number;
  /** Level-wide number of this shard's first connection (the raw CSV `worker` column). */
  firstWorker: number;
  url: string;
  method: string;
  headers: Record<string, string>;
  /** A fixed body; a body function is passed separately (it cannot cross threads). */
  body?: string;
  challengeId: string;
  timeoutSeconds: number;
  maxBodyBytes: number;
  /** Requests this shard sends in the measured phase (requests_per_level mode). */
  requests?: number;
  /** Whether raw rows are produced. */
  raw: boolean;
}

/** What the shard hands out while it runs. */
export interface ShardHooks {
  /** A chunk of raw CSV rows. Returns false when the consumer wants the shard to wait for `rawDrain`. */
  raw?(chunk: Buffer): boolean;
  rawDrain?(): Promise<void>;
  /** One finished second of the measured phase; the histogram is only valid during the call. */
  second(report: SecondReport, histogram: Histogram): void;
}

/** Counts of one second of the measured phase; `index` 0 starts at the measure start. */
export interface SecondReport {
  index: number;
  requests: number;
  successes: number;
  failures: number;
}

/** A shard's counters, cheap to read at any time (progress). */
export interface ShardCounters {
  requests: number;
  successes: number;
  failures: number;
  warmupRequests: number;
}

/** Everything a shard measured, for the merge. Structured-cloneable except `histogram` in-process. */
export interface ShardResult {
  requests: number;
  successes: number;
  warmupRequests: number;
  /** Failures per category, in ERROR_CATEGORIES order. */
  errors: number[];
  statusCodes: [number, number][];
  errorSamples: [ErrorCategory, string][];
  /** End of this shard's measured phase, ms since the epoch (0 when it never measured). */
  endEpochMs: number;
}

const MAX_ERROR_SAMPLES_PER_CATEGORY = 3;
/**
 * Partly filled raw chunks are handed out at least this often while the level runs, so that a
 * killed process leaves every row up to the last second on disk: the file lags by at most this
 * plus a tick (≤ 100 ms) and the write. One write per interval, never one per row.
 */
export const RAW_FLUSH_INTERVAL_MS = 500;
const READ_BUFFER_BYTES = 64 * 1024;

/** Thrown into in-flight requests when the level ends; such requests are not counted. */
class LevelEndedError extends Error {
  readonly code = 'LOADBENCH_LEVEL_ENDED';
}

function headersToRecord(flat: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) {
    const name = flat[i]!;
    out[name] = name in out ? `${out[name]}, ${flat[i + 1]}` : flat[i + 1]!;
  }
  return out;
}

/**
 * One connection of the closed loop: one request in flight at a time, the next sent as soon as
 * the previous one ended. Its own socket and response parser; it is the parser's handler, so a
 * response costs no allocation (unless a check needs the headers and body).
 */
class Connection implements ResponseHandler {
  socket: net.Socket | null = null;
  connected = false;
  readonly parser: ResponseParser;
  iteration = 0;
  inFlight = false;
  counted = false;
  start = 0;
  status = 0;
  bytes = 0;
  chunks: Buffer[] | null = null;
  /** Bytes to write once the connection is up. */
  pendingWrite: Buffer | string | null = null;
  /** The response asked for the connection to be closed (or bytes followed it). */
  drop = false;

  constructor(
    readonly id: number,
    readonly shard: LevelShard,
  ) {
    this.parser = new ResponseParser(this);
    this.parser.isHead = shard.template.isHead;
    this.parser.collectHeaders = shard.check !== undefined;
  }

  send(data: Buffer | string): void {
    this.inFlight = true;
    this.status = 0;
    this.bytes = 0;
    this.drop = false;
    if (this.chunks) this.chunks.length = 0;
    const socket = this.socket;
    if (socket !== null && this.connected) {
      // Stamped right before the write: the request's time starts when it leaves.
      this.start = performance.now();
      socket.write(data);
      return;
    }
    // A new connection: its set-up time is part of this request's latency.
    this.start = performance.now();
    this.pendingWrite = data;
    if (socket === null) this.connect();
  }

  connect(): void {
    const { shard } = this;
    const onRead = (nread: number, buf: Uint8Array): boolean => {
      this.onRead(socket, buf as Buffer, nread);
      return true;
    };
    const socket: net.Socket = shard.tls
      ? tls.connect({ host: shard.host, port: shard.port, servername: shard.servername, ALPNProtocols: ['http/1.1'] })
      : net.connect({ host: shard.host, port: shard.port, noDelay: true, onread: { buffer: shard.readBuffer, callback: onRead } });
    if (shard.tls) {
      socket.setNoDelay(true);
      socket.on('data', (chunk: Buffer) => this.onRead(socket, chunk, chunk.length));
    }
    this.socket = socket;
    this.connected = false;
    socket.once(shard.tls ? 'secureConnect' : 'connect', () => {
      if (this.socket !== socket) return;
      this.connected = true;
      const data = this.pendingWrite;
      this.pendingWrite = null;
      if (data !== null) socket.write(data);
    });
    socket.on('error', (err: Error) => this.onSocketGone(socket, err));
    socket.on('close', () => this.onSocketGone(socket, undefined));
  }

  onRead(socket: net.Socket, buf: Buffer, nread: number): void {
    if (socket !== this.socket) return;
    if (!this.inFlight) {
      // Bytes nobody asked for: this connection cannot be trusted with another request.
      this.closeSocket();
      return;
    }
    let stop: number;
    try {
      stop = this.parser.execute(buf, 0, nread);
    } catch (error) {
      this.fail(error as Error);
      return;
    }
    if (this.drop || (stop < nread && !this.inFlight)) this.closeSocket();
  }

  /** The socket failed or closed: completes a close-delimited body, or fails the request in flight. */
  onSocketGone(socket: net.Socket, err: Error | undefined): void {
    if (socket !== this.socket) return;
    this.socket = null;
    this.connected = false;
    this.pendingWrite = null;
    if (!this.inFlight) return;
    if (err === undefined && this.parser.readsUntilClose) {
      this.parser.finish();
      return;
    }
    this.parser.reset();
    this.fail(err ?? new SocketClosedError());
  }

  closeSocket(): void {
    const socket = this.socket;
    this.socket = null;
    this.connected = false;
    this.pendingWrite = null;
    this.parser.reset();
    socket?.destroy();
  }

  /** Ends the request in flight with an error; the connection is dropped (a new one serves the next request). */
  fail(err: Error): void {
    if (!this.inFlight) return;
    this.closeSocket();
    this.shard.complete(this, err);
  }

  onResponseHead(status: number): void {
    this.status = status;
  }

  onResponseBody(buf: Buffer, start: number, end: number): boolean {
    this.bytes += end - start;
    if (this.bytes > this.shard.plan.maxBodyBytes) {
      this.fail(new BodyTooLargeError(this.shard.plan.maxBodyBytes));
      return false;
    }
    // The read buffer is reused: a check's body must be copied out.
    if (this.shard.check) (this.chunks ??= []).push(Buffer.from(buf.subarray(start, end)));
    return true;
  }

  onResponseEnd(keepAlive: boolean): void {
    if (!keepAlive) this.drop = true;
    this.shard.complete(this, undefined);
  }
}

/**
 * Runs a shard of a level: `plan.connections` closed-loop connections in this event loop.
 * Driven from outside (start, beginMeasure, stop), so that the same code runs a whole level
 * in-process or one generator thread's share of it. Never prints.
 */
export class LevelShard {
  readonly connections: Connection[] = [];
  readonly template: RequestTemplate;
  readonly readBuffer = Buffer.allocUnsafe(READ_BUFFER_BYTES);
  readonly tls: boolean;
  readonly host: string;
  readonly port: number;
  readonly servername: string | undefined;
  readonly histogram: Histogram = createLatencyHistogram();
  readonly secondHistogram: Histogram = createLatencyHistogram();
  readonly errors = new Float64Array(ERROR_CATEGORIES.length);
  /** Up to three samples per category: the first {@link ERROR_SAMPLE_LENGTH} characters, then the kept text. */
  readonly errorSamples = new Map<ErrorCategory, Map<string, string>>();
  /** Count per status code 0-999 (0: no response). */
  readonly statusCounts = new Float64Array(1000);
  readonly categoryIndex = new Map(ERROR_CATEGORIES.map((c, i) => [c, i] as const));
  readonly timeoutMs: number;
  readonly rows: RawRowEncoder | null;
  readonly timeOrigin = performance.timeOrigin;

  measuring = false;
  stopped = false;
  tMeasure = 0;
  tEnd = 0;
  warmupRequests = 0;
  requests = 0;
  successes = 0;
  failures = 0;
  toIssue = Infinity;
  inFlightCounted = 0;
  secIndex = 0;
  sec: SecondReport = { index: 0, requests: 0, successes: 0, failures: 0 };
  rawBlocked: Promise<void> | null = null;
  /** When raw rows were last handed out (`performance.now()`). */
  lastRawFlush = 0;
  /** Connections waiting for the next turn of the event loop to send (see `complete`). */
  readonly sendQueue: Connection[] = [];
  sendScheduled = false;
  ticker: NodeJS.Timeout | undefined;
  private idleResolve: (() => void) | null = null;
  readonly idle: Promise<void>;

  constructor(
    readonly plan: ShardPlan,
    readonly hooks: ShardHooks,
    readonly bodyFn?: (ctx: PayloadContext) => string,
    readonly check?: (response: CheckResponse) => boolean | void | Promise<boolean | void>,
  ) {
    const url = new URL(plan.url);
    this.tls = url.protocol === 'https:';
    this.host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
    this.port = Number(url.port) || (this.tls ? 443 : 80);
    this.servername = this.tls && net.isIP(this.host) === 0 ? this.host : undefined;
    this.template = buildRequestTemplate(url, plan.method, plan.headers, bodyFn ?? plan.body);
    this.timeoutMs = plan.timeoutSeconds * 1000;
    this.rows = plan.raw ? new RawRowEncoder(plan.scenario, plan.levelConcurrency) : null;
    for (let i = 0; i < plan.connections; i++) this.connections.push(new Connection(plan.firstWorker + i, this));
    this.idle = new Promise((resolve) => (this.idleResolve = resolve));
  }

  /** Starts every connection (the warm-up phase, until `beginMeasure`). */
  start(): void {
    if (this.stopped) return this.checkIdle();
    const tick = Math.max(10, Math.min(100, this.timeoutMs / 4));
    this.ticker = setInterval(() => this.onTick(), tick);
    this.lastRawFlush = performance.now();
    for (const c of this.connections) this.send(c);
  }

  /** Starts the measured phase at `tMeasure` (this thread's `performance.now()` clock). */
  beginMeasure(tMeasure = performance.now()): void {
    if (this.stopped) return;
    this.measuring = true;
    this.tMeasure = tMeasure;
    this.secIndex = 0;
    this.sec = { index: 0, requests: 0, successes: 0, failures: 0 };
    this.secondHistogram.reset();
    if (this.plan.requests !== undefined) {
      this.toIssue = this.plan.requests;
      if (this.toIssue === 0) this.endRequests();
    }
  }

  /** Ends the shard now: no new requests; in-flight ones are aborted and not counted. */
  stop(): void {
    if (this.stopped) return;
    this.tEnd = this.measuring ? performance.now() : 0;
    this.halt();
  }

  private endRequests(end = performance.now()): void {
    if (this.stopped) return;
    this.tEnd = end;
    this.halt();
  }

  private halt(): void {
    this.stopped = true;
    clearInterval(this.ticker);
    for (const c of this.connections) {
      if (c.inFlight) c.fail(new LevelEndedError('level ended'));
    }
    this.checkIdle();
  }

  private checkIdle(): void {
    if (this.connections.every((c) => !c.inFlight)) this.idleResolve?.();
  }

  send(c: Connection): void {
    if (this.stopped) return this.checkIdle();
    if (this.rawBlocked) {
      void this.rawBlocked.then(() => this.send(c));
      return;
    }
    if (this.measuring && this.plan.requests !== undefined) {
      if (this.toIssue <= 0) return;
      this.toIssue--;
      this.inFlightCounted++;
      c.counted = true;
    } else {
      c.counted = false;
    }
    let data: Buffer | string;
    if (this.bodyFn) {
      const body = this.bodyFn({ level: this.plan.levelConcurrency, worker: c.id, iteration: c.iteration, challengeId: this.plan.challengeId });
      data = requestWithBody(this.template, body);
    } else {
      data = this.template.fixed!;
    }
    c.iteration++;
    c.send(data);
  }

  complete(c: Connection, err: Error | undefined): void {
    if (!c.inFlight) return;
    const end = performance.now();
    c.inFlight = false;
    if (err !== undefined && (err as { code?: string }).code === 'LOADBENCH_LEVEL_ENDED') {
      if (c.counted) this.inFlightCounted--;
      this.checkIdle();
      return;
    }
    let category: ErrorCategory | undefined;
    let message = '';
    if (err !== undefined) {
      category = classifyError(err);
      message = err.message;
    } else {
      category = classifyStatus(c.status);
      if (category !== undefined) message = `HTTP ${c.status}`;
      else if (this.check) {
        const verdict = this.runCheck(c);
        if (verdict !== true) {
          category = 'check_failed';
          message = typeof verdict === 'string' ? verdict : 'check returned false';
        }
      }
    }
    this.record(c, end, category, message);
    if (this.measuring && this.toIssue <= 0 && this.inFlightCounted === 0 && this.plan.requests !== undefined) {
      // The last counted request of requests_per_level mode: the measured phase ends with it.
      this.endRequests(end);
      return;
    }
    // The next request leaves on the next turn of the event loop, after every response that is
    // already readable has been timed: writing at once would delay those responses' end stamps
    // by a send each. One setImmediate serves every connection that finished in this turn.
    this.sendQueue.push(c);
    if (!this.sendScheduled) {
      this.sendScheduled = true;
      setImmediate(this.flushSends);
    }
  }

  readonly flushSends = (): void => {
    this.sendScheduled = false;
    const queue = this.sendQueue;
    // Sends may fail synchronously and queue again: take this turn's list first.
    const n = queue.length;
    for (let i = 0; i < n; i++) this.send(queue[i]!);
    if (queue.length === n) queue.length = 0;
    else queue.splice(0, n);
  };

  private runCheck(c: Connection): true | string | false {
    const body = c.chunks ? Buffer.concat(c.chunks).toString('utf8') : '';
    const response: CheckResponse = {
      status: c.status,
      headers: headersToRecord(c.parser.headers),
      body,
      json: <T>() => JSON.parse(body) as T,
    };
    try {
      const out = this.check!(response);
      if (out instanceof Promise) return 'check returned a Promise: checks must be synchronous';
      return out === false ? false : true;
    } catch (error) {
      return `check threw: ${(error as Error).message}`;
    }
  }

  private record(c: Connection, end: number, category: ErrorCategory | undefined, message: string): void {
    const counted = this.plan.requests !== undefined ? c.counted : this.measuring && !this.stopped && end >= this.tMeasure;
    if (c.counted) this.inFlightCounted--;
    if (!counted) {
      this.warmupRequests++;
      return;
    }
    const index = Math.floor((end - this.tMeasure) / 1000);
    if (index !== this.secIndex) this.rollTo(index);
    const latencyUs = Math.min(HIGHEST_TRACKABLE_US, Math.max(1, Math.round((end - c.start) * 1000)));
    this.requests++;
    this.sec.requests++;
    this.statusCounts[c.status < 1000 ? c.status : 0]!++;
    if (category === undefined) {
      this.successes++;
      this.sec.successes++;
      this.histogram.recordValue(latencyUs);
      this.secondHistogram.recordValue(latencyUs);
    } else {
      this.failures++;
      this.errors[this.categoryIndex.get(category)!]!++;
      this.sec.failures++;
      this.sampleError(category, message);
    }
    const rows = this.rows;
    if (rows !== null) {
      rows.row(c.id, Math.round(this.timeOrigin + end), latencyUs, c.status, category);
      if (rows.full) this.flushRaw();
    }
  }

  /** Reports the current second (and any empty ones after it) up to `index`. */
  private rollTo(index: number): void {
    while (this.secIndex < index) {
      this.hooks.second(this.sec, this.secondHistogram);
      this.secondHistogram.reset();
      this.secIndex++;
      this.sec = { index: this.secIndex, requests: 0, successes: 0, failures: 0 };
    }
  }

  private sampleError(category: ErrorCategory, message: string): void {
    let samples = this.errorSamples.get(category);
    if (!samples) this.errorSamples.set(category, (samples = new Map()));
    // Told apart by what the results will show: messages that differ only past the cut would
    // fill the slots with samples that read the same.
    const key = message.slice(0, ERROR_SAMPLE_LENGTH);
    if (samples.size < MAX_ERROR_SAMPLES_PER_CATEGORY && !samples.has(key)) samples.set(key, message.slice(0, MAX_ERROR_SAMPLE_SOURCE_LENGTH));
  }

  /** Hands the raw rows so far to `hooks.raw` (dropped when there is no consumer). */
  flushRaw(): void {
    this.lastRawFlush = performance.now();
    const chunk = this.rows?.take();
    if (!chunk || !this.hooks.raw) return;
    const ok = this.hooks.raw(chunk);
    if (!ok && !this.rawBlocked && this.hooks.rawDrain) {
      // Back-pressure: connections wait for the disk instead of memory growing without bound.
      this.rawBlocked = this.hooks.rawDrain().then(() => {
        this.rawBlocked = null;
      });
    }
  }

  private onTick(): void {
    const now = performance.now();
    for (const c of this.connections) {
      if (c.inFlight && now - c.start > this.timeoutMs) c.fail(new RequestTimeoutError(this.timeoutMs));
    }
    // Seconds without any response are reported too, so the timeline has no holes.
    if (this.measuring && !this.stopped) {
      const index = Math.floor((now - this.tMeasure) / 1000);
      if (index > this.secIndex) this.rollTo(index);
    }
    // A slow level may take minutes to fill a chunk; a killed process must not lose those rows.
    // While the consumer is behind (back-pressure) the rows wait: the next flush takes them.
    if (this.rows !== null && this.rows.size > 0 && this.rawBlocked === null && now - this.lastRawFlush >= RAW_FLUSH_INTERVAL_MS) this.flushRaw();
  }

  /** A snapshot for progress events. */
  counters(): ShardCounters {
    return { requests: this.requests, successes: this.successes, failures: this.failures, warmupRequests: this.warmupRequests };
  }

  /** After `idle`: reports the last second, flushes raw rows, closes the sockets and returns the counts. */
  finish(): ShardResult {
    if (this.measuring && this.sec.requests > 0) {
      this.hooks.second(this.sec, this.secondHistogram);
      this.secondHistogram.reset();
      this.sec = { index: this.secIndex + 1, requests: 0, successes: 0, failures: 0 };
    }
    this.flushRaw();
    for (const c of this.connections) c.closeSocket();
    const statusCodes: [number, number][] = [];
    this.statusCounts.forEach((n, status) => {
      if (n > 0 && status > 0) statusCodes.push([status, n]);
    });
    return {
      requests: this.requests,
      successes: this.successes,
      warmupRequests: this.warmupRequests,
      errors: [...this.errors],
      statusCodes,
      errorSamples: [...this.errorSamples].flatMap(([category, samples]) => [...samples.values()].map((m): [ErrorCategory, string] => [category, m])),
      endEpochMs: this.measuring ? this.timeOrigin + this.tEnd : 0,
    };
  }

  /** Frees the WASM histograms and timers. */
  dispose(): void {
    clearInterval(this.ticker);
    for (const c of this.connections) c.closeSocket();
    this.histogram.destroy();
    this.secondHistogram.destroy();
  }
}
