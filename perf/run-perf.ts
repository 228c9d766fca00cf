/**
 * `npm run perf [-- --quick] [--reps N] [--seconds S] [--connections C] [--memory]`
 *
 * Side-by-side peer benchmark of loadbench's engine and autocannon, in one run, no set-up:
 * a minimal local server (pinned to CPU 1 with taskset when present), each generator in its
 * own process (pinned to CPU 0), interleaved repetitions after a warm-up, first against a
 * fast server, then against one that waits 20 ms. Prints a Markdown table and writes
 * runs/perf_<timestamp>.json and .md. `--memory` instead runs one level of 1,000,000 requests
 * with the raw CSV on and reports the generator's resident memory.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { writeFileAtomic } from '../reporters/io/write-atomic.ts';
import type { GeneratorResult } from './generator.ts';
import { summarizePerf, formatPerfMarkdown, type PerfScenario } from './perf-report.ts';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const children = new Set<ChildProcess>();
const HAS_TASKSET = spawnSync('taskset', ['-c', '0', 'true']).status === 0;

function killAll(): void {
  for (const c of children) c.kill('SIGKILL');
}
process.on('exit', killAll);
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => {
    killAll();
    process.exit(130);
  });
}

function pinned(cpu: number, args: string[]): [string, string[]] {
  return HAS_TASKSET ? ['taskset', ['-c', String(cpu), process.execPath, ...args]] : [process.execPath, args];
}

async function startServer(delayMs: number): Promise<{ url: string; stop(): void }> {
  const [cmd, args] = pinned(1, ['--import', 'tsx', join(ROOT, 'perf/perf-server.ts'), '--delay', String(delayMs)]);
  const child = spawn(cmd, args, { cwd: ROOT, stdio: ['pipe', 'pipe', 'inherit'] });
  children.add(child);
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
    child.once('exit', (code) => reject(new Error(`perf server exited (${code})`)));
  });
  return {
    url: `http://127.0.0.1:${port}/submit`,
    stop: () => {
      child.kill('SIGTERM');
      children.delete(child);
    },
  };
}

async function runGenerator(kind: string, url: string, connections: number, seconds: number, raw?: string, requests?: number): Promise<GeneratorResult> {
  const args = ['--import', 'tsx', join(ROOT, 'perf/generator.ts'), kind, url, String(connections), String(seconds), raw ?? '', requests ? String(requests) : ''];
  const [cmd, full] = pinned(0, args);
  const child = spawn(cmd, full, { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
  children.add(child);
  const limitMs = (requests ? 600 : seconds + 30) * 1000;
  const timer = setTimeout(() => child.kill('SIGKILL'), limitMs);
  let out = '';
  child.stdout!.on('data', (c: Buffer) => (out += c));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  clearTimeout(timer);
  children.delete(child);
  const line = out.trim().split('\n').at(-1) ?? '';
  if (code !== 0 || !line.startsWith('{')) throw new Error(`${kind} run failed (exit ${code}): ${out.slice(-300)}`);
  return JSON.parse(line) as GeneratorResult;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      reps: { type: 'string' },
      seconds: { type: 'string' },
      connections: { type: 'string', default: '64' },
      memory: { type: 'boolean', default: false },
      'output-dir': { type: 'string', default: 'runs' },
    },
  });
  const reps = Number(values.reps ?? (values.quick ? 1 : 5));
  const seconds = Number(values.seconds ?? (values.quick ? 1 : 3));
  const connections = Number(values.connections);
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const tmp = mkdtempSync(join(tmpdir(), 'loadbench-perf-'));
  const outBase = join(ROOT, values['output-dir'], `perf_${stamp}`);
  try {
    if (values.memory) {
      const server = await startServer(0);
      try {
        const requests = values.quick ? 100_000 : 1_000_000;
        process.stdout.write(`memory: one level of ${requests} requests at ${connections} connections, raw CSV on...\n`);
        const r = await runGenerator('loadbench', server.url, connections, 0, join(tmp, 'raw.csv'), requests);
        const text = `| requests | RSS at start (MB) | peak RSS (MB) | growth (MB) |\n| ---: | ---: | ---: | ---: |\n| ${r.requests} | ${r.rss_start_mb.toFixed(1)} | ${r.rss_peak_mb.toFixed(1)} | ${(r.rss_peak_mb - r.rss_start_mb).toFixed(1)} |\n`;
        process.stdout.write(text);
        await writeFileAtomic(`${outBase}_memory.json`, `${JSON.stringify(r, null, 1)}\n`);
        await writeFileAtomic(`${outBase}_memory.md`, text);
      } finally {
        server.stop();
      }
      return;
    }
    const scenarios: PerfScenario[] = [];
    for (const delay of [0, 20]) {
      const server = await startServer(delay);
      try {
        const kinds = delay === 0 ? ['loadbench', 'autocannon', 'loadbench+raw'] : ['loadbench', 'autocannon'];
        const run = (kind: string, s: number) =>
          runGenerator(kind === 'loadbench+raw' ? 'loadbench' : kind, server.url, connections, s, kind === 'loadbench+raw' ? join(tmp, `raw-${Date.now()}.csv`) : undefined);
        process.stdout.write(`server delay ${delay} ms: warm-up...\n`);
        for (const kind of kinds) await run(kind, 1);
        const results: GeneratorResult[] = [];
        for (let r = 1; r <= reps; r++) {
          for (const kind of kinds) {
            const res = await run(kind, seconds);
            results.push(res);
            process.stdout.write(`  rep ${r}/${reps} ${res.generator}: ${Math.round(res.rps)} req/s, ${res.cpu_us_per_request.toFixed(1)} µs CPU/req, p99 ${res.p99_ms} ms\n`);
          }
          rmSync(tmp, { recursive: true, force: true });
        }
        scenarios.push({ delay_ms: delay, connections, seconds, reps, results });
      } finally {
        server.stop();
      }
    }
    const summary = summarizePerf(scenarios, { taskset: HAS_TASKSET, node: process.version });
    const md = formatPerfMarkdown(summary);
    process.stdout.write(`\n${md}\n`);
    await writeFileAtomic(`${outBase}.json`, `${JSON.stringify({ ...summary, raw: scenarios }, null, 1)}\n`);
    await writeFileAtomic(`${outBase}.md`, md);
    process.stdout.write(`wrote ${outBase}.json and ${outBase}.md\n`);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
    killAll();
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`perf: ${(error as Error).message}\n`);
    process.exit(1);
  },
);
