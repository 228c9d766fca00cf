/**
 * Worker process: forked by worker-pool.ts with an IPC channel, solves
 * proof-of-work jobs one at a time and reports results back.
 *
 * Lifetime is tied to the gateway: when the IPC channel goes away (gateway
 * exited, crashed or was SIGKILLed) the worker exits immediately, so an
 * orphan can never keep burning CPU.
 */
import { performance } from 'node:perf_hooks';
import { hashAttempt, searchNonce } from './proof-of-work.ts';
import type { FromWorkerMessage, JobMessage, ToWorkerMessage } from './protocol.ts';

/**
 * Attempts per synchronous slice (~5–10 ms). Between slices the worker yields
 * to the event loop, which is what lets 'disconnect' fire during a long job.
 */
const ATTEMPTS_PER_SLICE = 8192;

/**
 * FAULT_EXTRA_WORK_PCT (validated by gateway.ts): after a job is solved, hash this share of its
 * attempts again, so every job costs that much more CPU, like a code change that makes the
 * gateway slower. The gate-power benchmark (perf/gate-power.ts) slows the gateway by 25 % this way.
 */
const EXTRA_WORK_PCT = Number(process.env.FAULT_EXTRA_WORK_PCT ?? 0) || 0;

function extraWork(challengeId: string, attempts: number): void {
  const extra = Math.round((attempts * EXTRA_WORK_PCT) / 100);
  for (let i = 0; i < extra; i++) hashAttempt(challengeId, i);
}

if (typeof process.send !== 'function') {
  console.error('submit-gateway worker: must be started by the gateway (no IPC channel)');
  process.exit(1);
}

process.on('disconnect', () => process.exit(0));
// Ctrl-C in a terminal signals the whole process group; the gateway owns
// shutdown ordering (drain, then stop workers), so workers ignore SIGINT.
process.on('SIGINT', () => {});

const pending: JobMessage[] = [];
let running = false;

function send(message: FromWorkerMessage): void {
  // After a disconnect process.send would throw; the 'disconnect' handler exits us anyway. A gateway
  // killed outright breaks the pipe before 'disconnect' arrives: the write then fails with EPIPE,
  // which without a callback is an uncaught 'error' event. Either way the gateway is gone: exit.
  if (process.connected) process.send?.(message, undefined, {}, (error) => {
    if (error) process.exit(0);
  });
}

function runNext(): void {
  const job = pending.shift();
  if (job === undefined) {
    running = false;
    return;
  }
  running = true;
  const started = performance.now();
  let nonce = job.startNonce;
  let attempts = 0;

  const slice = (): void => {
    let step;
    try {
      step = searchNonce(job.challengeId, job.difficulty, nonce, ATTEMPTS_PER_SLICE);
    } catch (error) {
      send({ type: 'job-error', id: job.id, message: error instanceof Error ? error.message : String(error) });
      setImmediate(runNext);
      return;
    }
    if (step.done) {
      const { solution } = step;
      if (EXTRA_WORK_PCT > 0) extraWork(job.challengeId, attempts + solution.attempts);
      send({
        type: 'result',
        id: job.id,
        nonce: solution.nonce,
        hash: solution.hash,
        attempts: attempts + solution.attempts,
        workMs: performance.now() - started,
      });
      setImmediate(runNext);
      return;
    }
    attempts += step.attempts;
    nonce = step.nextNonce;
    setImmediate(slice);
  };
  slice();
}

process.on('message', (raw: ToWorkerMessage) => {
  if (raw?.type !== 'job') return;
  pending.push(raw);
  if (!running) runNext();
});

send({ type: 'ready', pid: process.pid });
