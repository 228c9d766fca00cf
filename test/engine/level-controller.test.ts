import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { decodeHistogram } from '../../engine/histogram.ts';
import { RawCsvWriter } from '../../engine/raw-csv-writer.ts';
import { runLevel } from '../../engine/level-controller.ts';
import type { ProgressEvent } from '../../core/model/summary.ts';
import { closedPort, startServer, type TestServer } from '../helpers/servers.ts';
import { levelPlan } from '../helpers/level-plan.ts';

let server: TestServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

const plan = levelPlan;

describe('runLevel against local servers', () => {
  it('measures a fixed 20 ms delay: p50 within 2 ms of it', async () => {
    server = await startServer((_n, _req, res) => setTimeout(() => res.end('{"ok":true}'), 20));
    const r = await runLevel(plan(server.url, { concurrency: 4, durationSeconds: 1.5, warmupSeconds: 0.3 }));
    expect(r.failures).toBe(0);
    expect(Math.abs(r.latency_ms.p50 - 20)).toBeLessThan(2);
    // Node timers may fire up to ~1 ms early.
    expect(r.latency_ms.min).toBeGreaterThanOrEqual(19);
    expect(r.duration_s).toBeCloseTo(1.5, 1);
    // 4 workers x ~20 ms: about 200 req/s; well above half of it, never above the bound.
    expect(r.throughput_rps).toBeGreaterThan(100);
    expect(r.throughput_rps).toBeLessThanOrEqual(4 / 0.02 + 1);
    expect(r.warmup_requests).toBeGreaterThan(0);
    expect(decodeHistogram(r.histogram).totalCount).toBe(r.successes);
  });

  it('gives error_rate_pct 10 when exactly every 10th request gets a 500', async () => {
    server = await startServer((n, _req, res) => {
      res.statusCode = n % 10 === 0 ? 500 : 200;
      res.end('{}');
    });
    const r = await runLevel(plan(server.url, { concurrency: 1, requestsPerLevel: 1000 }));
    expect(r.requests).toBe(1000);
    expect(Math.abs(r.error_rate_pct - 10)).toBeLessThanOrEqual(0.5);
    expect(r.errors.http_5xx).toBe(r.failures);
    expect(r.status_codes['500']).toBe(r.failures);
    expect(r.error_samples).toEqual([{ category: 'http_5xx', message: 'HTTP 500' }]);
  });

  it('times out requests that never get an answer and still ends on time', async () => {
    server = await startServer((n, _req, res) => {
      if (n % 5 !== 0) res.end('{}');
    });
    const started = Date.now();
    const r = await runLevel(plan(server.url, { concurrency: 4, durationSeconds: 1.5, timeoutSeconds: 0.3 }));
    const elapsed = Date.now() - started;
    expect(r.errors.timeout).toBeGreaterThan(0);
    expect(r.errors.timeout).toBe(r.failures);
    expect(elapsed).toBeLessThan(1500 + 700);
    expect(r.duration_s).toBeCloseTo(1.5, 1);
  });

  it('classifies a closed port as connect_refused', async () => {
    const port = await closedPort();
    const r = await runLevel(plan(`http://127.0.0.1:${port}/submit`, { concurrency: 2, requestsPerLevel: 50 }));
    expect(r.requests).toBe(50);
    expect(r.errors.connect_refused).toBe(50);
    expect(r.successes).toBe(0);
    expect(r.throughput_rps).toBe(0);
  });

  it('fails a request whose check returns false, and bounds huge bodies', async () => {
    server = await startServer((n, _req, res) => res.end(n % 2 ? '{"ok":true}' : 'x'.repeat(5000)));
    const r = await runLevel(
      plan(server.url, {
        concurrency: 1,
        requestsPerLevel: 100,
        maxBodyBytes: 1000,
        check: (res) => res.json<{ ok: boolean }>().ok,
      }),
    );
    expect(r.successes).toBe(50);
    expect(r.errors.body_too_large).toBe(50);
  });

  it('counts a failed check as check_failed', async () => {
    server = await startServer((_n, _req, res) => res.end('{"ok":false}'));
    const r = await runLevel(
      plan(server.url, { concurrency: 2, requestsPerLevel: 20, check: (res) => res.json<{ ok: boolean }>().ok }),
    );
    expect(r.errors.check_failed).toBe(20);
  });

  it('sends a unique body per request from a payload function, and streams raw rows', async () => {
    const bodies = new Set<string>();
    server = await startServer((_n, req, res) => {
      res.end('{}');
      void req;
    });
    const dir = mkdtempSync(join(tmpdir(), 'loadbench-raw-'));
    const raw = new RawCsvWriter(join(dir, 'raw.csv'));
    const r = await runLevel(
      plan(server.url, {
        concurrency: 3,
        requestsPerLevel: 30,
        body: (ctx) => {
          const b = JSON.stringify({ id: `${ctx.worker}-${ctx.iteration}`, c: ctx.level });
          bodies.add(b);
          return b;
        },
        raw,
      }),
    );
    await raw.close();
    expect(r.successes).toBe(30);
    expect(bodies.size).toBe(30);
    const lines = readFileSync(join(dir, 'raw.csv'), 'utf8').trim().split('\n');
    expect(lines[0]).toBe('scenario,concurrency,worker,timestamp_ms,latency_ms,status,ok,error');
    expect(lines).toHaveLength(31);
    const row = lines[1]!.split(',');
    expect(row[0]).toBe('test');
    expect(row[1]).toBe('3');
    expect(Number(row[4])).toBeGreaterThan(0);
    expect(row[5]).toBe('200');
    expect(row[6]).toBe('1');
  });

  it('emits progress events and a per-second timeline', async () => {
    server = await startServer((_n, _req, res) => setTimeout(() => res.end('{}'), 5));
    const events: ProgressEvent[] = [];
    const r = await runLevel(plan(server.url, { concurrency: 2, durationSeconds: 2.2, onProgress: (e) => events.push(e) }));
    expect(events.length).toBeGreaterThanOrEqual(2);
    expect(events.at(-1)!.requests).toBeGreaterThan(0);
    expect(r.timeline.length).toBeGreaterThanOrEqual(2);
    expect(r.timeline.reduce((a, p) => a + p.requests, 0)).toBe(r.requests);
    expect(r.timeline[0]!.p95_ms).toBeGreaterThan(4);
  });

  it('gives a first progress event at the start of a level begun in the process\'s first second', async () => {
    server = await startServer((_n, _req, res) => res.end('{}'));
    // performance.now() counts from the process's start: make this one look 200 ms old (a shift, so durations stay true).
    const real = performance.now.bind(performance);
    const shift = real() - 200;
    const spy = vi.spyOn(performance, 'now').mockImplementation(() => real() - shift);
    try {
      const events: ProgressEvent[] = [];
      await runLevel(plan(server.url, { concurrency: 2, requestsPerLevel: 50, onProgress: (e) => events.push(e) }));
      expect(events.length).toBeGreaterThanOrEqual(1);
      expect(events[0]!.requests).toBe(0);
      expect(events[0]!.current_rps).toBe(0);
    } finally {
      spy.mockRestore();
    }
  });

  it('stops at once when its signal is aborted and marks the level partial', async () => {
    server = await startServer((_n, _req, res) => setTimeout(() => res.end('{}'), 5));
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 400);
    const started = Date.now();
    const r = await runLevel(plan(server.url, { durationSeconds: 10, signal: controller.signal }));
    expect(Date.now() - started).toBeLessThan(1500);
    expect(r.partial).toBe(true);
    expect(r.requests).toBeGreaterThan(0);
  });
});
