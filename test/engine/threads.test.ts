import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../core/errors.ts';
import { configSchema } from '../../core/config/schema.ts';
import { decodeHistogram } from '../../engine/histogram.ts';
import { mergeShardCounts } from '../../engine/level-merge.ts';
import { RawCsvWriter } from '../../engine/raw-csv-writer.ts';
import { runLevel } from '../../engine/level-controller.ts';
import { generatorThreadsProblem, resolveGeneratorThreads, splitEvenly } from '../../engine/thread-policy.ts';
import type { LevelMeasurement } from '../../engine/types.ts';
import { resolveScenario } from '../../core/scenario/resolve.ts';
import type { ProgressEvent } from '../../core/model/summary.ts';
import { levelPlan } from '../helpers/level-plan.ts';
import { startServer, type TestServer } from '../helpers/servers.ts';

let server: TestServer;
let dir: string;
beforeAll(async () => {
  // Deterministic: every 10th request (in the order the server sees them) is a 500.
  server = await startServer((n, _req, res) => {
    res.statusCode = n % 10 === 0 ? 500 : 200;
    res.end('{"ok":true}');
  });
  dir = mkdtempSync(join(tmpdir(), 'loadbench-threads-'));
});
afterAll(async () => {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

async function level(threads: number, file: string, progress?: ProgressEvent[]): Promise<LevelMeasurement> {
  const raw = new RawCsvWriter(join(dir, file));
  try {
    return await runLevel(
      levelPlan(server.url, { concurrency: 12, requestsPerLevel: 3000, threads, raw, onProgress: progress ? (e) => progress.push(e) : undefined }),
    );
  } finally {
    await raw.close();
  }
}

describe('generator_threads', () => {
  it('1 and 3 threads give the same counts, and merge into one consistent level', async () => {
    const one = await level(1, 'one.csv');
    const progress: ProgressEvent[] = [];
    const three = await level(3, 'three.csv', progress);
    for (const r of [one, three]) {
      expect(r.requests).toBe(3000);
      expect(r.successes).toBe(2700);
      expect(r.errors.http_5xx).toBe(300);
      expect(r.status_codes).toEqual({ '200': 2700, '500': 300 });
      expect(r.error_samples).toEqual([{ category: 'http_5xx', message: 'HTTP 500' }]);
      expect(r.warmup_requests).toBe(0);
      // The merged histogram holds every success exactly once, as does the timeline.
      expect(decodeHistogram(r.histogram).totalCount).toBe(r.successes);
      expect(r.timeline.reduce((a, p) => a + p.requests, 0)).toBe(3000);
      expect(r.timeline.reduce((a, p) => a + p.successes, 0)).toBe(2700);
      expect(r.timeline.reduce((a, p) => a + p.failures, 0)).toBe(300);
      expect(r.latency_ms.p50).toBeGreaterThan(0);
      expect(r.duration_s).toBeGreaterThan(0);
    }
    expect(one.generator.threads).toBeUndefined();
    expect(three.generator.threads).toBe(3);
    expect(progress.length).toBeGreaterThan(0);

    // One valid raw CSV: one header, one row per request, every worker 0-11 present.
    const lines = readFileSync(join(dir, 'three.csv'), 'utf8').trim().split('\n');
    expect(lines[0]).toBe('scenario,concurrency,worker,timestamp_ms,latency_ms,status,ok,error');
    expect(lines).toHaveLength(3001);
    const rows = lines.slice(1).map((l) => l.split(','));
    expect(rows.every((r) => r.length === 8 && r[0] === 'test' && r[1] === '12')).toBe(true);
    expect(new Set(rows.map((r) => Number(r[2])))).toEqual(new Set(Array.from({ length: 12 }, (_, i) => i)));
    expect(rows.filter((r) => r[5] === '500' && r[6] === '0' && r[7] === 'http_5xx')).toHaveLength(300);
  });

  it('runs a timed level with a warm-up over threads, the same window for every thread', async () => {
    const r = await runLevel(levelPlan(server.url, { concurrency: 8, durationSeconds: 1.2, warmupSeconds: 0.3, threads: 2 }));
    expect(r.warmup_requests).toBeGreaterThan(0);
    expect(r.duration_s).toBeGreaterThan(1.1);
    expect(r.duration_s).toBeLessThan(1.5);
    expect(r.successes + r.failures).toBe(r.requests);
    expect(decodeHistogram(r.histogram).totalCount).toBe(r.successes);
    expect(r.timeline.reduce((a, p) => a + p.requests, 0)).toBe(r.requests);
    expect(r.timeline.length).toBeGreaterThanOrEqual(1);
    expect(r.timeline.length).toBeLessThanOrEqual(2);
  });

  it('stops every thread when the level is aborted', async () => {
    const controller = new AbortController();
    const started = Date.now();
    const r = await runLevel(
      levelPlan(server.url, {
        concurrency: 4,
        durationSeconds: 20,
        threads: 2,
        signal: controller.signal,
        onProgress: (e) => {
          if (e.requests > 0) controller.abort();
        },
      }),
    );
    expect(Date.now() - started).toBeLessThan(5000);
    expect(r.partial).toBe(true);
    expect(r.requests).toBeGreaterThan(0);
  });

  it('refuses functions, which cannot cross threads, with a clear error; auto falls back to 1', async () => {
    const withFn = levelPlan(server.url, { threads: 2, body: () => '{}' });
    await expect(runLevel(withFn)).rejects.toThrow(/generator_threads: found 2 with a payload function.*static payload and no check/);
    expect(generatorThreadsProblem(4, false, true)).toMatch(/with a check/);
    expect(generatorThreadsProblem('auto', true, true)).toBeUndefined();
    expect(resolveGeneratorThreads({ threads: 'auto', concurrency: 64, check: () => true })).toBe(1);
    expect(resolveGeneratorThreads({ threads: 8, concurrency: 3 })).toBe(3);
    expect(resolveGeneratorThreads({ threads: 'auto', concurrency: 4 })).toBe(1);
  });
});

describe('generator_threads in config.yaml and scenario options', () => {
  const config = (threads?: unknown) =>
    configSchema.parse({
      target: { url: 'http://127.0.0.1:1/submit', method: 'POST' },
      workload: { concurrency_levels: [64], requests_per_level: 10, ...(threads === undefined ? {} : { generator_threads: threads }) },
    });

  it('defaults to 1, takes a number or "auto", and a scenario overrides it', () => {
    expect(config().workload.generator_threads).toBe(1);
    expect(config('auto').workload.generator_threads).toBe('auto');
    expect(resolveScenario('s', {}, config(2)).generatorThreads).toBe(2);
    expect(resolveScenario('s', { generator_threads: 'auto' }, config(2)).generatorThreads).toBe('auto');
    expect(() => config(0)).toThrow();
    expect(() => config('many')).toThrow();
  });

  it('names the scenario and the reason when threads meet a payload function or a check', () => {
    expect(() => resolveScenario('s', { payload: () => ({}) }, config(2))).toThrow(ConfigError);
    expect(() => resolveScenario('submit', { generator_threads: 4, check: () => true }, config())).toThrow(
      /scenario "submit"[\s\S]*generator_threads: found 4 with a check/,
    );
    expect(resolveScenario('s', { payload: () => ({}), generator_threads: 'auto' }, config()).generatorThreads).toBe('auto');
  });
});

describe('merging shards', () => {
  it('splits connections and requests exactly', () => {
    expect(splitEvenly(64, 2)).toEqual([32, 32]);
    expect(splitEvenly(10, 3)).toEqual([4, 3, 3]);
    expect(splitEvenly(1000, 7).reduce((a, b) => a + b, 0)).toBe(1000);
  });

  it('adds up counts and keeps at most three distinct samples per category', () => {
    const shard = (n: number, samples: string[]) => ({
      requests: n,
      successes: n - samples.length,
      warmupRequests: 1,
      errors: [samples.length, 0, 0, 0, 0, 0, 0, 0, 0],
      statusCodes: [[200, n - samples.length]] as [number, number][],
      errorSamples: samples.map((m) => ['timeout', m] as ['timeout', string]),
      endEpochMs: n,
    });
    const m = mergeShardCounts([shard(10, ['a', 'b']), shard(20, ['b', 'c', 'd'])]);
    expect(m.requests).toBe(30);
    expect(m.successes).toBe(25);
    expect(m.warmupRequests).toBe(2);
    expect(m.errors.timeout).toBe(5);
    expect(m.statusCodes).toEqual({ '200': 25 });
    expect(m.errorSamples.map((e) => e.message)).toEqual(['a', 'b', 'c']);
    expect(m.endEpochMs).toBe(20);
  });
});
