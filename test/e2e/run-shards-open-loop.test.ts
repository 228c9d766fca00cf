/**
 * Open-loop levels over run shards end to end (issue 15): three loadbench processes, each a shard
 * (LOADBENCH_SHARD=i/3) with one LOADBENCH_START_AT, at 300 req/s against a loopback server that
 * answers after 5 ms; each sends every third arrival of the level's one schedule. Then
 * `loadbench merge`, compared with the schedule and with the shards' raw rows. Sends load: run
 * under the machine lock,
 *   flock /tmp/loadbench-machine.lock npx vitest run test/e2e/run-shards-open-loop.test.ts
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import * as hdr from 'hdr-histogram-js';
import { afterAll, describe, expect, it } from 'vitest';
import { readRunSummary } from '../../core/model/read-summary.ts';
import type { MeasuredLevel, RunSummary } from '../../core/model/summary.ts';
import { latencyFromHistogram } from '../../engine/stats.ts';
import { runLoadbench } from '../helpers/cli.ts';
import { REPO_ROOT } from '../helpers/fixture-project.ts';

const RATE = 300;
const DURATION_S = 5;
const WARMUP_S = 0.5;
const MAX_IN_FLIGHT = 64;
const SHARDS = [1, 2, 3];
const SHARD_SCRIPT = join(REPO_ROOT, 'test/helpers/run-shard-process.ts');
const dirs: string[] = [];
afterAll(() => {
  if (!process.env.KEEP_TEST_TMP) for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** A loopback server that answers every request after 5 ms. */
async function delayServer(): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<import('node:net').Socket>();
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => setTimeout(() => res.end('ok'), 5));
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as import('node:net').AddressInfo;
  return {
    port,
    close: () =>
      new Promise((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

function shardProcess(config: object, env: Record<string, string>): Promise<{ code: number | null; out: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', SHARD_SCRIPT], { cwd: REPO_ROOT, env: { ...process.env, LOADBENCH_CONFIG: '', LOADBENCH_TEST_CONFIG: JSON.stringify(config), ...env } });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, out })));
}

const levelOf = (s: RunSummary): MeasuredLevel => s.scenarios[0]!.levels[0] as MeasuredLevel;

describe('an open-loop level over three run shards on loopback, one start time, merged', () => {
  it('the shards interleave the arrivals of one schedule; the merge follows it exactly', { timeout: 90_000 }, async () => {
    const server = await delayServer();
    const dir = mkdtempSync(join(tmpdir(), 'loadbench-open-shards-'));
    dirs.push(dir);
    let shards: RunSummary[];
    let merge: ReturnType<typeof runLoadbench>;
    try {
      const config = {
        run_label: 'open',
        output_dir: 'runs',
        target: { url: `http://127.0.0.1:${server.port}/submit`, method: 'GET' },
        workload: { arrival_rates: [RATE], duration_seconds: DURATION_S, warmup_seconds: WARMUP_S, max_in_flight: MAX_IN_FLIGHT, raw_csv: true },
        slo: { error_rate_pct: 1 },
        report: { hardware_env: 'test machine', software_env: 'test' },
      };
      // Far enough ahead for three processes to load tsx and calibrate the machine on 2 cores.
      const startAt = new Date(Date.now() + 8000).toISOString();
      const results = await Promise.all(SHARDS.map((i) => shardProcess(config, { LOADBENCH_TEST_ROOT: dir, LOADBENCH_SHARD: `${i}/3`, LOADBENCH_START_AT: startAt })));
      for (const r of results) expect(r.code, r.out).toBe(0);
      shards = await Promise.all(SHARDS.map((i) => readRunSummary(join(dir, `runs/open.shard-${i}-of-3_summary.json`))));
      merge = runLoadbench(dir, ['merge', 'runs']);
    } finally {
      await server.close();
    }
    expect(merge.code, merge.stdout + merge.stderr).toBe(0);
    const merged = levelOf(await readRunSummary(join(dir, 'runs/open_summary.json')));

    // Each shard: every third arrival at the full rate, its share of max_in_flight (64 = 22 + 21 + 21).
    const expectedPerShard = (RATE * DURATION_S) / SHARDS.length;
    shards.forEach((s, k) => {
      const l = levelOf(s);
      expect(l).toMatchObject({ concurrency: RATE, target_rate_rps: RATE, run_shard: { index: k + 1, count: 3, connections: 0 } });
      expect(l.open_loop).toMatchObject({ target_rate_rps: RATE, partition: { index: k + 1, count: 3 }, dropped: 0 });
      expect(Math.abs(l.open_loop!.sent - expectedPerShard), `shard ${k + 1} sent ${l.open_loop!.sent}`).toBeLessThanOrEqual(1);
      expect(l.slo.judged).toBe(false);
    });
    expect(shards.map((s) => levelOf(s).run_shard!.max_in_flight)).toEqual([22, 21, 21]);
    expect(shards.map((s) => levelOf(s).run_shard!.first_worker)).toEqual([0, 22, 43]);
    expect(shards.map((s) => levelOf(s).open_loop!.max_in_flight)).toEqual([22, 21, 21]);

    // The merge: the schedule's arrivals (rate x duration, within 1 per shard), none dropped, at the target rate.
    const o = merged.open_loop!;
    expect(merged).toMatchObject({ concurrency: RATE, target_rate_rps: RATE, shard_merge: { generators: 3 } });
    expect(o.partition).toBeUndefined();
    expect(Math.abs(o.sent - RATE * DURATION_S), `merged sent ${o.sent}`).toBeLessThanOrEqual(SHARDS.length);
    expect(o.sent).toBe(shards.reduce((a, s) => a + levelOf(s).open_loop!.sent, 0));
    expect(o.dropped).toBe(0);
    expect(o.max_in_flight).toBe(MAX_IN_FLIGHT);
    expect(Math.abs(o.achieved_rate_rps / RATE - 1), `achieved ${o.achieved_rate_rps} req/s`).toBeLessThan(0.02);
    expect(merged.timeline.reduce((a, p) => a + (p.sent ?? 0), 0)).toBe(o.sent);

    // The merged percentiles are those of one histogram of every raw row of the three shards (exact).
    const rows = parse(readFileSync(join(dir, 'runs/open_raw.csv'), 'utf8'), { columns: true }) as Record<string, string>[];
    const all = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 120_000_000, numberOfSignificantValueDigits: 3, useWebAssembly: false });
    const ok = rows.filter((r) => r.concurrency === String(RATE) && r.ok === '1');
    expect(ok.length).toBe(merged.successes);
    for (const r of ok) all.recordValue(Math.round(Number(r.latency_ms) * 1000));
    const fromRows = latencyFromHistogram(all);
    for (const p of ['p50', 'p90', 'p95', 'p99', 'p999', 'max'] as const) expect(merged.latency_ms[p], p).toBe(fromRows[p]);
    expect(merged.slo).toMatchObject({ judged: true, pass: true });
    expect(merge.stdout + merge.stderr).toMatch(/scenario "fixed" at rate 300 req\/s: 3 generator\(s\), interleaved arrivals, requests \d+ \+ \d+ \+ \d+, start skew \d+ ms/);
    console.log(
      `open-loop run shards: ${RATE} req/s x ${DURATION_S} s over 3 shards: merged sent ${o.sent} (expected ${RATE * DURATION_S}), dropped ${o.dropped}, ` +
        `achieved ${o.achieved_rate_rps.toFixed(2)} req/s (${((o.achieved_rate_rps / RATE - 1) * 100).toFixed(2)} %), p50 ${merged.latency_ms.p50} ms, p99 ${merged.latency_ms.p99} ms, ` +
        `schedule lag p99 ${o.schedule_lag_ms.p99} ms, start skew ${merged.shard_merge!.start_skew_ms} ms`,
    );
  });
});
