/**
 * IPC messages exchanged between the gateway (worker-pool.ts) and its forked
 * workers (worker.ts). Plain JSON-serialisable objects: Node's default
 * 'json' IPC serialisation is the cheapest for messages this small.
 */

/** Gateway → worker: solve one challenge. */
export interface JobMessage {
  readonly type: 'job';
  readonly id: number;
  readonly challengeId: string;
  readonly difficulty: number;
  /** Per-job random offset so identical challenge ids still do distinct work. */
  readonly startNonce: number;
}

/** Any message the gateway sends to a worker. */
export type ToWorkerMessage = JobMessage;

/** Worker → gateway: the worker's module graph is loaded and it accepts jobs. */
export interface ReadyMessage {
  readonly type: 'ready';
  readonly pid: number;
}

/** Worker → gateway: a job finished. */
export interface ResultMessage {
  readonly type: 'result';
  readonly id: number;
  readonly nonce: number;
  readonly hash: string;
  readonly attempts: number;
  /** Wall time the worker spent searching, excluding its local queue wait. */
  readonly workMs: number;
}

/** Worker → gateway: a job could not be processed (bad input reaching the worker is a bug, not a crash). */
export interface JobErrorMessage {
  readonly type: 'job-error';
  readonly id: number;
  readonly message: string;
}

/** Any message a worker sends to the gateway. */
export type FromWorkerMessage = ReadyMessage | ResultMessage | JobErrorMessage;
