/**
 * Side-by-side cost of one resource sample, this folder's procfs sampler against the npm libraries
 * the issue named (pidusage, pidtree, systeminformation), for the same process tree (a detached
 * `sh -c` with 9 idle node children: 10 processes, as loadbench would start a target).
 *
 * Every round runs each method once, in turn, so all see the same machine; rounds are 600 ms apart
 * because systeminformation's processes() answers from a cache when called within 500 ms.
 * Per method: wall time, CPU of this process (its thread pool included) and CPU of the programs it
 * spawned (their cutime/cstime once reaped), and what it spawned.
 *
 * The libraries are not dependencies of loadbench; install them in a scratch folder and pass it:
 *   mkdir -p /tmp/res-bench && (cd /tmp/res-bench && npm init -y && npm i pidusage pidtree systeminformation)
 *   flock /tmp/loadbench-machine.lock node --import tsx core/resources/bench/library-overhead.ts /tmp/res-bench [rounds]
 */
import childProcess, { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire, syncBuiltinESMExports } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ResourceSampler } from '../sampler.ts';
import { parseProcStat } from '../proc-parse.ts';

const scratch = process.argv[2];
const rounds = Number(process.argv[3] ?? 40);
if (scratch === undefined) {
  console.error('usage: library-overhead.ts <folder with pidusage, pidtree, systeminformation installed> [rounds]');
  process.exit(2);
}

// Count what each method spawns: patched before the libraries load, so they capture the patched functions.
const spawned: string[] = [];
let depth = 0;
const cp = childProcess as unknown as Record<string, (...args: unknown[]) => unknown>;
for (const name of ['spawn', 'exec', 'execFile', 'spawnSync', 'execSync', 'execFileSync']) {
  const original = cp[name]!;
  cp[name] = function (this: unknown, ...args: unknown[]) {
    if (depth === 0) spawned.push(String(args[0]).split(' ')[0]!);
    depth++;
    try {
      return original.apply(this, args);
    } finally {
      depth--;
    }
  };
}
syncBuiltinESMExports();

type PidUsage = (pids: number[]) => Promise<Record<string, { cpu: number; memory: number }>>;
type PidTree = (pid: number, options: { root: boolean }) => Promise<number[]>;
interface SysInfo {
  processes(): Promise<{ list: { pid: number; parentPid: number; cpu: number; memRss: number }[] }>;
  currentLoad(): Promise<{ currentLoad: number }>;
  mem(): Promise<{ active: number }>;
}
const require = createRequire(join(scratch, 'package.json'));
const pidusage = require('pidusage') as PidUsage;
const si = require('systeminformation') as SysInfo;
const pidtree = ((await import(pathToFileURL(require.resolve('pidtree')).href)) as { default: PidTree }).default;

// The process tree: a shell leading its own group, 9 idle node children.
const children = Array.from({ length: 9 }, () => `node -e "setInterval(() => {}, 1000)" &`).join(' ');
const shell = spawn(`${children} wait`, { shell: true, detached: true, stdio: 'ignore' });
const pgid = shell.pid!;
await new Promise((r) => setTimeout(r, 1500));

function childTicks(): number {
  return parseProcStat(readFileSync('/proc/self/stat', 'latin1'))!.childTicks;
}

const tree = (list: { pid: number; parentPid: number }[], root: number): Set<number> => {
  const found = new Set([root]);
  for (let grew = true; grew; ) {
    grew = false;
    for (const p of list) if (!found.has(p.pid) && found.has(p.parentPid)) grew = found.add(p.pid).size > 0;
  }
  return found;
};

const sampler = new ResourceSampler({ target: { kind: 'group', pgid } });
const samplerScanning = new ResourceSampler({ target: { kind: 'group', pgid }, rescanMs: 0 });
let knownPids: number[] = [];

const methods: Record<string, () => Promise<number>> = {
  'loadbench /proc sampler (discovery + machine + generator)': async () => sampler.sampleNow()!.target.length,
  'loadbench /proc sampler, full /proc scan every sample': async () => samplerScanning.sampleNow()!.target.length,
  'pidtree + pidusage (discovery by ps)': async () => {
    const pids = await pidtree(pgid, { root: true });
    knownPids = pids;
    return Object.keys(await pidusage(pids)).length;
  },
  'pidusage on known pids (no discovery)': async () => Object.keys(await pidusage(knownPids)).length,
  'systeminformation processes() + currentLoad() + mem()': async () => {
    const [all] = await Promise.all([si.processes(), si.currentLoad(), si.mem()]);
    return tree(all.list, pgid).size;
  },
};

interface Tally { wallMs: number[]; cpuUs: number[]; childTicks: number; spawns: Map<string, number>; found: number }
const tallies = new Map<string, Tally>(Object.keys(methods).map((name) => [name, { wallMs: [], cpuUs: [], childTicks: 0, spawns: new Map(), found: 0 }]));

for (let round = 0; round < rounds + 2; round++) {
  for (const [name, run] of Object.entries(methods)) {
    spawned.length = 0;
    const ticks0 = childTicks();
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    const found = await run();
    const wall = performance.now() - t0;
    const cpu = process.cpuUsage(cpu0);
    // The first two rounds warm up (JIT, first-call set-up such as pidusage's getconf).
    if (round < 2) continue;
    const tally = tallies.get(name)!;
    tally.wallMs.push(wall);
    tally.cpuUs.push(cpu.user + cpu.system);
    tally.childTicks += childTicks() - ticks0;
    tally.found = found;
    for (const s of spawned) tally.spawns.set(s, (tally.spawns.get(s) ?? 0) + 1);
  }
  await new Promise((r) => setTimeout(r, 600));
}

// The sampler's own cost in steady state: many samples back to back (this process is otherwise idle,
// so its CPU is the sampler's), without and with the scan of every process.
function steady(s: ResourceSampler, n: number): { medianWallUs: number; cpuUs: number } {
  for (let i = 0; i < 50; i++) s.sampleNow();
  const wall: number[] = [];
  const cpu0 = process.cpuUsage();
  for (let i = 0; i < n; i++) wall.push(s.sampleNow()!.cost.wallUs);
  const cpu = process.cpuUsage(cpu0);
  return { medianWallUs: [...wall].sort((a, b) => a - b)[n >> 1]!, cpuUs: (cpu.user + cpu.system) / n };
}
const plain = steady(sampler, 2000);
const scanning = steady(samplerScanning, 300);

// And as it runs in loadbench: on its own timer, every 250 ms, scanning every 2 s, with nothing
// else running in this process; its own cost figures (sampler.*) against this process's CPU.
sampler.stop();
samplerScanning.stop();
const cadenceSeconds = 15;
const timed = new ResourceSampler({ target: { kind: 'group', pgid } });
const timedCpu0 = process.cpuUsage();
const timedStart = performance.timeOrigin + performance.now();
timed.start();
await new Promise((r) => setTimeout(r, cadenceSeconds * 1000));
const timedSummary = timed.summarize({ startMs: timedStart, endMs: performance.timeOrigin + performance.now() });
const timedCpu = process.cpuUsage(timedCpu0);
const timedSamples = timed.diagnostics.samples;
timed.stop();

process.kill(-pgid, 'SIGKILL');

const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const procCount = readdirSync('/proc').filter((n) => /^\d+$/.test(n)).length;
const load = readFileSync('/proc/loadavg', 'latin1').split(' ').slice(0, 3).join(' ');
console.log(`${rounds} rounds, 10 target processes, ${procCount} processes on the machine (load average ${load}), CLK_TCK ${sampler.diagnostics.ticksPerSecond} (${sampler.diagnostics.ticksSource})`);
console.log('| method | found | wall ms (median) | in-process CPU µs (median / mean) | spawned programs CPU µs (mean) | total CPU µs per sample (mean) | spawns per sample |');
console.log('| --- | --- | --- | --- | --- | --- | --- |');
for (const [name, t] of tallies) {
  const childUs = (t.childTicks * 1e6) / sampler.diagnostics.ticksPerSecond! / rounds;
  const spawns = [...t.spawns].map(([cmd, n]) => `${(n / rounds).toFixed(1)} × ${cmd}`).join(', ') || 'none';
  console.log(`| ${name} | ${t.found} | ${median(t.wallMs).toFixed(2)} | ${median(t.cpuUs).toFixed(0)} / ${mean(t.cpuUs).toFixed(0)} | ${childUs.toFixed(0)} | ${(mean(t.cpuUs) + childUs).toFixed(0)} | ${spawns} |`);
}

const scanExtraUs = scanning.cpuUs - plain.cpuUs;
const perSecondUs = 4 * plain.cpuUs + scanExtraUs / 2;
console.log('');
console.log(`sampler steady state, 10 target processes: median ${plain.medianWallUs} µs wall, ${plain.cpuUs.toFixed(0)} µs CPU per sample;`);
console.log(`a scan of all ${procCount} processes adds ${scanExtraUs.toFixed(0)} µs (median ${scanning.medianWallUs} µs wall per scanning sample);`);
console.log(`at 250 ms with a scan every 2 s: ${perSecondUs.toFixed(0)} µs CPU per second = ${(perSecondUs / 1e4).toFixed(3)} % of one core`);
if (timedSummary.available) {
  const perSample = (timedCpu.user + timedCpu.system) / timedSamples;
  console.log(`on its timer for ${cadenceSeconds} s (${timedSamples} samples): it reports ${timedSummary.sampler.meanWallUs} µs wall (max ${timedSummary.sampler.maxWallUs}), ${timedSummary.sampler.meanCpuUs} µs CPU per sample, ${(timedSummary.sampler.cores * 100).toFixed(3)} % of a core;`);
  console.log(`this process used ${perSample.toFixed(0)} µs CPU per sample meanwhile (timer wake-ups included) = ${((perSample * 4) / 1e4).toFixed(3)} % of one core`);
}
