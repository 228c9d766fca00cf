/**
 * `npm run gate-power -- --ab [--runs 10] [--slow-pct 25] [--levels 1,4,16] [--seconds 2] [--warmup 0.5]
 *   [--reps 3] [--lock /tmp/loadbench-machine.lock]`
 *
 * The false-alarm rate and the detection power of the same-machine A/B gate (`loadbench ab`, issue
 * 13 part 3), which measures both builds in one run, ABBA-interleaved, and judges the changes
 * within back-to-back pairs, so that a drift of the machine hits both sides alike:
 *   1. clones this repository's committed HEAD into a scratch folder (node_modules and dist linked
 *      from here) and commits there a config of the given levels, then, on top of it, a commit
 *      that makes the reference gateway's workers hash `--slow-pct` % more per job (the default of
 *      FAULT_EXTRA_WORK_PCT in examples/submit-gateway/worker.ts): a slower build, as a pull
 *      request would bring one;
 *   2. runs `loadbench ab` (the built command, dist/cli/loadbench.js) `--runs` times on the clean
 *      config commit against its own HEAD (A/A) and `--runs` times on the slow commit against
 *      HEAD~1 (slowed), interleaved A/A, slowed, A/A, ...; each run is judged by the command
 *      itself with config.yaml's `ab:` tolerances, and its verdict JSON is read back;
 *   3. prints (and writes to runs/gate-power-ab_<timestamp>.md / .json) per set and level how many
 *      runs regressed, and the changes measured with their noise.
 * With `--lock`, each `loadbench ab` run takes the machine lock on its own (flock).
 */
import { execFileSync, spawn } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { median } from '../core/model/stats.ts';
import type { AbLevelVerdict } from '../core/ab/judge-ab.ts';

/** The options of an A/B power run (parsed by gate-power.ts). */
export interface AbPowerOptions {
  root: string;
  runs: number;
  slowPct: number;
  levels: number[];
  seconds: number;
  warmup: number;
  reps: number;
  lock: string | undefined;
}

interface AbTrial {
  set: 'A/A' | 'slowed';
  index: number;
  exitCode: number;
  verdicts: AbLevelVerdict[];
  tolerances: Record<string, number>;
  seconds: number;
}

const WORKER = 'examples/submit-gateway/worker.ts';
const fmt = (x: number, d = 1): string => `${x >= 0 ? '+' : ''}${x.toFixed(d)}`;
const git = (cwd: string, ...args: string[]): string => execFileSync('git', args, { cwd, encoding: 'utf8' }).trim();

/** The scratch repository: HEAD of `root`, a commit with the power run's config, a branch `slow` one commit on. */
function scratchRepository(o: AbPowerOptions): string {
  const dir = mkdtempSync(join(tmpdir(), 'loadbench-gate-power-ab-'));
  git(o.root, 'clone', '-q', '--no-hardlinks', o.root, dir);
  symlinkSync(join(o.root, 'node_modules'), join(dir, 'node_modules'));
  // The bench file imports `loadbench`, which resolves to this package's own dist/.
  symlinkSync(join(o.root, 'dist'), join(dir, 'dist'));
  git(dir, 'config', 'user.email', 'gate-power@loadbench.invalid');
  git(dir, 'config', 'user.name', 'gate-power');
  const config = parse(readFileSync(join(dir, 'config.yaml'), 'utf8')) as Record<string, Record<string, unknown>>;
  config.workload = { ...config.workload, concurrency_levels: o.levels, duration_seconds: o.seconds, warmup_seconds: o.warmup, raw_csv: false };
  config.ab = { ...config.ab, repetitions: o.reps };
  writeFileSync(join(dir, 'config.yaml'), stringify(config));
  // Generated files stay out of git status: the A/A head must be a clean tree.
  writeFileSync(join(dir, '.git', 'info', 'exclude'), 'node_modules\ndist\nruns/\n');
  git(dir, 'commit', '-q', '-am', `gate-power: levels ${o.levels.join(', ')}, ${o.seconds} s, ${o.reps} repetitions`);
  const clean = git(dir, 'rev-parse', '--abbrev-ref', 'HEAD');
  git(dir, 'checkout', '-q', '-b', 'slow');
  const worker = readFileSync(join(dir, WORKER), 'utf8');
  const slowed = worker.replace('Number(process.env.FAULT_EXTRA_WORK_PCT ?? 0)', `Number(process.env.FAULT_EXTRA_WORK_PCT ?? ${o.slowPct})`);
  if (slowed === worker) throw new Error(`${WORKER}: the FAULT_EXTRA_WORK_PCT default was not found; update perf/gate-power-ab.ts`);
  writeFileSync(join(dir, WORKER), slowed);
  git(dir, 'commit', '-q', '-am', `gateway: ${o.slowPct} % more hashing per job`);
  git(dir, 'checkout', '-q', clean);
  return dir;
}

/** One `loadbench ab` run in the scratch repository; resolves with its exit code and verdict JSON. */
function abRun(o: AbPowerOptions, dir: string, set: AbTrial['set'], index: number): Promise<AbTrial> {
  const base = set === 'A/A' ? 'HEAD' : 'HEAD~1';
  const before = new Set(readdirSafe(join(dir, 'runs')));
  const node = [process.execPath, join(o.root, 'dist', 'cli', 'loadbench.js'), 'ab', '--base', base];
  const [cmd, ...args] = o.lock ? ['flock', o.lock, ...node] : node;
  const env = { ...process.env };
  for (const k of Object.keys(env)) if (k.startsWith('FAULT_') || k === 'WORKERS' || k.startsWith('LOADBENCH_')) delete env[k];
  const started = Date.now();
  return new Promise((ok, fail) => {
    const p = spawn(cmd!, args, { cwd: dir, env, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    p.stdout!.on('data', (c: Buffer) => (out += String(c)));
    p.once('error', fail);
    p.once('exit', (code) => {
      const file = readdirSafe(join(dir, 'runs')).find((f) => f.endsWith('_verdict.json') && !before.has(f));
      if (!file || (code !== 0 && code !== 1)) return fail(new Error(`loadbench ab (${set} ${index}) exited ${code} without a verdict:\n${out.slice(-2000)}`));
      const v = JSON.parse(readFileSync(join(dir, 'runs', file), 'utf8')) as { verdicts: AbLevelVerdict[]; tolerances: Record<string, number> };
      for (const line of out.split('\n').filter((l) => /REGRESSED|not judged/.test(l))) process.stdout.write(`  ${line.trim()}\n`);
      // The next run of the same set must not find this verdict again.
      rmSync(join(dir, 'runs', file));
      ok({ set, index, exitCode: code, verdicts: v.verdicts, tolerances: v.tolerances, seconds: (Date.now() - started) / 1000 });
    });
  });
}

function readdirSafe(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

/** The Markdown tables: per set and level, runs regressed of runs judged; the changes and their noise. */
export function abPowerTables(trials: readonly AbTrial[], levels: readonly number[]): string[] {
  const lines = [
    `| set | runs | runs failed (exit 1) | ${levels.map((c) => `c=${c}: regressed`).join(' | ')} |`,
    `| --- | ---: | ---: | ${levels.map(() => '---:').join(' | ')} |`,
  ];
  for (const set of ['A/A', 'slowed'] as const) {
    const ts = trials.filter((t) => t.set === set);
    const per = levels.map((c) => {
      const at = ts.map((t) => t.verdicts.find((v) => v.concurrency === c));
      const judged = at.filter((v) => v?.status === 'pass' || v?.status === 'fail');
      const skipped = ts.length - judged.length;
      return `${judged.filter((v) => v!.status === 'fail').length}/${judged.length}${skipped ? ` (+${skipped} not judged)` : ''}`;
    });
    lines.push(`| ${set === 'A/A' ? 'unchanged (A/A)' : 'slowed'} | ${ts.length} | ${ts.filter((t) => t.exitCode === 1).length}/${ts.length} | ${per.join(' | ')} |`);
  }
  lines.push(
    '',
    '| set | level | throughput change: median (min..max) | p95 change: median (min..max) | pair noise ± (median, %) throughput / p95 | spread of a side ± (median of the larger side, %) throughput / p95 |',
    '| --- | ---: | --- | --- | --- | --- |',
  );
  for (const set of ['A/A', 'slowed'] as const) {
    for (const c of levels) {
      const checks = trials.filter((t) => t.set === set).flatMap((t) => t.verdicts.filter((v) => v.concurrency === c).flatMap((v) => v.checks));
      const of = (m: string) => checks.filter((x) => x.metric === m);
      const range = (xs: number[]): string => (xs.length ? `${fmt(median(xs))} % (${fmt(Math.min(...xs))}..${fmt(Math.max(...xs))})` : '-');
      const med = (xs: number[]): string => (xs.length ? median(xs).toFixed(1) : '-');
      const pairNoise = (m: string): string => med(of(m).map((x) => x.pair_noise));
      const spread = (m: string): string => med(of(m).map((x) => Math.max(x.base_noise, x.head_noise)));
      lines.push(
        `| ${set === 'A/A' ? 'unchanged' : 'slowed'} | ${c} | ${range(of('throughput_rps').map((x) => x.change))} | ${range(of('p95_ms').map((x) => x.change))} | ` +
          `${pairNoise('throughput_rps')} / ${pairNoise('p95_ms')} | ${spread('throughput_rps')} / ${spread('p95_ms')} |`,
      );
    }
  }
  return lines;
}

/** Runs the A/B power measurement and writes its tables. */
export async function abPower(o: AbPowerOptions): Promise<void> {
  const started = Date.now();
  const dir = scratchRepository(o);
  process.stdout.write(`gate-power --ab: scratch repository ${dir} (config commit and a "${o.slowPct} % more hashing" commit on branch slow)\n`);
  const clean = git(dir, 'rev-parse', 'slow~1');
  const trials: AbTrial[] = [];
  try {
    for (let i = 1; i <= o.runs; i++) {
      for (const set of ['A/A', 'slowed'] as const) {
        git(dir, 'checkout', '-q', set === 'A/A' ? clean : 'slow');
        process.stdout.write(`gate-power --ab: ${set} ${i} (${new Date().toISOString().slice(11, 19)})\n`);
        const t = await abRun(o, dir, set, i);
        trials.push(t);
        const failed = t.verdicts.filter((v) => v.status === 'fail').map((v) => v.concurrency);
        process.stdout.write(`gate-power --ab: ${set} ${i}: exit ${t.exitCode}, regressed at ${failed.length ? failed.join(', ') : 'no level'} (${t.seconds.toFixed(0)} s)\n`);
      }
    }
  } finally {
    const stamp = new Date().toISOString().replace(/[:.]/g, '-');
    const tol = trials[0]?.tolerances ?? {};
    const md = [
      `# Gate power of \`loadbench ab\`: ${new Date().toISOString().slice(0, 10)}`,
      '',
      `Reference gateway (2 workers), levels ${o.levels.join(', ')}, ${o.seconds} s + ${o.warmup} s warm-up, ${o.reps} repetitions per side, ABBA; ` +
        `tolerances (config.yaml \`ab:\`) throughput -${tol.max_throughput_drop_pct} %, p95 +${tol.max_p95_increase_pct} % for the median of the back-to-back pairs, the head worse in every pair; ` +
        `slowed = a commit making every job hash ${o.slowPct} % more. ${trials.length} runs, interleaved, ${((Date.now() - started) / 60000).toFixed(1)} min.`,
      '',
      ...abPowerTables(trials, o.levels),
      '',
    ].join('\n');
    writeFileSync(join(o.root, 'runs', `gate-power-ab_${stamp}.md`), md);
    writeFileSync(join(o.root, 'runs', `gate-power-ab_${stamp}.json`), JSON.stringify({ options: { ...o, root: undefined }, trials }, null, 1));
    cpSync(join(dir, 'runs'), join(o.root, 'runs', `gate-power-ab_${stamp}`), { recursive: true });
    process.stdout.write(`\n${md}\ngate-power --ab: wrote runs/gate-power-ab_${stamp}.md and .json\n`);
    rmSync(dir, { recursive: true, force: true });
  }
}
