/**
 * HTTP front of the submit-gateway: authentication, body limits, validation,
 * fault injection and mapping worker-pool outcomes to status codes.
 *
 * `startGateway()` is the in-process API (tests start it on port 0);
 * gateway.ts wraps it with flag/env parsing and signal handling.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { timingSafeEqual } from 'node:crypto';
import { createFaultInjector, type FaultOptions } from './faults.ts';
import { JobCancelledError, PoolClosedError, QueueFullError, WorkerPool, type PoolStats } from './worker-pool.ts';

/** Settings of one gateway instance. */
export interface GatewayOptions {
  /** Interface to bind; loopback by default so a load test never escapes the machine. */
  readonly host: string;
  /** TCP port; 0 picks a free one (see {@link RunningGateway.port}). */
  readonly port: number;
  /** Worker processes to fork. */
  readonly workers: number;
  /** Leading zero bits each job must find. */
  readonly difficulty: number;
  /** Expected bearer token. */
  readonly token: string;
  /** Largest accepted request body in bytes; larger bodies get 413. */
  readonly bodyLimitBytes: number;
  /** Jobs allowed to wait when all worker pipelines are full; beyond that 503. */
  readonly queueLimit: number;
  /** Jobs handed to a worker at once. */
  readonly maxInFlightPerWorker: number;
  /** Fault injection (off by default). */
  readonly faults: Partial<FaultOptions>;
  /** How long close() lets in-flight jobs finish before failing them. */
  readonly shutdownGraceMs: number;
  /** Sink for operational messages (worker crashes, server errors). */
  readonly log: (line: string) => void;
}

/**
 * Defaults. Difficulty 11 ≈ 2 048 SHA-256 attempts ≈ 2–3 ms of CPU per job on a
 * 2-core CI box, large enough that worker CPU dominates gateway overhead.
 */
export const DEFAULT_GATEWAY_OPTIONS: GatewayOptions = {
  host: '127.0.0.1',
  port: 8080,
  workers: 2,
  difficulty: 11,
  token: 'dev-token',
  bodyLimitBytes: 64 * 1024,
  queueLimit: 256,
  maxInFlightPerWorker: 2,
  faults: {},
  shutdownGraceMs: 500,
  log: (line) => console.error(`submit-gateway: ${line}`),
};

/** Longest accepted challenge_id; keeps the per-attempt hash input (and so job cost) bounded. */
export const MAX_CHALLENGE_ID_LENGTH = 1024;

/** A started gateway. */
export interface RunningGateway {
  /** Base URL, e.g. `http://127.0.0.1:8080`. */
  readonly url: string;
  readonly host: string;
  /** Actual bound port (useful with port 0). */
  readonly port: number;
  /** Effective options. */
  readonly options: GatewayOptions;
  /** Worker/queue counters. */
  stats(): PoolStats;
  /** Stop accepting, finish or fail in-flight work, stop workers, close sockets. Idempotent. */
  close(): Promise<void>;
}

type Headers = Record<string, string | number>;

/** Start listening and forking workers; resolves once every worker is ready. */
export async function startGateway(overrides: Partial<GatewayOptions> = {}): Promise<RunningGateway> {
  const options: GatewayOptions = { ...DEFAULT_GATEWAY_OPTIONS, ...overrides };
  if (!Number.isInteger(options.bodyLimitBytes) || options.bodyLimitBytes < 1) {
    throw new RangeError(`body limit must be a positive integer of bytes, got ${options.bodyLimitBytes}`);
  }
  if (options.token.length === 0) throw new RangeError('token must not be empty');
  // Constructors validate eagerly so bad settings fail before anything is bound or forked.
  const faults = createFaultInjector(options.faults);
  const pool = new WorkerPool({
    workers: options.workers,
    difficulty: options.difficulty,
    maxInFlightPerWorker: options.maxInFlightPerWorker,
    queueLimit: options.queueLimit,
    log: options.log,
  });
  const expectedToken = Buffer.from(options.token);

  let closing = false;
  /** Requests chosen to hang: kept so shutdown can cut them. */
  const hanging = new Set<ServerResponse>();
  /** Answers held back by the latency fault: flushed at shutdown rather than dropped. */
  const delayed = new Map<NodeJS.Timeout, () => void>();

  function sendJson(res: ServerResponse, status: number, body: unknown, headers: Headers = {}): void {
    if (res.headersSent || res.destroyed) return;
    const payload = JSON.stringify(body);
    const all: Headers = {
      'content-type': 'application/json; charset=utf-8',
      'content-length': Buffer.byteLength(payload),
      'cache-control': 'no-store',
      ...headers,
    };
    if (closing) all.connection = 'close';
    res.writeHead(status, all);
    res.end(payload);
  }

  /** Every /submit answer goes through here so the latency fault applies uniformly. */
  function answer(res: ServerResponse, status: number, body: unknown, headers?: Headers): void {
    const latency = faults.options.latencyMs;
    if (latency <= 0 || closing) {
      sendJson(res, status, body, headers);
      return;
    }
    const flush = (): void => {
      delayed.delete(timer);
      sendJson(res, status, body, headers);
    };
    const timer = setTimeout(flush, latency);
    delayed.set(timer, flush);
  }

  function authorized(header: string | undefined): boolean {
    if (header === undefined) return false;
    const match = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header);
    if (match?.[1] === undefined) return false;
    const given = Buffer.from(match[1]);
    // Constant-time compare: cheap here, and the reference server should not model a timing leak.
    return given.length === expectedToken.length && timingSafeEqual(given, expectedToken);
  }

  function rejectTooLarge(req: IncomingMessage, res: ServerResponse): void {
    // Stop buffering; Connection: close makes Node drop the socket after the answer
    // instead of parsing the rest of an oversized body on a kept-alive connection.
    req.removeAllListeners('data');
    answer(res, 413, { error: `request body exceeds ${options.bodyLimitBytes} bytes` }, { connection: 'close' });
  }

  function handleSubmit(req: IncomingMessage, res: ServerResponse): void {
    if (!authorized(req.headers.authorization)) {
      answer(res, 401, { error: 'missing or invalid bearer token' }, { 'www-authenticate': 'Bearer' });
      return;
    }
    const declared = req.headers['content-length'];
    if (declared !== undefined && Number(declared) > options.bodyLimitBytes) {
      rejectTooLarge(req, res);
      return;
    }

    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > options.bodyLimitBytes) {
        tooLarge = true;
        chunks.length = 0;
        rejectTooLarge(req, res);
        return;
      }
      chunks.push(chunk);
    });
    req.on('error', () => res.destroy());
    req.on('end', () => {
      if (tooLarge) return;
      onBody(res, Buffer.concat(chunks, size));
    });
  }

  function onBody(res: ServerResponse, body: Buffer): void {
    let parsed: unknown;
    try {
      parsed = JSON.parse(body.toString('utf8'));
    } catch {
      answer(res, 400, { error: 'request body must be valid JSON' });
      return;
    }
    const challengeId =
      typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)
        ? (parsed as Record<string, unknown>).challenge_id
        : undefined;
    if (typeof challengeId !== 'string') {
      answer(res, 400, { error: 'challenge_id is required and must be a string' });
      return;
    }
    if (challengeId.length === 0 || challengeId.length > MAX_CHALLENGE_ID_LENGTH) {
      answer(res, 400, { error: `challenge_id must be 1 to ${MAX_CHALLENGE_ID_LENGTH} characters` });
      return;
    }

    // Faults apply only to valid, authorised requests so 4xx behaviour stays exact under injection.
    const fault = faults.decide();
    if (fault === 'hang') {
      hanging.add(res);
      res.once('close', () => hanging.delete(res));
      return;
    }
    if (fault === 'error') {
      answer(res, 500, { error: 'injected fault' });
      return;
    }

    const job = pool.submit(challengeId);
    // Client gave up while the job waited in the queue: free the queue slot instead of doing dead work.
    res.once('close', () => {
      if (!res.writableFinished) job.cancel();
    });
    job.result.then(
      (result) => {
        answer(res, 200, {
          challenge_id: challengeId,
          nonce: result.nonce,
          hash: result.hash,
          worker: result.worker,
          queued_ms: round(result.queuedMs),
          work_ms: round(result.workMs),
        });
      },
      (error: unknown) => {
        if (error instanceof JobCancelledError) return;
        if (error instanceof QueueFullError) {
          answer(res, 503, { error: 'queue full' }, { 'retry-after': 1 });
        } else if (error instanceof PoolClosedError) {
          answer(res, 503, { error: 'shutting down' });
        } else {
          options.log(`job failed: ${error instanceof Error ? error.message : String(error)}`);
          answer(res, 502, { error: 'worker failed' });
        }
      },
    );
  }

  function handleHealth(res: ServerResponse): void {
    const stats = pool.stats();
    const ready = !closing && stats.ready === stats.workers;
    sendJson(res, ready ? 200 : 503, {
      status: closing ? 'stopping' : ready ? 'ok' : 'starting',
      workers: stats.workers,
      ready_workers: stats.ready,
      queue_depth: stats.queueDepth,
      in_flight: stats.inFlight,
      queue_limit: options.queueLimit,
      difficulty: options.difficulty,
      worker_pids: stats.workerPids,
    });
  }

  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?', 1)[0];
    if (path === '/submit') {
      if (req.method !== 'POST') {
        sendJson(res, 405, { error: 'method not allowed' }, { allow: 'POST' });
      } else if (closing) {
        sendJson(res, 503, { error: 'shutting down' });
      } else {
        handleSubmit(req, res);
      }
    } else if (path === '/healthz') {
      if (req.method === 'GET' || req.method === 'HEAD') handleHealth(res);
      else sendJson(res, 405, { error: 'method not allowed' }, { allow: 'GET, HEAD' });
    } else {
      sendJson(res, 404, { error: 'not found' });
    }
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.on('error', (error) => options.log(`server error: ${error.message}`));

  let closePromise: Promise<void> | undefined;
  async function close(): Promise<void> {
    closePromise ??= (async () => {
      closing = true;
      const serverClosed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      for (const res of hanging) res.socket?.destroy();
      hanging.clear();
      for (const [timer, flush] of delayed) {
        clearTimeout(timer);
        flush();
      }
      // In-flight jobs settle inside pool.close(); their answers carry Connection: close.
      await pool.close(options.shutdownGraceMs);
      server.closeIdleConnections();
      // A client still trickling a request body must not hold shutdown hostage.
      const force = setTimeout(() => server.closeAllConnections(), 250);
      await serverClosed;
      clearTimeout(force);
    })();
    return closePromise;
  }

  try {
    await pool.start();
  } catch (error) {
    await close();
    throw error;
  }

  const address = server.address() as AddressInfo;
  const urlHost = address.address.includes(':') ? `[${address.address}]` : address.address;
  return {
    url: `http://${urlHost}:${address.port}`,
    host: address.address,
    port: address.port,
    options,
    stats: () => pool.stats(),
    close,
  };
}

function round(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}
