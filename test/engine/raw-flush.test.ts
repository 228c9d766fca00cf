import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initHistograms } from '../../engine/histogram.ts';
import { LevelShard } from '../../engine/shard.ts';
import { RAW_FLUSH_INTERVAL_MS } from '../../engine/shard-recorder.ts';
import type { ShardPlan } from '../../engine/shard-types.ts';
import { RAW_CSV_HEADER, RawCsvWriter } from '../../engine/raw-csv-writer.ts';
import { RAW_CHUNK_BYTES } from '../../engine/raw-rows.ts';
import { runLevel } from '../../engine/level-controller.ts';
import { levelPlan } from '../helpers/level-plan.ts';
import { startServer, type TestServer } from '../helpers/servers.ts';

// A slow target: a few hundred rows a second, far from filling a 64 KiB chunk in a few seconds.
let server: TestServer;
let dir: string;
beforeAll(async () => {
  server = await startServer((_n, _req, res) => setTimeout(() => res.end('{"ok":true}'), 5));
  dir = mkdtempSync(join(tmpdir(), 'loadbench-raw-flush-'));
  await initHistograms();
});
afterAll(async () => {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

/** The engine's clock (epoch ms), the one raw timestamps are written in. */
const nowMs = (): number => performance.timeOrigin + performance.now();

function rowStamps(text: string): number[] {
  return text
    .split('\n')
    .slice(1)
    .filter(Boolean)
    .map((line) => Number(line.split(',')[3]));
}

describe('raw CSV while the level runs', () => {
  for (const threads of [1, 2]) {
    it(`is on disk up to the last second before the level ends (generator_threads ${threads})`, async () => {
      const path = join(dir, `running-${threads}.csv`);
      const raw = new RawCsvWriter(path);
      const level = runLevel(levelPlan(server.url, { concurrency: threads, durationSeconds: 3, threads, raw }));
      try {
        await sleep(2000);
        // Read while the level still runs: what a killed process would leave.
        const readAt = nowMs();
        const text = readFileSync(path, 'utf8');
        expect(text.startsWith(RAW_CSV_HEADER)).toBe(true);
        const stamps = rowStamps(text);
        expect(stamps.length).toBeGreaterThan(50);
        expect(Buffer.byteLength(text)).toBeLessThan(RAW_CHUNK_BYTES);
        expect(Math.max(...stamps)).toBeGreaterThanOrEqual(readAt - 1500);
        expect(Math.max(...stamps)).toBeLessThanOrEqual(readAt + 50);
      } finally {
        const r = await level;
        await raw.close();
        // The early flushes lose and repeat nothing: one row per counted request, in whole lines.
        const text = readFileSync(path, 'utf8');
        expect(text.endsWith('\n')).toBe(true);
        expect(rowStamps(text)).toHaveLength(r.requests);
      }
    });
  }
});

describe('LevelShard raw flush', () => {
  const plan = (): ShardPlan => ({
    scenario: 'flush',
    levelConcurrency: 1,
    connections: 1,
    firstWorker: 0,
    url: server.url,
    method: 'GET',
    headers: {},
    challengeId: 'x',
    timeoutSeconds: 5,
    maxBodyBytes: 1024,
    raw: true,
  });

  it('hands out a partly filled chunk about every RAW_FLUSH_INTERVAL_MS, and waits while the consumer is behind', async () => {
    const chunks: { at: number; bytes: number; rows: number }[] = [];
    let blocked = false;
    let release!: () => void;
    const shard = new LevelShard(plan(), {
      raw: (chunk) => {
        chunks.push({ at: performance.now(), bytes: chunk.length, rows: chunk.toString().split('\n').length - 1 });
        return !blocked;
      },
      rawDrain: () => new Promise<void>((resolve) => (release = resolve)),
      second: () => undefined,
    });
    try {
      const t0 = performance.now();
      shard.start();
      shard.beginMeasure(t0);
      await sleep(RAW_FLUSH_INTERVAL_MS * 2.5);
      // Two flushes by the clock, none of them a full chunk.
      expect(chunks.length).toBeGreaterThanOrEqual(2);
      for (const c of chunks) {
        expect(c.bytes).toBeLessThan(RAW_CHUNK_BYTES / 4);
        expect(c.rows).toBeGreaterThan(0);
      }
      expect(chunks[0]!.at - t0).toBeGreaterThanOrEqual(RAW_FLUSH_INTERVAL_MS - 1);
      expect(chunks[0]!.at - t0).toBeLessThan(RAW_FLUSH_INTERVAL_MS + 400);

      // Back-pressure: the consumer refuses the next chunk; until it drains nothing more is
      // handed out and no request is sent (what is in flight may still add a row).
      blocked = true;
      const refusedAt = chunks.length;
      await sleep(RAW_FLUSH_INTERVAL_MS + 200);
      expect(chunks.length).toBe(refusedAt + 1);
      const requestsWhileBlocked = shard.counters().requests;
      await sleep(RAW_FLUSH_INTERVAL_MS + 200);
      expect(chunks.length).toBe(refusedAt + 1);
      expect(shard.counters().requests - requestsWhileBlocked).toBeLessThanOrEqual(1);

      blocked = false;
      release();
      await sleep(RAW_FLUSH_INTERVAL_MS + 300);
      expect(chunks.length).toBeGreaterThan(refusedAt + 1);
      expect(shard.counters().requests).toBeGreaterThan(requestsWhileBlocked + 1);
    } finally {
      shard.stop();
      await shard.idle;
      shard.finish();
      shard.dispose();
    }
    // Every counted request is in exactly one chunk.
    expect(chunks.reduce((a, c) => a + c.rows, 0)).toBe(shard.counters().requests);
  });
});
