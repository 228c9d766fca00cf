import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verify } from '../proof-of-work.ts';
import { startGateway, type RunningGateway } from '../server.ts';
import { submit, waitFor } from './helpers.ts';

// Port 0 everywhere: tests must never collide with a gateway someone runs on 8080.
const base = { port: 0, host: '127.0.0.1', log: () => {} } as const;

describe('submit-gateway (2 workers)', () => {
  let gw: RunningGateway;
  beforeAll(async () => {
    gw = await startGateway({ ...base, workers: 2, difficulty: 8 });
  });
  afterAll(() => gw?.close());

  it('reports health with worker count, queue depth and pids', async () => {
    const res = await fetch(`${gw.url}/healthz`);
    expect(res.status).toBe(200);
    const body = await res.json();
    expect(body).toMatchObject({ status: 'ok', workers: 2, ready_workers: 2, queue_depth: 0 });
    expect(body.worker_pids).toHaveLength(2);
  });

  it('401 without or with a wrong token', async () => {
    for (const token of [null, 'nope', 'dev-token-but-longer']) {
      const res = await submit(gw.url, { challenge_id: 'x' }, { token });
      expect(res.status).toBe(401);
      expect(res.headers.get('content-type')).toMatch(/application\/json/);
      expect(await res.json()).toEqual({ error: 'missing or invalid bearer token' });
    }
  });

  it('400 for invalid JSON and a missing or non-string challenge_id', async () => {
    const cases: Array<[string, RegExp]> = [
      ['{"challenge_id":', /valid JSON/],
      ['', /valid JSON/],
      ['{}', /challenge_id/],
      ['{"challenge_id":42}', /challenge_id/],
      ['["x"]', /challenge_id/],
      ['null', /challenge_id/],
    ];
    for (const [raw, message] of cases) {
      const res = await submit(gw.url, raw, { raw: true });
      expect(res.status, raw).toBe(400);
      expect((await res.json()).error).toMatch(message);
    }
  });

  it('413 for a body above the limit, and the server keeps serving', async () => {
    const res = await submit(gw.url, { challenge_id: 'x'.repeat(100 * 1024) });
    expect(res.status).toBe(413);
    expect((await res.json()).error).toMatch(/exceeds 65536 bytes/);
    expect((await submit(gw.url, { challenge_id: 'after-413' })).status).toBe(200);
  });

  it('413 for a chunked body without content-length', async () => {
    const chunk = new TextEncoder().encode('x'.repeat(16 * 1024));
    let sent = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent++ < 8) controller.enqueue(chunk);
        else controller.close();
      },
    });
    const res = await fetch(`${gw.url}/submit`, {
      method: 'POST',
      headers: { authorization: 'Bearer dev-token' },
      body: stream,
      duplex: 'half',
    } as RequestInit);
    expect(res.status).toBe(413);
  });

  it('a valid job returns a nonce whose hash has the required leading zero bits', async () => {
    const res = await submit(gw.url, { challenge_id: 'hello' });
    expect(res.status).toBe(200);
    const body = await res.json();
    expect(body).toMatchObject({ challenge_id: 'hello', worker: expect.any(Number) });
    expect(Object.keys(body).sort()).toEqual(['challenge_id', 'hash', 'nonce', 'queued_ms', 'work_ms', 'worker']);
    expect(verify('hello', body.nonce, 8, body.hash)).toBe(true);
    expect(parseInt(body.hash.slice(0, 2), 16)).toBe(0); // 8 bits = first byte zero
    expect(body.queued_ms).toBeGreaterThanOrEqual(0);
    expect(body.work_ms).toBeGreaterThanOrEqual(0);
  });

  it('spreads 20 concurrent jobs over both workers, each with a distinct start offset', async () => {
    const bodies = await Promise.all(
      Array.from({ length: 20 }, async () => {
        const res = await submit(gw.url, { challenge_id: 'same' });
        expect(res.status).toBe(200);
        return res.json();
      }),
    );
    expect(new Set(bodies.map((b) => b.worker))).toEqual(new Set([0, 1]));
    for (const b of bodies) expect(verify('same', b.nonce, 8, b.hash)).toBe(true);
    // Random start offsets: identical challenges must not all yield the same nonce.
    expect(new Set(bodies.map((b) => b.nonce)).size).toBeGreaterThan(15);
  });

  it('404 for unknown paths, 405 for wrong methods', async () => {
    expect((await fetch(`${gw.url}/nope`)).status).toBe(404);
    const get = await fetch(`${gw.url}/submit`);
    expect(get.status).toBe(405);
    expect(get.headers.get('allow')).toBe('POST');
  });
});

describe('queue limit', () => {
  it('answers 503 queue full when the bounded queue is full, frees slots of aborted clients', async () => {
    // Difficulty 40 never finishes within the test (~2^40 hashes), so the one pipeline slot stays busy.
    const gw = await startGateway({ ...base, workers: 1, difficulty: 40, maxInFlightPerWorker: 1, queueLimit: 2, shutdownGraceMs: 50 });
    try {
      const pending = [submit(gw.url, { challenge_id: 'a' }), submit(gw.url, { challenge_id: 'b' })];
      const aborter = new AbortController();
      const aborted = submit(gw.url, { challenge_id: 'c' }, { signal: aborter.signal }).catch((error: unknown) => error);
      expect(await waitFor(() => gw.stats().inFlight === 1 && gw.stats().queueDepth === 2, 3_000)).toBe(true);

      const full = await submit(gw.url, { challenge_id: 'd' });
      expect(full.status).toBe(503);
      expect(await full.json()).toEqual({ error: 'queue full' });
      expect(full.headers.get('retry-after')).toBe('1');

      const health = await (await fetch(`${gw.url}/healthz`)).json();
      expect(health).toMatchObject({ queue_depth: 2, in_flight: 1 });

      // A client that gives up must not keep its queue slot.
      aborter.abort();
      expect(await aborted).toBeInstanceOf(Error);
      expect(await waitFor(() => gw.stats().queueDepth === 1, 2_000)).toBe(true);
      pending.push(submit(gw.url, { challenge_id: 'e' }));
      expect(await waitFor(() => gw.stats().queueDepth === 2, 2_000)).toBe(true);

      // Shutdown fails in-flight and queued jobs quickly instead of waiting for them.
      const started = Date.now();
      await gw.close();
      expect(Date.now() - started).toBeLessThan(2_000);
      const statuses = await Promise.all(pending.map(async (p) => (await p).status));
      expect(statuses).toEqual([503, 503, 503]);
    } finally {
      await gw.close();
    }
  });
});

describe('fault injection', () => {
  it('error rate 1 answers 500 for every valid request, but auth errors stay 401', async () => {
    const gw = await startGateway({ ...base, workers: 1, difficulty: 4, faults: { errorRate: 1 } });
    try {
      for (let i = 0; i < 3; i++) {
        const res = await submit(gw.url, { challenge_id: `e${i}` });
        expect(res.status).toBe(500);
        expect(await res.json()).toEqual({ error: 'injected fault' });
      }
      expect((await submit(gw.url, { challenge_id: 'x' }, { token: null })).status).toBe(401);
    } finally {
      await gw.close();
    }
  });

  it('counter mode: error rate 0.5 fails exactly every second request; latency delays each answer', async () => {
    const gw = await startGateway({ ...base, workers: 1, difficulty: 4, faults: { errorRate: 0.5, mode: 'counter', latencyMs: 120 } });
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 6; i++) {
        const started = performance.now();
        const res = await submit(gw.url, { challenge_id: `c${i}` });
        await res.arrayBuffer();
        expect(performance.now() - started).toBeGreaterThanOrEqual(110);
        statuses.push(res.status);
      }
      expect(statuses).toEqual([200, 500, 200, 500, 200, 500]);
    } finally {
      await gw.close();
    }
  });

  it('hang rate 1 never answers: the client times out, and shutdown cuts the socket', async () => {
    const gw = await startGateway({ ...base, workers: 1, difficulty: 4, faults: { hangRate: 1 } });
    try {
      const timedOut = await submit(gw.url, { challenge_id: 'h' }, { signal: AbortSignal.timeout(300) }).catch((e: unknown) => e);
      expect((timedOut as Error).name).toBe('TimeoutError');

      // A hung request without client timeout ends with a connection error once the server shuts down.
      const hanging = submit(gw.url, { challenge_id: 'h2' }).catch((e: unknown) => e);
      await new Promise((resolve) => setTimeout(resolve, 100));
      const started = Date.now();
      await gw.close();
      expect(Date.now() - started).toBeLessThan(1_500);
      expect(await hanging).toBeInstanceOf(TypeError); // fetch failed: other side closed
    } finally {
      await gw.close();
    }
  });
});
