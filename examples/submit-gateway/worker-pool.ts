/**
 * Pool of forked worker processes plus the gateway's bounded job queue.
 *
 * The gateway is the single entry point, so balancing and back-pressure live
 * here: least-outstanding-jobs dispatch, a small per-worker pipeline (so a
 * worker never idles waiting for the next IPC message) and a bounded FIFO in
 * front of it. When the FIFO is full, submit() fails fast instead of growing
 * memory without limit.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { createRequire } from 'node:module';
import { performance } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { assertDifficulty } from './proof-of-work.ts';
import type { FromWorkerMessage, JobMessage } from './protocol.ts';

/** Settings of a {@link WorkerPool}. */
export interface WorkerPoolOptions {
  /** Number of worker processes. */
  readonly workers: number;
  /** Leading zero bits every job must find. */
  readonly difficulty: number;
  /** Jobs handed to one worker before it must answer one (its pipeline depth). */
  readonly maxInFlightPerWorker: number;
  /** Jobs allowed to wait in the gateway when every pipeline is full. */
  readonly queueLimit: number;
  /** Give up on start() if workers are not all ready by then. */
  readonly readyTimeoutMs?: number;
  /** Where worker problems are reported (one line each). */
  readonly log?: (line: string) => void;
}

/** What a finished job reports. */
export interface JobResult {
  readonly nonce: number;
  readonly hash: string;
  /** Index (0…workers-1) of the worker that solved it. */
  readonly worker: number;
  /** Time spent waiting in the gateway queue before dispatch. */
  readonly queuedMs: number;
  /** Time the worker spent searching. */
  readonly workMs: number;
}

/** Handle of a submitted job. */
export interface JobHandle {
  readonly result: Promise<JobResult>;
  /** Drop the job if it is still queued (client went away); a job already at a worker just runs out. */
  cancel(): void;
}

/** Snapshot for /healthz. */
export interface PoolStats {
  readonly workers: number;
  readonly ready: number;
  readonly queueDepth: number;
  readonly inFlight: number;
  readonly workerPids: readonly number[];
}

/** Rejection when the gateway queue is at its limit. */
export class QueueFullError extends Error {
  override readonly name = 'QueueFullError';
}
/** Rejection when the pool is shutting down. */
export class PoolClosedError extends Error {
  override readonly name = 'PoolClosedError';
}
/** Rejection when the worker holding the job died or reported an error. */
export class WorkerFailedError extends Error {
  override readonly name = 'WorkerFailedError';
}
/** Rejection of a job the caller cancelled. */
export class JobCancelledError extends Error {
  override readonly name = 'JobCancelledError';
}

interface Job {
  readonly id: number;
  readonly challengeId: string;
  readonly enqueuedAt: number;
  dispatchedAt: number;
  /** Set once the job is settled or cancelled; queued entries with it set are skipped. */
  settled: boolean;
  queued: boolean;
  resolve(result: JobResult): void;
  reject(error: Error): void;
}

interface WorkerSlot {
  readonly index: number;
  child: ChildProcess | undefined;
  pid: number | undefined;
  ready: boolean;
  readonly inFlight: Map<number, Job>;
  /** Consecutive crashes, for respawn back-off. */
  crashes: number;
}

const WORKER_SCRIPT = fileURLToPath(new URL('./worker.ts', import.meta.url));

/**
 * `--import tsx` is resolved against the child's cwd, which breaks when the
 * gateway is started from another directory; resolving tsx from this file
 * and passing an absolute URL works from anywhere.
 */
function tsxImportArg(): string {
  const resolved = createRequire(import.meta.url).resolve('tsx');
  return pathToFileURL(resolved).href;
}

const MAX_START_NONCE = 2 ** 47;
const RESPAWN_BASE_MS = 100;
const RESPAWN_MAX_MS = 5_000;
const KILL_GRACE_MS = 1_000;

/** Forks, balances over and supervises the worker processes. */
export class WorkerPool {
  readonly #options: Required<Omit<WorkerPoolOptions, 'log'>> & Pick<WorkerPoolOptions, 'log'>;
  readonly #slots: WorkerSlot[] = [];
  /** FIFO of waiting jobs; `#head` avoids O(n) shift() under sustained overload. */
  #queue: Array<Job | undefined> = [];
  #head = 0;
  #queuedLive = 0;
  #nextJobId = 1;
  /** Rotating tie-break so equal-load workers share jobs instead of worker 0 taking all. */
  #cursor = 0;
  #closed = false;
  #started = false;
  #readyWaiters: Array<() => void> = [];
  #drainWaiters: Array<() => void> = [];
  readonly #respawnTimers = new Set<NodeJS.Timeout>();
  readonly #tsxImport = tsxImportArg();

  constructor(options: WorkerPoolOptions) {
    if (!Number.isInteger(options.workers) || options.workers < 1) {
      throw new RangeError(`workers must be a positive integer, got ${options.workers}`);
    }
    if (!Number.isInteger(options.maxInFlightPerWorker) || options.maxInFlightPerWorker < 1) {
      throw new RangeError(`maxInFlightPerWorker must be a positive integer, got ${options.maxInFlightPerWorker}`);
    }
    if (!Number.isInteger(options.queueLimit) || options.queueLimit < 0) {
      throw new RangeError(`queueLimit must be a non-negative integer, got ${options.queueLimit}`);
    }
    assertDifficulty(options.difficulty);
    this.#options = { readyTimeoutMs: 10_000, ...options };
    for (let index = 0; index < options.workers; index++) {
      this.#slots.push({ index, child: undefined, pid: undefined, ready: false, inFlight: new Map(), crashes: 0 });
    }
  }

  /** Fork all workers; resolves once every one has reported ready. */
  async start(): Promise<void> {
    if (this.#started) throw new Error('WorkerPool.start() called twice');
    this.#started = true;
    for (const slot of this.#slots) this.#spawn(slot);

    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`workers not ready after ${this.#options.readyTimeoutMs} ms`));
      }, this.#options.readyTimeoutMs);
      const check = (): void => {
        if (this.#closed) {
          cleanup();
          reject(new PoolClosedError('worker pool closed during start-up'));
        } else if (this.#slots.every((slot) => slot.ready)) {
          cleanup();
          resolve();
        }
      };
      const cleanup = (): void => {
        clearTimeout(timer);
        this.#readyWaiters = this.#readyWaiters.filter((waiter) => waiter !== check);
      };
      this.#readyWaiters.push(check);
      // A worker failing before it was ever ready is a set-up problem (missing tsx, syntax error);
      // respawning would only hide it, so start() fails instead.
      this.#startupFailure = (error) => {
        cleanup();
        reject(error);
      };
    });
    this.#startupFailure = undefined;
  }

  #startupFailure: ((error: Error) => void) | undefined;

  /** Queue a challenge. Rejects with {@link QueueFullError} immediately when the queue is at its limit. */
  submit(challengeId: string): JobHandle {
    let resolve!: (result: JobResult) => void;
    let reject!: (error: Error) => void;
    const result = new Promise<JobResult>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    if (this.#closed) {
      reject(new PoolClosedError('gateway is shutting down'));
      return { result, cancel: () => {} };
    }
    const job: Job = {
      id: this.#nextJobId++,
      challengeId,
      enqueuedAt: performance.now(),
      dispatchedAt: 0,
      settled: false,
      queued: false,
      resolve: (value) => {
        job.settled = true;
        resolve(value);
      },
      reject: (error) => {
        job.settled = true;
        reject(error);
      },
    };

    // Fast path keeps FIFO order: only bypass the queue when nobody is waiting.
    const slot = this.#queuedLive === 0 ? this.#pickWorker() : undefined;
    if (slot !== undefined) {
      this.#dispatch(slot, job);
    } else if (this.#queuedLive >= this.#options.queueLimit) {
      job.reject(new QueueFullError('queue full'));
    } else {
      job.queued = true;
      this.#queue.push(job);
      this.#queuedLive++;
    }

    const cancel = (): void => {
      if (job.settled || !job.queued) return;
      job.queued = false;
      this.#queuedLive--;
      job.reject(new JobCancelledError('cancelled by caller'));
      this.#compactIfMostlyDead();
    };
    return { result, cancel };
  }

  /** Counters for health checks. */
  stats(): PoolStats {
    let inFlight = 0;
    let ready = 0;
    const workerPids: number[] = [];
    for (const slot of this.#slots) {
      inFlight += slot.inFlight.size;
      if (slot.ready) ready++;
      if (slot.pid !== undefined) workerPids.push(slot.pid);
    }
    return { workers: this.#slots.length, ready, queueDepth: this.#queuedLive, inFlight, workerPids };
  }

  /**
   * Stop: fail queued jobs now, give in-flight jobs up to `graceMs` to finish,
   * fail the rest, then terminate the workers (SIGKILL if SIGTERM is ignored).
   */
  async close(graceMs = 500): Promise<void> {
    if (this.#closed) return this.#closing;
    this.#closed = true;
    this.#closing = this.#shutdown(graceMs);
    return this.#closing;
  }

  #closing: Promise<void> = Promise.resolve();

  async #shutdown(graceMs: number): Promise<void> {
    for (const timer of this.#respawnTimers) clearTimeout(timer);
    this.#respawnTimers.clear();
    for (const waiter of [...this.#readyWaiters]) waiter();

    const closedError = new PoolClosedError('gateway is shutting down');
    for (let i = this.#head; i < this.#queue.length; i++) {
      const job = this.#queue[i];
      if (job !== undefined && job.queued && !job.settled) job.reject(closedError);
    }
    this.#queue = [];
    this.#head = 0;
    this.#queuedLive = 0;

    if (this.stats().inFlight > 0 && graceMs > 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, graceMs);
        function done(): void {
          clearTimeout(timer);
          resolve();
        }
        this.#drainWaiters.push(done);
      });
    }
    for (const slot of this.#slots) this.#failInFlight(slot, closedError);

    await Promise.all(this.#slots.map((slot) => this.#terminate(slot)));
  }

  #terminate(slot: WorkerSlot): Promise<void> {
    const child = slot.child;
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const killTimer = setTimeout(() => child.kill('SIGKILL'), KILL_GRACE_MS);
      child.once('exit', () => {
        clearTimeout(killTimer);
        resolve();
      });
      // SIGTERM works even mid-slice (the worker installs no handler for it); disconnect is the backup.
      child.kill('SIGTERM');
      if (child.connected) child.disconnect();
    });
  }

  #spawn(slot: WorkerSlot): void {
    const child = fork(WORKER_SCRIPT, [], {
      execArgv: ['--import', this.#tsxImport],
      // Workers talk only over IPC; stdout is the gateway's (one ready line), stderr stays shared for crashes.
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
      // NODE_OPTIONS from a parent test runner or debugger must not leak into workers.
      env: { ...process.env, NODE_OPTIONS: '' },
    });
    slot.child = child;
    slot.pid = child.pid;
    slot.ready = false;

    child.on('message', (message: FromWorkerMessage) => this.#onMessage(slot, child, message));
    child.on('error', (error) => this.#options.log?.(`worker ${slot.index}: ${error.message}`));
    child.once('exit', (code, signal) => this.#onExit(slot, child, code, signal));
  }

  #onMessage(slot: WorkerSlot, child: ChildProcess, message: FromWorkerMessage): void {
    if (slot.child !== child) return;
    switch (message.type) {
      case 'ready': {
        slot.ready = true;
        slot.crashes = 0;
        for (const waiter of [...this.#readyWaiters]) waiter();
        this.#pump();
        return;
      }
      case 'result': {
        const job = slot.inFlight.get(message.id);
        if (job === undefined) return;
        slot.inFlight.delete(message.id);
        if (!job.settled) {
          job.resolve({
            nonce: message.nonce,
            hash: message.hash,
            worker: slot.index,
            queuedMs: job.dispatchedAt - job.enqueuedAt,
            workMs: message.workMs,
          });
        }
        this.#afterCompletion();
        return;
      }
      case 'job-error': {
        const job = slot.inFlight.get(message.id);
        if (job === undefined) return;
        slot.inFlight.delete(message.id);
        if (!job.settled) job.reject(new WorkerFailedError(`worker ${slot.index}: ${message.message}`));
        this.#afterCompletion();
        return;
      }
    }
  }

  #afterCompletion(): void {
    if (this.#closed) {
      if (this.stats().inFlight === 0) for (const waiter of this.#drainWaiters.splice(0)) waiter();
      return;
    }
    this.#pump();
  }

  #onExit(slot: WorkerSlot, child: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    if (slot.child !== child) return;
    const wasReady = slot.ready;
    slot.ready = false;
    slot.child = undefined;
    slot.pid = undefined;
    const how = signal !== null ? `signal ${signal}` : `code ${code}`;
    this.#failInFlight(slot, new WorkerFailedError(`worker ${slot.index} exited (${how})`));
    if (this.#closed) {
      if (this.stats().inFlight === 0) for (const waiter of this.#drainWaiters.splice(0)) waiter();
      return;
    }
    if (!wasReady && this.#startupFailure !== undefined) {
      this.#startupFailure(new Error(`worker ${slot.index} exited during start-up (${how})`));
      return;
    }
    slot.crashes++;
    const delay = Math.min(RESPAWN_MAX_MS, RESPAWN_BASE_MS * 2 ** (slot.crashes - 1));
    this.#options.log?.(`worker ${slot.index} exited (${how}); respawning in ${delay} ms`);
    const timer = setTimeout(() => {
      this.#respawnTimers.delete(timer);
      if (!this.#closed) this.#spawn(slot);
    }, delay);
    this.#respawnTimers.add(timer);
    // Jobs that were waiting can still go to the remaining workers.
    this.#pump();
  }

  #failInFlight(slot: WorkerSlot, error: Error): void {
    for (const job of slot.inFlight.values()) if (!job.settled) job.reject(error);
    slot.inFlight.clear();
  }

  /** Least outstanding jobs among ready workers with pipeline room; ties rotate. */
  #pickWorker(): WorkerSlot | undefined {
    const count = this.#slots.length;
    let best: WorkerSlot | undefined;
    for (let offset = 0; offset < count; offset++) {
      const slot = this.#slots[(this.#cursor + offset) % count];
      if (slot === undefined || !slot.ready) continue;
      const load = slot.inFlight.size;
      if (load >= this.#options.maxInFlightPerWorker) continue;
      if (best === undefined || load < best.inFlight.size) best = slot;
    }
    if (best !== undefined) this.#cursor = (best.index + 1) % count;
    return best;
  }

  #dispatch(slot: WorkerSlot, job: Job): void {
    const child = slot.child;
    if (child === undefined || !child.connected) {
      job.reject(new WorkerFailedError(`worker ${slot.index} is not connected`));
      return;
    }
    job.dispatchedAt = performance.now();
    slot.inFlight.set(job.id, job);
    const message: JobMessage = {
      type: 'job',
      id: job.id,
      challengeId: job.challengeId,
      difficulty: this.#options.difficulty,
      startNonce: randomInt(MAX_START_NONCE),
    };
    child.send(message, (error) => {
      // The worker died between our check and the write; its 'exit' handler may not have run yet.
      if (error && slot.inFlight.delete(job.id) && !job.settled) {
        job.reject(new WorkerFailedError(`worker ${slot.index}: ${error.message}`));
      }
    });
  }

  /**
   * Cancelled entries stay in the array until the pump passes them; if every
   * worker is stuck they would pile up, so drop them once they outnumber the limit.
   */
  #compactIfMostlyDead(): void {
    const dead = this.#queue.length - this.#head - this.#queuedLive;
    if (dead <= Math.max(64, this.#options.queueLimit)) return;
    this.#queue = this.#queue.slice(this.#head).filter((job) => job !== undefined && job.queued && !job.settled);
    this.#head = 0;
  }

  /** Move queued jobs into free pipeline slots. */
  #pump(): void {
    while (this.#queuedLive > 0 && this.#head < this.#queue.length) {
      const slot = this.#pickWorker();
      if (slot === undefined) return;
      const job = this.#queue[this.#head];
      this.#queue[this.#head] = undefined;
      this.#head++;
      if (job === undefined || !job.queued || job.settled) continue;
      job.queued = false;
      this.#queuedLive--;
      this.#dispatch(slot, job);
    }
    // Compact once consumed entries dominate, keeping memory proportional to the live queue.
    if (this.#head > 1024 && this.#head * 2 > this.#queue.length) {
      this.#queue = this.#queue.slice(this.#head);
      this.#head = 0;
    } else if (this.#queuedLive === 0 && this.#head === this.#queue.length) {
      this.#queue = [];
      this.#head = 0;
    }
  }
}
