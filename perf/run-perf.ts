/**
 * `npm run perf [-- --quick] [--reps N] [--seconds S] [--connections C] [--server fast|slow|both] [--memory] [--threads]`
 *
 * Side-by-side peer benchmark of loadbench's engine and autocannon, in one run, no set-up:
 * a minimal local server (pinned to CPU 1 with taskset when present), each generator in its
 * own process (pinned to CPU 0), interleaved repetitions after a warm-up, first against a
 * fast server, then against one that waits 20 ms. Prints a Markdown table and writes
 * runs/perf_<timestamp>.json and .md.
 *
 * `--memory`: one level of 1,000,000 requests with the raw CSV on; the generator's resident memory.
 * `--threads`: loadbench's ceiling with generator_threads 1 and 2 (processes not pinned).
 * `--open-loop`: loadbench (`arrival_rates`) and autocannon (`-R`, corrected latency) at the same
 * rate, against the 20 ms server (500 req/s) and a stalling one (2 ms, held 1 s every 4 s; 100 req/s).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { writeFileAtomic } from '../reporters/write/write-atomic.ts';
import type { GeneratorResult } from './generator.ts';
import { formatMemoryMarkdown, formatPerfMarkdown, summarizePerf, type PerfScenario } from './perf-report.ts';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const children = new Set<ChildProcess>();
const HAS_TASKSET = spawnSync('taskset', ['-c', '0', 'true']).status === 0;

/** Scratch folder of this run (raw CSVs), removed on every way out. */
let scratch: string | undefined;

function killAll(): void {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  children.clear();
  if (scratch) rmSync(scratch, { recursive: true, force: true });
}
process.on('exit', killAll);
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.on(sig, () => {
    process.stderr.write(`perf: ${sig}, stopping every child\n`);
    killAll();
    process.exit(130);
  });
}

/** `taskset -c <cpu> node ...` when taskset exists (it execs node, so the pid stays node's). */
function command(cpu: number | undefined, args: string[]): [string, string[]] {
  return HAS_TASKSET && cpu !== undefined ? ['taskset', ['-c', String(cpu), process.execPath, ...args]] : [process.execPath, args];
}

/** A child whose stdin is a pipe held by us: if this process dies, the child sees end-of-file and exits. */
function track(cmd: string, args: string[]): ChildProcess {
  const child = spawn(cmd, args, { cwd: ROOT, stdio: ['pipe', 'pipe', 'inherit'] });
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

interface Server {
  url: string;
  stop(): Promise<void>;
}

async function startServer(delayMs: number, cpu: number | undefined, raw = false, stall = false): Promise<Server> {
  const [cmd, args] = command(cpu, ['--import', 'tsx', join(ROOT, 'perf/perf-server.ts'), '--delay', String(delayMs), ...(raw ? ['--raw'] : []), ...(stall ? ['--stall'] : [])]);
  const child = track(cmd, args);
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('perf server did not start within 15 s')), 15_000);
    let out = '';
    child.stdout!.on('data', (c: Buffer) => {
      out += c;
      const m = /listening (\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`perf server exited (${code})`));
    });
  });
  return {
    url: `http://127.0.0.1:${port}/submit`,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(timer);
    },
  };
}

interface GeneratorRun {
  kind: 'loadbench' | 'autocannon';
  label: string;
  url: string;
  connections: number;
  seconds: number;
  warmup: number;
  raw?: string;
  requests?: number;
  threads?: number;
  cpu?: number;
  nodeArgs?: string[];
  preciseLatency?: boolean;
  /** Open loop at this many req/s. */
  rate?: number;
}

async function runGenerator(g: GeneratorRun): Promise<GeneratorResult> {
  const args = [
    ...(g.nodeArgs ?? []),
    '--import',
    'tsx',
    join(ROOT, 'perf/generator.ts'),
    '--kind',
    g.kind,
    '--label',
    g.label,
    '--url',
    g.url,
    '--connections',
    String(g.connections),
    '--seconds',
    String(g.seconds),
    '--warmup',
    String(g.warmup),
    '--threads',
    String(g.threads ?? 1),
    ...(g.raw ? ['--raw', g.raw] : []),
    ...(g.requests ? ['--requests', String(g.requests)] : []),
    ...(g.preciseLatency ? ['--precise-latency'] : []),
    ...(g.rate ? ['--rate', String(g.rate)] : []),
  ];
  const [cmd, full] = command(g.cpu, args);
  const child = track(cmd, full);
  // Every run is bounded: the measured time, the warm-up and start-up, with a wide margin.
  const limitMs = (g.requests ? 600 : g.seconds + g.warmup + 30) * 1000;
  const timer = setTimeout(() => child.kill('SIGKILL'), limitMs);
  let out = '';
  child.stdout!.on('data', (c: Buffer) => (out += c));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  clearTimeout(timer);
  const line = out.trim().split('\n').at(-1) ?? '';
  if (code !== 0 || !line.startsWith('{')) throw new Error(`${g.label} run failed (exit ${code}): ${out.slice(-300)}`);
  return JSON.parse(line) as GeneratorResult;
}

const log = (s: string): void => void process.stdout.write(s);

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? (s[(s.length - 1) >> 1]! + s[s.length >> 1]!) / 2 : 0;
};

/**
 * The open-loop section: loadbench and autocannon at the same rate, interleaved, against the
 * 20 ms server and the stalling one; achieved rate, p50/p99 (each from its intended send time:
 * loadbench's due time, autocannon's corrected latency) and CPU per request, medians of `reps`.
 */
async function openLoopComparison(reps: number, seconds: number, connections: number): Promise<string> {
  const setups = [
    { name: 'Server waiting 20 ms', delay: 20, stall: false, rate: 500 },
    { name: 'Stalling server (2 ms; every answer held 1 s once every 4 s)', delay: 2, stall: true, rate: 100 },
  ];
  const out: string[] = [
    `## Open loop: loadbench arrival_rates vs autocannon -R (${reps} x ${seconds} s, autocannon with ${connections} connections)`,
    '',
    'wrk2 (`-R`) is not installed: it is not among the Debian packages this machine can install (only wrk 4.1, which has no fixed rate).',
  ];
  for (const setup of setups) {
    const server = await startServer(setup.delay, 1, false, setup.stall);
    try {
      const results: Record<string, GeneratorResult[]> = { loadbench: [], autocannon: [] };
      for (let r = 1; r <= reps; r++) {
        for (const kind of r % 2 ? (['loadbench', 'autocannon'] as const) : (['autocannon', 'loadbench'] as const)) {
          const res = await runGenerator({ kind, label: kind, url: server.url, connections, seconds, warmup: 0, cpu: 0, rate: setup.rate });
          results[kind]!.push(res);
          log(`  ${setup.name}, ${setup.rate} req/s, rep ${r}/${reps} ${kind}: sent ${res.achieved_rps?.toFixed(1)} req/s, p50 ${res.p50_ms} ms, p99 ${res.p99_ms} ms, ${res.cpu_us_per_request.toFixed(1)} µs CPU/req\n`);
        }
      }
      out.push('', `### ${setup.name}, ${setup.rate} req/s offered`, '', '| generator | achieved req/s | p50 ms | p99 ms | CPU µs/request | errors |', '| --- | --- | --- | --- | --- | --- |');
      for (const [kind, rs] of Object.entries(results)) {
        out.push(
          `| ${kind} | ${median(rs.map((x) => x.achieved_rps ?? 0)).toFixed(1)} | ${median(rs.map((x) => x.p50_ms)).toFixed(2)} | ${median(rs.map((x) => x.p99_ms)).toFixed(2)} | ${median(rs.map((x) => x.cpu_us_per_request)).toFixed(1)} | ${median(rs.map((x) => x.errors))} |`,
        );
      }
    } finally {
      await server.stop();
    }
  }
  out.push('', 'loadbench times each request from its due time; autocannon reports whole milliseconds, corrected for coordinated omission by back-filled estimates.');
  return out.join('\n');
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      reps: { type: 'string' },
      seconds: { type: 'string' },
      warmup: { type: 'string' },
      connections: { type: 'string', default: '64' },
      memory: { type: 'boolean', default: false },
      requests: { type: 'string' },
      threads: { type: 'boolean', default: false },
      'no-raw': { type: 'boolean', default: false },
      server: { type: 'string', default: 'both' },
      'output-dir': { type: 'string', default: 'runs' },
      'open-loop': { type: 'boolean', default: false },
    },
  });
  const quick = values.quick;
  const reps = Number(values.reps ?? (quick ? 1 : 5));
  const seconds = Number(values.seconds ?? (quick ? 1 : 3));
  const warmup = Number(values.warmup ?? (quick ? 0.5 : 1));
  const connections = Number(values.connections);
  for (const [name, v] of Object.entries({ reps, seconds, warmup, connections })) {
    if (!Number.isFinite(v) || v < 0 || (name !== 'warmup' && v === 0)) throw new Error(`--${name}: expected a positive number`);
  }
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const tmp = mkdtempSync(join(tmpdir(), 'loadbench-perf-'));
  scratch = tmp;
  const outBase = join(resolve(ROOT, values['output-dir']), `perf_${stamp}`);
  const environment = { taskset: HAS_TASKSET, node: process.version, load_before: loadavg()[0]! };
  try {
    if (values.memory) {
      const server = await startServer(0, 1);
      try {
        const requests = Number(values.requests ?? (quick ? 100_000 : 1_000_000));
        log(`memory: one level of ${requests} requests at ${connections} connections, raw CSV on...\n`);
        const r = await runGenerator({
          kind: 'loadbench',
          label: 'loadbench+raw',
          url: server.url,
          connections,
          seconds: 0,
          warmup: 0,
          raw: join(tmp, 'raw.csv'),
          requests,
          cpu: 0,
        });
        const md = formatMemoryMarkdown(r);
        log(md);
        await writeFileAtomic(`${outBase}_memory.json`, `${JSON.stringify({ environment, result: r }, null, 1)}\n`);
        await writeFileAtomic(`${outBase}_memory.md`, md);
        log(`wrote ${outBase}_memory.json and ${outBase}_memory.md\n`);
      } finally {
        await server.stop();
      }
      return;
    }

    if (values['open-loop']) {
      const md = await openLoopComparison(Number(values.reps ?? (quick ? 1 : 3)), Number(values.seconds ?? 8), connections);
      log(`\n${md}\n`);
      await writeFileAtomic(`${outBase}_open_loop.md`, md);
      log(`wrote ${outBase}_open_loop.md\n`);
      return;
    }

    const scenarios: PerfScenario[] = [];
    // Threads mode: the cheap raw-TCP server and nothing pinned, so a second generator thread can use the second core.
    const settings = values.threads
      ? [{ delay: 0, kinds: ['loadbench', 'loadbench-2t', 'autocannon'], pin: false, raw: true }]
      : [
          { delay: 0, kinds: values['no-raw'] ? ['loadbench', 'autocannon'] : ['loadbench', 'autocannon', 'loadbench+raw'], pin: true, raw: false },
          { delay: 20, kinds: ['loadbench', 'autocannon'], pin: true, raw: false },
        ].filter((x) => values.server === 'both' || (values.server === 'fast') === (x.delay === 0));
    for (const { delay, kinds, pin, raw } of settings) {
      const server = await startServer(delay, pin ? 1 : undefined, raw);
      try {
        let rawN = 0;
        const run = (label: string, measuredSeconds: number, warm: number): Promise<GeneratorResult> =>
          runGenerator({
            kind: label === 'autocannon' ? 'autocannon' : 'loadbench',
            label,
            url: server.url,
            connections,
            seconds: measuredSeconds,
            warmup: warm,
            raw: label === 'loadbench+raw' ? join(tmp, `raw-${rawN++}.csv`) : undefined,
            threads: label === 'loadbench-2t' ? 2 : 1,
            cpu: pin ? 0 : undefined,
            // Where latency is the question, autocannon's exact times replace its whole milliseconds.
            preciseLatency: delay > 0,
          });
        log(`server delay ${delay} ms: warm-up of the server...\n`);
        await run(kinds[0]!, Math.max(0.5, warmup), 0);
        const results: GeneratorResult[] = [];
        for (let r = 1; r <= reps; r++) {
          // Rotating the order spreads slow drifts (other work on the machine) over every generator.
          const order = kinds.map((_, i) => kinds[(i + r - 1) % kinds.length]!);
          for (const label of order) {
            const res = await run(label, seconds, warmup);
            results.push(res);
            log(
              `  rep ${r}/${reps} ${res.generator}: ${Math.round(res.rps)} req/s, ${res.cpu_us_per_request.toFixed(1)} µs CPU/req, ` +
                `p50 ${res.p50_ms} ms, p99 ${res.p99_ms} ms${res.errors ? `, ${res.errors} errors` : ''}\n`,
            );
          }
          rmSync(tmp, { recursive: true, force: true });
        }
        scenarios.push({ delay_ms: delay, connections, seconds, warmup_s: warmup, reps, pinned: pin && HAS_TASKSET, raw_server: raw, precise_latency: delay > 0, results });
      } finally {
        await server.stop();
      }
    }
    const summary = summarizePerf(scenarios, { ...environment, load_after: loadavg()[0]! });
    const md = formatPerfMarkdown(summary);
    log(`\n${md}\n`);
    await writeFileAtomic(`${outBase}.json`, `${JSON.stringify({ ...summary, runs: scenarios }, null, 1)}\n`);
    await writeFileAtomic(`${outBase}.md`, md);
    log(`wrote ${outBase}.json and ${outBase}.md\n`);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
    killAll();
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`perf: ${(error as Error).message}\n`);
    killAll();
    process.exit(1);
  },
);
