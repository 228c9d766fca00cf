/**
 * How many generator threads run a level, and how a level's connections (or requests) are split
 * over them. Pure policy, kept apart from the threads themselves so that the scenario layer can
 * check `generator_threads` without loading the engine.
 */
import { availableParallelism } from 'node:os';

/** Below this many connections per thread, another thread costs more than it brings. */
const MIN_CONNECTIONS_PER_THREAD = 16;
/** Open loop, `auto`: one thread per this many requests per second of the level (a policy, not a measured limit). */
const MIN_RATE_PER_THREAD = 1000;

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

/** What the thread count depends on: the level's `threads` setting, its size, and whether it has functions. */
export interface ThreadDemand {
  threads?: number | 'auto';
  /** Connections of a closed level; an open level's `max_in_flight` (each thread needs one at least). */
  concurrency: number;
  /** Set for an open level: its arrival rate, which `auto` follows. */
  rateRps?: number;
  body?: unknown;
  check?: unknown;
}

/**
 * How many event loops run a level: `auto` is one per available core but one (left to the main
 * thread and whatever else runs on the machine), at most one per 16 connections, and 1 when
 * the level has a payload function or a check. An open level: at most one per 1,000 req/s.
 * @throws Error when threads > 1 is asked together with a payload function or a check
 */
export function resolveGeneratorThreads(plan: ThreadDemand): number {
  const payloadIsFunction = typeof plan.body === 'function';
  const hasCheck = plan.check !== undefined;
  const problem = generatorThreadsProblem(plan.threads, payloadIsFunction, hasCheck);
  if (problem) throw new Error(problem);
  if (plan.threads === undefined || plan.threads === 1) return 1;
  if (plan.threads === 'auto') {
    if (payloadIsFunction || hasCheck) return 1;
    const byCores = availableParallelism() - 1;
    const byLoad =
      plan.rateRps !== undefined
        ? Math.min(Math.floor(plan.rateRps / MIN_RATE_PER_THREAD), plan.concurrency)
        : Math.floor(plan.concurrency / MIN_CONNECTIONS_PER_THREAD);
    return Math.max(1, Math.min(byCores, byLoad));
  }
  return Math.max(1, Math.min(Math.floor(plan.threads), plan.concurrency));
}

/** Splits `total` into `parts` integers that differ by at most one, larger first. Pure. */
export function splitEvenly(total: number, parts: number): number[] {
  const base = Math.floor(total / parts);
  return Array.from({ length: parts }, (_, i) => base + (i < total % parts ? 1 : 0));
}
