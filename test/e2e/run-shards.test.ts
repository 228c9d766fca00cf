/**
 * Run shards end to end (issue 15): three loadbench processes, each a shard (LOADBENCH_SHARD=i/3)
 * with one LOADBENCH_START_AT, against a server that answers after a fixed 20 ms, at concurrency
 * 12 (4 connections each) after a level of 2 (1 + 1 + 0); then `loadbench merge`, compared with
 * the raw rows and with one process running concurrency 12 alone. The same again with each shard
 * in its own network namespace on a veth bridge, where the machine allows it (root and `ip netns`).
 * Sends load: run under the machine lock,
 *   flock /tmp/loadbench-machine.lock npx vitest run test/e2e/run-shards.test.ts
 */
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
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

const DELAY_MS = 20;
const SHARD_SCRIPT = join(REPO_ROOT, 'test/helpers/run-shard-process.ts');
const dirs: string[] = [];
afterAll(() => {
  if (!process.env.KEEP_TEST_TMP) for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** A server on `host` that answers every request after DELAY_MS. */
async function fixedDelayServer(host: string): Promise<{ port: number; peers: Set<string>; close(): Promise<void> }> {
  const sockets = new Set<import('node:net').Socket>();
  const peers = new Set<string>();
  const server = http.createServer((req, res) => {
    peers.add(req.socket.remoteAddress ?? '');
    req.resume();
    req.on('end', () => setTimeout(() => res.end('ok'), DELAY_MS));
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const { port } = server.address() as import('node:net').AddressInfo;
  return {
    port,
    peers,
    close: () =>
      new Promise((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

const configOf = (url: string, levels: number[]) => ({
  run_label: 'dist',
  output_dir: 'runs',
  target: { url, method: 'GET' },
  workload: { concurrency_levels: levels, duration_seconds: 3, warmup_seconds: 0.5 },
  slo: { p95_ms: 500, error_rate_pct: 1 },
  report: { hardware_env: 'test machine', software_env: 'test' },
});

/** Runs one loadbench process (a shard when `env` says so), optionally through a command prefix such as `ip netns exec ns`. */
function loadbenchProcess(config: object, env: Record<string, string>, prefix: string[] = []): Promise<{ code: number | null; out: string }> {
  const argv = [...prefix, process.execPath, '--import', 'tsx', SHARD_SCRIPT];
  const child = spawn(argv[0]!, argv.slice(1), { cwd: REPO_ROOT, env: { ...process.env, LOADBENCH_CONFIG: '', LOADBENCH_TEST_CONFIG: JSON.stringify(config), ...env } });
  // The script runs in REPO_ROOT (where tsx resolves) and writes where LOADBENCH_TEST_ROOT points.
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, out })));
}

/** Every successful latency of level `concurrency` in a raw CSV, in µs. */
function rawLatenciesUs(file: string, concurrency: number): number[] {
  const rows = parse(readFileSync(file, 'utf8'), { columns: true }) as Record<string, string>[];
  return rows.filter((r) => r.concurrency === String(concurrency) && r.ok === '1').map((r) => Math.round(Number(r.latency_ms) * 1000));
}

interface ShardedRun {
  dir: string;
  shards: RunSummary[];
  merged: RunSummary;
  mergeOut: string;
  mergeCode: number | null;
  single: RunSummary;
  /** The addresses the shards' requests came from. */
  shardPeers: string[];
}

/** Three shards with one start time, their merge, and one process alone at concurrency 12. */
async function shardedRun(serverHost: string, prefixOf: (i: number) => string[] = () => []): Promise<ShardedRun> {
  const server = await fixedDelayServer(serverHost);
  const dir = mkdtempSync(join(tmpdir(), 'loadbench-shards-'));
  dirs.push(dir);
  try {
    const url = `http://${serverHost}:${server.port}/submit`;
    // Far enough ahead for three processes to load tsx and calibrate the machine on 2 cores.
    const startAt = new Date(Date.now() + 8000).toISOString();
    const results = await Promise.all(
      [1, 2, 3].map((i) => loadbenchProcess(configOf(url, [2, 12]), { LOADBENCH_TEST_ROOT: dir, LOADBENCH_SHARD: `${i}/3`, LOADBENCH_START_AT: startAt }, prefixOf(i))),
    );
    for (const r of results) expect(r.code, r.out).toBe(0);
    const shardPeers = [...server.peers].sort();
    for (const r of results) expect(r.out).toContain(`waiting for LOADBENCH_START_AT ${startAt}`);
    const shards = await Promise.all([1, 2, 3].map((i) => readRunSummary(join(dir, `runs/dist.shard-${i}-of-3_summary.json`))));
    const merge = runLoadbench(dir, ['merge', 'runs']);
    expect(merge.code, merge.stdout + merge.stderr).toBe(0);
    const merged = await readRunSummary(join(dir, 'runs/dist_summary.json'));
    const single = await loadbenchProcess({ ...configOf(url, [12]), run_label: 'single' }, { LOADBENCH_TEST_ROOT: dir });
    expect(single.code, single.out).toBe(0);
    return { dir, shards, merged, mergeOut: merge.stdout + merge.stderr, mergeCode: merge.code, shardPeers, single: await readRunSummary(join(dir, 'runs/single_summary.json')) };
  } finally {
    await server.close();
  }
}

const levelAt = (s: RunSummary, concurrency: number): MeasuredLevel => s.scenarios[0]!.levels.find((l) => l.concurrency === concurrency) as MeasuredLevel;

/** The checks of issue 15 on one sharded run. */
function checkShardedRun(run: ShardedRun): void {
  expect(run.mergeCode, run.mergeOut).toBe(0);
  // Each shard ran its part: 12 over 3 is 4 + 4 + 4; 2 over 3 is 1 + 1 + 0, and shard 3 says so.
  expect(run.shards.map((s) => levelAt(s, 12).run_shard?.connections)).toEqual([4, 4, 4]);
  expect(run.shards[2]!.scenarios[0]!.levels[0]).toMatchObject({ status: 'skipped', concurrency: 2, reason: expect.stringContaining('1 + 1 + 0') });
  for (const s of run.shards) expect(levelAt(s, 12).slo.judged).toBe(false);

  const m = levelAt(run.merged, 12);
  // The merged request count is the sum of the shards'.
  expect(m.requests).toBe(run.shards.reduce((a, s) => a + levelAt(s, 12).requests, 0));
  expect(m.requests).toBeGreaterThan(500);
  // The merged percentiles are those of a histogram of every raw row (exact).
  const all = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 120_000_000, numberOfSignificantValueDigits: 3, useWebAssembly: false });
  const raw = rawLatenciesUs(join(run.dir, 'runs/dist_raw.csv'), 12);
  expect(raw.length).toBe(m.successes);
  for (const us of raw) all.recordValue(us);
  const fromRows = latencyFromHistogram(all);
  for (const p of ['p50', 'p90', 'p95', 'p99', 'p999', 'max'] as const) expect(m.latency_ms[p], p).toBe(fromRows[p]);
  // Merged throughput is within the noise of one process running concurrency 12 (20 ms answers: about 580 req/s).
  const single = levelAt(run.single, 12);
  const ratio = m.throughput_rps / single.throughput_rps;
  expect(ratio, `merged ${m.throughput_rps.toFixed(1)} req/s, single ${single.throughput_rps.toFixed(1)} req/s`).toBeGreaterThan(0.85);
  expect(ratio).toBeLessThan(1.15);
  // The skew is reported: in the level, the summary, the command's output and the report.
  expect(m.shard_merge?.generators).toBe(3);
  expect(m.shard_merge!.start_skew_ms).toBeLessThan(500);
  expect(run.merged.merged_from).toMatchObject({ shards: 3, shared_start: true });
  expect(run.mergeOut).toMatch(/scenario "fixed" at concurrency 12: 3 generator\(s\), connections 4 \+ 4 \+ 4, start skew \d+ ms/);
  expect(readFileSync(join(run.dir, 'runs/dist_report.md'), 'utf8')).toMatch(/\| Load generators \| 3 generators \(run shards merged by loadbench merge, config [0-9a-f]{16}; one shared LOADBENCH\\_START\\_AT; largest level start skew \d+ ms/);
  expect(m.slo).toMatchObject({ judged: true, pass: true });
  console.log(
    `run shards: merged ${m.requests} requests at ${m.throughput_rps.toFixed(1)} req/s (p95 ${m.latency_ms.p95} ms, skew ${m.shard_merge!.start_skew_ms} ms); ` +
      `one process ${single.requests} at ${single.throughput_rps.toFixed(1)} req/s (p95 ${single.latency_ms.p95} ms); ratio ${ratio.toFixed(3)}`,
  );
}

describe('three run shards on loopback, one start time, merged', () => {
  let run: ShardedRun;
  it('each shard runs its part on the shared schedule; the merge is exact and matches one generator', { timeout: 90_000 }, async () => {
    run = await shardedRun('127.0.0.1');
    checkShardedRun(run);
  });

  it('refuses a missing shard, a duplicate shard and a different config, each with its own line and no output', { timeout: 30_000 }, () => {
    const dir = run.dir;
    const list = (): string[] => readdirSync(join(dir, 'runs')).sort();
    const before = list();
    const merge = (...paths: string[]) => runLoadbench(dir, ['merge', ...paths, '--run-label', 'refused']);
    const missing = merge('runs/dist.shard-1-of-3_summary.json', 'runs/dist.shard-2-of-3_summary.json');
    expect([missing.code, missing.stderr.trim()]).toEqual([2, 'loadbench merge: run shard 3 of 3 missing: expected one summary for each shard 1 to 3, found 1, 2']);
    mkdirSync(join(dir, 'copy'));
    copyFileSync(join(dir, 'runs/dist.shard-2-of-3_summary.json'), join(dir, 'copy/dist.shard-2-of-3_summary.json'));
    const twice = merge('runs', 'copy');
    expect([twice.code, twice.stderr.trim()]).toEqual([2, 'loadbench merge: run shard 2 of 3 is given twice (runs/dist.shard-2-of-3_summary.json and copy/dist.shard-2-of-3_summary.json): give each shard exactly once']);
    const other = JSON.parse(readFileSync(join(dir, 'runs/dist.shard-3-of-3_summary.json'), 'utf8'));
    other.run_shard.config_hash = '0000000000000000';
    mkdirSync(join(dir, 'other'));
    writeFileSync(join(dir, 'other/dist.shard-3-of-3_summary.json'), JSON.stringify(other));
    const differs = merge('runs/dist.shard-1-of-3_summary.json', 'runs/dist.shard-2-of-3_summary.json', 'other');
    expect(differs.code).toBe(2);
    expect(differs.stderr.trim()).toMatch(/^loadbench merge: other\/dist\.shard-3-of-3_summary\.json: config hash 0000000000000000 differs from [0-9a-f]{16} of runs\/dist\.shard-1-of-3_summary\.json: the shards ran different configs/);
    expect(list()).toEqual(before);
    expect(before.some((f) => f.startsWith('refused'))).toBe(false);
  });
});

/** Whether this machine lets the test make network namespaces, and why not. */
function netnsProblem(): string | undefined {
  if (process.getuid?.() !== 0) return 'not root';
  const probe = spawnSync('ip', ['netns', 'add', `lbprobe${process.pid}`], { encoding: 'utf8' });
  if (probe.error) return `no ip command (${probe.error.message})`;
  if (probe.status !== 0) return `ip netns add failed: ${probe.stderr.trim()}`;
  spawnSync('ip', ['netns', 'del', `lbprobe${process.pid}`]);
  return undefined;
}

const NETNS_PROBLEM = netnsProblem();
if (NETNS_PROBLEM) console.log(`run shards in network namespaces: skipped: ${NETNS_PROBLEM} (needs root and \`ip netns\`)`);

describe.skipIf(NETNS_PROBLEM !== undefined)('three run shards in their own network namespaces, on a veth bridge', () => {
  const tag = (process.pid % 10000).toString();
  const bridge = `lbbr${tag}`;
  const ns = (i: number): string => `lbsh${tag}-${i}`;
  const ip = (...args: string[]): void => {
    const r = spawnSync('ip', args, { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`ip ${args.join(' ')}: ${r.stderr.trim()}`);
  };
  afterAll(() => {
    for (const i of [1, 2, 3]) spawnSync('ip', ['netns', 'del', ns(i)]);
    spawnSync('ip', ['link', 'del', bridge]);
  });

  it('each shard sends from its own address, as separate hosts would; the same checks hold', { timeout: 90_000 }, async () => {
    // A bridge in this namespace (the server's host, 10.231.0.1) and one veth pair per shard namespace (10.231.0.1i).
    ip('link', 'add', bridge, 'type', 'bridge');
    ip('addr', 'add', '10.231.0.1/24', 'dev', bridge);
    ip('link', 'set', bridge, 'up');
    for (const i of [1, 2, 3]) {
      ip('netns', 'add', ns(i));
      ip('link', 'add', `lbv${tag}-${i}`, 'type', 'veth', 'peer', 'name', `lbp${tag}-${i}`);
      ip('link', 'set', `lbp${tag}-${i}`, 'netns', ns(i));
      ip('link', 'set', `lbv${tag}-${i}`, 'master', bridge);
      ip('link', 'set', `lbv${tag}-${i}`, 'up');
      ip('-n', ns(i), 'addr', 'add', `10.231.0.1${i}/24`, 'dev', `lbp${tag}-${i}`);
      ip('-n', ns(i), 'link', 'set', `lbp${tag}-${i}`, 'up');
      ip('-n', ns(i), 'link', 'set', 'lo', 'up');
    }
    const run = await shardedRun('10.231.0.1', (i) => ['ip', 'netns', 'exec', ns(i)]);
    expect(run.shardPeers).toEqual(['10.231.0.11', '10.231.0.12', '10.231.0.13']);
    checkShardedRun(run);
  });
});
