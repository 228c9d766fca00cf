/**
 * When a level's figures describe the load generator rather than the target. Kept apart from the
 * engine so that reporters can quote the thresholds without loading sockets and threads.
 */

/** When a level counts as limited by the load generator rather than by the target. */
export interface ClientBoundLimits {
  /** CPU of the generator (one thread's event-loop utilisation with threads), percent of one core. */
  cpuPct: number;
  /** Event-loop delay p99, ms. */
  eventLoopP99Ms: number;
  /** Open loop: schedule lag p99 (actual send - due time), ms. */
  scheduleLagP99Ms: number;
}

/**
 * The documented defaults. 20 ms, not less: when the target shares the machine's cores (the reference
 * gateway on 2 cores), a generator at 5 % CPU still sees 5-10 ms of scheduling delay, which is a note
 * ("generator delayed"), not a ceiling of the client.
 */
export const CLIENT_BOUND_LIMITS: Readonly<ClientBoundLimits> = Object.freeze({ cpuPct: 90, eventLoopP99Ms: 20, scheduleLagP99Ms: 5 });

/**
 * Whether an open-loop level's requests left late: schedule lag p99 above the limit means the
 * generator did not keep the schedule, so its latencies partly time the generator. Pure.
 */
export function isScheduleLate(scheduleLagP99Ms: number, limits: ClientBoundLimits = CLIENT_BOUND_LIMITS): boolean {
  return scheduleLagP99Ms > limits.scheduleLagP99Ms;
}

/** Whether the generator was the bottleneck of a level: CPU at or above the limit, or event-loop delay p99 above it. Pure. */
export function isClientBound(cpuPct: number, eventLoopP99Ms: number, limits: ClientBoundLimits = CLIENT_BOUND_LIMITS): boolean {
  return cpuPct >= limits.cpuPct || eventLoopP99Ms > limits.eventLoopP99Ms;
}

/** Event-loop delay p99 (ms) above which a level that is not client-bound gets the note "generator delayed". */
export const GENERATOR_DELAY_NOTE_MS = 5;
