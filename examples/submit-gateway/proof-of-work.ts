/**
 * Proof-of-work primitive used as the unit of CPU work by the submit-gateway
 * workers. Pure functions only, so they can be unit-tested and reused by the
 * tests to verify what the gateway returns.
 *
 * Cost model: one attempt is one SHA-256 of a short string (~1 µs on a modern
 * core); finding D leading zero bits takes 2^D attempts on average, so the
 * cost of a job doubles with every difficulty step.
 */
import { hash as oneShotHash } from 'node:crypto';

/** Highest accepted difficulty. Anything above ~24 is already "never finishes" in practice. */
export const MAX_DIFFICULTY = 64;

/** Result of a successful nonce search. */
export interface ProofOfWork {
  /** The nonce that satisfied the difficulty. */
  readonly nonce: number;
  /** Hex SHA-256 of `challengeId + ':' + nonce`. */
  readonly hash: string;
  /** How many hashes were computed to find it (the actual work done). */
  readonly attempts: number;
}

/** Outcome of a bounded search: either a solution or where to resume. */
export type SearchStep =
  | { readonly done: true; readonly solution: ProofOfWork }
  | { readonly done: false; readonly nextNonce: number; readonly attempts: number };

/** Number of leading zero bits of a byte string (0 … 8·length). */
export function leadingZeroBits(bytes: Uint8Array): number {
  let bits = 0;
  for (const byte of bytes) {
    if (byte === 0) {
      bits += 8;
      continue;
    }
    // clz32 counts over 32 bits; a byte occupies the low 8 of them.
    return bits + Math.clz32(byte) - 24;
  }
  return bits;
}

/** The exact preimage format; kept in one place so solver and verifier cannot drift apart. */
export function preimage(challengeId: string, nonce: number): string {
  return `${challengeId}:${nonce}`;
}

/** SHA-256 of the preimage as raw bytes. */
export function hashAttempt(challengeId: string, nonce: number): Buffer {
  // crypto.hash() skips the Hash object allocation; ~25% cheaper than createHash() for tiny inputs.
  return oneShotHash('sha256', preimage(challengeId, nonce), 'buffer');
}

/** Throws a RangeError unless `difficulty` is an integer in 0…MAX_DIFFICULTY. */
export function assertDifficulty(difficulty: number): void {
  if (!Number.isInteger(difficulty) || difficulty < 0 || difficulty > MAX_DIFFICULTY) {
    throw new RangeError(`difficulty must be an integer between 0 and ${MAX_DIFFICULTY}, got ${difficulty}`);
  }
}

/**
 * Try at most `maxAttempts` consecutive nonces starting at `startNonce`.
 * Bounded so a caller (the worker) can yield to its event loop between steps
 * and stay responsive to IPC disconnects even at absurd difficulties.
 */
export function searchNonce(
  challengeId: string,
  difficulty: number,
  startNonce: number,
  maxAttempts: number,
): SearchStep {
  assertDifficulty(difficulty);
  if (!Number.isSafeInteger(startNonce) || startNonce < 0) {
    throw new RangeError(`startNonce must be a non-negative safe integer, got ${startNonce}`);
  }
  let nonce = startNonce;
  for (let attempt = 1; attempt <= maxAttempts; attempt++, nonce++) {
    const digest = hashAttempt(challengeId, nonce);
    if (leadingZeroBits(digest) >= difficulty) {
      return { done: true, solution: { nonce, hash: digest.toString('hex'), attempts: attempt } };
    }
  }
  return { done: false, nextNonce: nonce, attempts: maxAttempts };
}

/** Unbounded, synchronous search. Convenient for tests and benchmarks; workers use {@link searchNonce}. */
export function solve(challengeId: string, difficulty: number, startNonce = 0): ProofOfWork {
  let nonce = startNonce;
  let attempts = 0;
  for (;;) {
    const step = searchNonce(challengeId, difficulty, nonce, 1 << 16);
    if (step.done) return { ...step.solution, attempts: attempts + step.solution.attempts };
    attempts += step.attempts;
    nonce = step.nextNonce;
  }
}

/** True when `nonce` really solves `challengeId` at `difficulty` (and, if given, hashes to `expectedHash`). */
export function verify(challengeId: string, nonce: number, difficulty: number, expectedHash?: string): boolean {
  if (!Number.isSafeInteger(nonce) || nonce < 0) return false;
  const digest = hashAttempt(challengeId, nonce);
  if (expectedHash !== undefined && digest.toString('hex') !== expectedHash) return false;
  return leadingZeroBits(digest) >= difficulty;
}
