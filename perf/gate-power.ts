/**
 * `npm run gate-power [-- --runs 10] [--slow-pct 25] [--levels 1,4,16] [--seconds 2] [--warmup 0.5]
 *   [--reps 3] [--workers 2] [--p95-tol 10] [--tp-tol 10] [--lock /tmp/loadbench-machine.lock]`
 *   or `npm run gate-power -- --rejudge runs/gate-power_<timestamp>` (replays a past run's summaries with this rule)
 *   or `npm run gate-power -- --ab [--runs 10] ...`: the same for the A/B gate, `loadbench ab` (perf/gate-power-ab.ts)
 *
 * The false-alarm rate and the detection power of the regression gate (issue 13), on this
 * machine, with the shipped rule (core/gates/noise-verdict.ts through the sweep's own gate):
 *   1. records a baseline of the reference gateway (a small sweep, `--reps` repetitions per level);
 *   2. then `--runs` unchanged runs (A/A) and `--runs` runs with the gateway slowed by `--slow-pct`
 *      (FAULT_EXTRA_WORK_PCT: every job does that much more proof-of-work), interleaved A, S, A, S…
 *      so that a drift of the machine hits both sets alike;
 *   3. prints (and writes to runs/gate-power_<timestamp>.json / .md) per set and level how many
 *      runs regressed, how many were not judged (calibration off by more than the margin), and the
 *      measured changes with their noise.
 * Each run is a child process; with `--lock`, each takes the machine lock on its own (flock), so
 * `--batch` runs (default 7, about 3 minutes), so the benchmark never holds the machine long.
 */
import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { runSweepWith } from '../core/run/run-sweep.ts';
import { abPower } from './gate-power-ab.ts';
import type { RunOutputs } from '../core/model/outputs.ts';
import { median } from '../core/model/stats.ts';
import { DISTURBED_OTHER_CORES, judgeAgainstBaseline, otherCores } from '../core/gates/baseline.ts';
import { baselineApplicability } from '../core/gates/baseline-applicability.ts';
import { isMeasured, type BaselineLevelVerdict, type MachineFingerprint, type RunSummary } from '../core/model/summary.ts';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const OUT = join(ROOT, 'runs', 'gate-power');

interface Spec {
  label: string;
  port: number;
  levels: number[];
  seconds: number;
  warmup: number;
  reps: number;
  workers: number;
  extraWorkPct: number;
  baselineFile?: string;
  p95Tol: number;
  tpTol: number;
  summaryFile: string;
}

/** One sweep in this process (the child): the config of the spec, outputs reduced to the summary JSON. */
async function runOne(spec: Spec): Promise<void> {
  process.env.WORKERS = String(spec.workers);
  // Through the environment, not target.start.env: the start env is part of the workload hash, a slower build is not.
  process.env.FAULT_EXTRA_WORK_PCT = String(spec.extraWorkPct);
  let last: RunSummary | undefined;
  const outputs: RunOutputs = {
    writeData: async (s) => ((last = s), []),
    writeAnalysis: async () => ({ written: [], problems: [] }),
    endText: () => [],
    publish: async () => ({ written: [], problems: [] }),
  };
  const url = `http://127.0.0.1:${spec.port}`;
  const result = await runSweepWith(
    {
      root: ROOT,
      scenarios: [{ name: 'submit' }],
      config: {
        run_label: spec.label,
        output_dir: 'runs/gate-power',
        target: {
          url: `${url}/submit`,
          method: 'POST',
          token: 'dev-token',
          start: { command: `node --import tsx examples/submit-gateway/gateway.ts --port ${spec.port}`, ready_url: `${url}/healthz`, timeout_seconds: 30 },
        },
        workload: {
          challenge_id: 'demo-challenge',
          payload: { challenge_id: '{{challenge_id}}' },
          concurrency_levels: spec.levels,
          duration_seconds: spec.seconds,
          warmup_seconds: spec.warmup,
          repetitions: spec.reps,
          raw_csv: false,
        },
        slo: { p95_ms: 500, error_rate_pct: 1 },
        ...(spec.baselineFile
          ? { baseline: { file: spec.baselineFile, max_p95_increase_pct: spec.p95Tol, max_throughput_drop_pct: spec.tpTol, min_requests: 100 } }
          : {}),
        report: { num_nodes: `gateway=1, worker=${spec.workers}` },
      },
    },
    () => outputs,
  );
  writeFileSync(spec.summaryFile, JSON.stringify(result.summary ?? last));
}

function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const s = createServer();
    s.once('error', fail);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as AddressInfo;
      s.close(() => ok(port));
    });
  });
}

/** Runs specs one after the other in a child process; with `lock`, the child holds the machine lock for the batch. */
function batch(specs: Spec[], lock: string | undefined): Promise<RunSummary[]> {
  const specFile = join(OUT, `${specs[0]!.label}.specs.json`);
  writeFileSync(specFile, JSON.stringify(specs));
  const node = [process.execPath, '--import', 'tsx', fileURLToPath(import.meta.url), '--one', specFile];
  const [cmd, ...args] = lock ? ['flock', lock, ...node] : node;
  return new Promise((ok, fail) => {
    const p = spawn(cmd!, args, { cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit'] });
    p.once('error', fail);
    p.once('exit', (code) => {
      if (code !== 0) return fail(new Error(`runs from ${specs[0]!.label} exited ${code}`));
      ok(specs.map((spec) => JSON.parse(readFileSync(spec.summaryFile, 'utf8')) as RunSummary));
    });
  });
}

interface RunResult {
  label: string;
  set: 'A/A' | 'slowed';
  judged: boolean;
  calibrationChangePct?: number;
  exitCode: number;
  verdicts: BaselineLevelVerdict[];
}

const fmt = (x: number, d = 1): string => `${x >= 0 ? '+' : ''}${x.toFixed(d)}`;

function machineLine(m: MachineFingerprint | undefined): string {
  if (!m) return 'unknown machine';
  return `${m.cpu_model}, ${m.logical_cpus} logical CPUs, ${(m.memory_bytes / 1024 ** 3).toFixed(1)} GiB, ${m.os}, Node ${m.node}, calibration ${m.calibration.ms} ms`;
}

/** The Markdown table: per set and level, runs regressed of runs judged, and the changes measured. */
function table(results: RunResult[], levels: number[], runs: number): string[] {
  const lines = [
    `| set | runs | runs not judged (calibration) | runs failed (exit 1) | ${levels.map((c) => `c=${c}: regressed`).join(' | ')} |`,
    `| --- | ---: | ---: | ---: | ${levels.map(() => '---:').join(' | ')} |`,
  ];
  for (const set of ['A/A', 'slowed'] as const) {
    const rs = results.filter((r) => r.set === set);
    const judged = rs.filter((r) => r.judged);
    // Per level: runs regressed of runs that judged the level; a level left unjudged (every repetition disturbed) is counted apart.
    const perLevel = levels.map((c) => {
      const at = judged.map((r) => r.verdicts.find((v) => v.concurrency === c));
      const n = at.filter((v) => v?.status === 'fail').length;
      const judgedHere = at.filter((v) => v?.status === 'fail' || v?.status === 'pass').length;
      const skipped = judged.length - judgedHere;
      return `${n}/${judgedHere}${skipped ? ` (+${skipped} not judged: disturbed)` : ''}`;
    });
    lines.push(`| ${set === 'A/A' ? 'unchanged (A/A)' : 'slowed'} | ${rs.length} | ${rs.length - judged.length} | ${judged.filter((r) => r.exitCode === 1).length}/${judged.length} | ${perLevel.join(' | ')} |`);
  }
  lines.push('', '| set | level | throughput change: median (min..max) | p95 change: median (min..max) | noise ± (median, %) throughput / p95 |', '| --- | ---: | --- | --- | --- |');
  for (const set of ['A/A', 'slowed'] as const) {
    for (const c of levels) {
      const checks = results
        .filter((r) => r.set === set && r.judged)
        .flatMap((r) => r.verdicts.filter((v) => v.concurrency === c && v.checks.length))
        .map((v) => ({ tp: v.checks.find((x) => x.metric === 'throughput_rps'), p95: v.checks.find((x) => x.metric === 'p95_ms') }));
      const tp = checks.map((x) => x.tp?.change).filter((x): x is number => x !== undefined);
      const p95 = checks.map((x) => x.p95?.change).filter((x): x is number => x !== undefined);
      const range = (xs: number[]): string => (xs.length ? `${fmt(median(xs))} % (${fmt(Math.min(...xs))}..${fmt(Math.max(...xs))})` : '-');
      const noise = (k: 'tp' | 'p95'): string => {
        const xs = checks.map((x) => x[k]?.noise).filter((x): x is number => x !== undefined);
        return xs.length ? median(xs).toFixed(1) : '-';
      };
      lines.push(`| ${set === 'A/A' ? 'unchanged' : 'slowed'} | ${c} | ${range(tp)} | ${range(p95)} | ${noise('tp')} / ${noise('p95')} |`);
    }
  }
  return lines;
}

/** The levels of a summary whose every repetition was disturbed by other processes' CPU. */
function disturbedLevels(s: RunSummary): number[] {
  const levels = s.scenarios[0]!.levels.filter(isMeasured);
  return [...new Set(levels.map((l) => l.concurrency))].filter((c) =>
    levels.filter((l) => l.concurrency === c).every((l) => (otherCores(l) ?? 0) > DISTURBED_OTHER_CORES),
  );
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      one: { type: 'string' },
      runs: { type: 'string', default: '10' },
      'slow-pct': { type: 'string', default: '25' },
      levels: { type: 'string', default: '1,4,16' },
      seconds: { type: 'string', default: '2' },
      warmup: { type: 'string', default: '0.5' },
      reps: { type: 'string', default: '3' },
      workers: { type: 'string', default: '2' },
      'p95-tol': { type: 'string', default: '10' },
      'tp-tol': { type: 'string', default: '10' },
      lock: { type: 'string' },
      batch: { type: 'string', default: '7' },
      rejudge: { type: 'string' },
      ab: { type: 'boolean', default: false },
    },
  });
  if (values.one) {
    for (const spec of JSON.parse(readFileSync(values.one, 'utf8')) as Spec[]) {
      process.stdout.write(`gate-power: run ${spec.label} (${new Date().toISOString().slice(11, 19)})\n`);
      await runOne(spec);
    }
    return;
  }
  if (values.rejudge) return rejudge(values.rejudge, Number(values['p95-tol']), Number(values['tp-tol']));
  if (values.ab) {
    mkdirSync(join(ROOT, 'runs'), { recursive: true });
    return abPower({
      root: ROOT,
      runs: Number(values.runs),
      slowPct: Number(values['slow-pct']),
      levels: values.levels.split(',').map(Number),
      seconds: Number(values.seconds),
      warmup: Number(values.warmup),
      reps: Number(values.reps),
      lock: values.lock,
    });
  }
  mkdirSync(OUT, { recursive: true });
  const runs = Number(values.runs);
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const common = {
    port: await freePort(),
    levels: values.levels.split(',').map(Number),
    seconds: Number(values.seconds),
    warmup: Number(values.warmup),
    reps: Number(values.reps),
    workers: Number(values.workers),
    p95Tol: Number(values['p95-tol']),
    tpTol: Number(values['tp-tol']),
  };
  const started = Date.now();
  // The baseline first, with the first runs: batches of --batch runs per lock, A and S interleaved.
  const baseSpec: Spec = { ...common, label: 'gp-base', extraWorkPct: 0, summaryFile: join(OUT, 'gp-base.json') };
  const baselineFile = join(OUT, 'gp-baseline.json');
  const plan: { spec: Spec; set: 'A/A' | 'slowed' }[] = [];
  for (let i = 1; i <= runs; i++) {
    for (const set of ['A/A', 'slowed'] as const) {
      const label = `gp-${set === 'A/A' ? 'aa' : 'slow'}-${i}`;
      plan.push({ set, spec: { ...common, label, extraWorkPct: set === 'A/A' ? 0 : Number(values['slow-pct']), baselineFile, summaryFile: join(OUT, `${label}.json`) } });
    }
  }
  const size = Math.max(2, Number(values.batch));
  // A baseline recorded beside a neighbour's burst would leave its levels unjudged (core/gates/baseline.ts):
  // record it again, up to 3 times in all, until no level had other processes in every repetition.
  let base: RunSummary | undefined;
  for (let attempt = 1; attempt <= 3; attempt++) {
    [base] = await batch([baseSpec], values.lock);
    const disturbed = disturbedLevels(base!);
    if (!disturbed.length) break;
    process.stdout.write(`gate-power: baseline attempt ${attempt}: other processes took over ${DISTURBED_OTHER_CORES} core in every repetition at c=${disturbed.join(', ')}${attempt < 3 ? '; recording it again' : '; kept (those levels will not be judged)'}\n`);
  }
  // The baseline as `loadbench baseline` writes it: the summary without its own verdicts.
  const { baseline: _b, outcome: _o, ...stripped } = base!;
  writeFileSync(baselineFile, JSON.stringify(stripped));
  process.stdout.write(`gate-power: baseline recorded (${machineLine(base!.machine)})\n`);
  const results: RunResult[] = [];
  for (let at = 0; at < plan.length; at += size) {
    const part = plan.slice(at, at + size);
    const summaries = await batch(part.map((p) => p.spec), values.lock);
    for (const [k, s] of summaries.entries()) {
      const { set, spec } = part[k]!;
      const judged = s.baseline?.applicability?.judged !== false;
      const r: RunResult = {
        label: spec.label,
        set,
        judged,
        calibrationChangePct: s.baseline?.applicability?.calibration_change_pct,
        exitCode: s.outcome?.exit_code ?? -1,
        verdicts: s.baseline?.verdicts ?? [],
      };
      results.push(r);
      const failed = r.verdicts.filter((v) => v.status === 'fail').map((v) => v.concurrency);
      process.stdout.write(
        `gate-power: ${spec.label}: ${judged ? `exit ${r.exitCode}, regressed at ${failed.length ? failed.join(', ') : 'no level'}` : 'not judged'}` +
          ` (calibration ${r.calibrationChangePct !== undefined ? fmt(r.calibrationChangePct) : '?'} %)\n`,
      );
      for (const line of s.outcome?.failures ?? []) process.stdout.write(`  ${line}\n`);
    }
  }
  const md = [
    `# Gate power: ${new Date().toISOString().slice(0, 10)}`,
    '',
    `Reference gateway, ${common.workers} workers, levels ${common.levels.join(', ')}, ${common.seconds} s + ${common.warmup} s warm-up, ${common.reps} repetitions; ` +
      `tolerances p95 +${common.p95Tol} %, throughput -${common.tpTol} % beyond the baseline's worst repetition; slowed = FAULT_EXTRA_WORK_PCT=${values['slow-pct']}. ` +
      `${runs} runs per set, interleaved, ${((Date.now() - started) / 60000).toFixed(1)} min.`,
    '',
    `Machine (baseline): ${machineLine(base!.machine)}.`,
    '',
    ...table(results, common.levels, runs),
    '',
    `Baseline: ${base!.scenarios[0]!.levels.map((l) => ('throughput_rps' in l ? `c=${l.concurrency}${l.repetition ? ` rep ${l.repetition}` : ''}: ${l.throughput_rps.toFixed(0)} req/s, p95 ${l.latency_ms.p95.toFixed(1)} ms` : '')).join('; ')}.`,
    '',
  ].join('\n');
  // The runs' own summaries, kept beside the table, so that a change of the rule can be replayed on them (--rejudge).
  cpSync(OUT, join(ROOT, 'runs', `gate-power_${stamp}`), { recursive: true, filter: (f) => !f.endsWith('.specs.json') });
  writeFileSync(join(ROOT, 'runs', `gate-power_${stamp}.md`), md);
  writeFileSync(join(ROOT, 'runs', `gate-power_${stamp}.json`), JSON.stringify({ common, slowPct: Number(values['slow-pct']), machine: base!.machine, results }, null, 1));
  process.stdout.write(`\n${md}\ngate-power: wrote runs/gate-power_${stamp}.md and .json\n`);
}

/**
 * `--rejudge <dir>`: judges the summaries a past gate-power run kept (runs/gate-power_<stamp>/) again
 * with this version's rule and the given tolerances, without sending load: the same measured runs,
 * the rule replayed. Prints the same tables.
 */
function rejudge(dir: string, p95Tol: number, tpTol: number): void {
  const read = (name: string): RunSummary => JSON.parse(readFileSync(join(dir, `${name}.json`), 'utf8')) as RunSummary;
  const base = read('gp-base');
  const { baseline: _b, outcome: _o, ...baseline } = base;
  const tolerances = { max_p95_increase_pct: p95Tol, max_throughput_drop_pct: tpTol, max_error_rate_increase_pct: 1, min_requests: 100 };
  const results: RunResult[] = [];
  for (let i = 1; existsSync(join(dir, `gp-aa-${i}.json`)) || existsSync(join(dir, `gp-slow-${i}.json`)); i++) {
    for (const set of ['A/A', 'slowed'] as const) {
      const label = `gp-${set === 'A/A' ? 'aa' : 'slow'}-${i}`;
      if (!existsSync(join(dir, `${label}.json`))) continue;
      const s = read(label);
      const a = baselineApplicability(s, baseline, { calibration_margin_pct: 25, require_same_machine: false, strict: false });
      const verdicts = a.judged ? judgeAgainstBaseline(s, baseline, tolerances) : [];
      const sloFailed = s.scenarios.some((sc) => sc.levels.some((l) => 'slo' in l && l.slo?.pass === false));
      results.push({ label, set, judged: a.judged, calibrationChangePct: a.calibration_change_pct, exitCode: sloFailed || verdicts.some((v) => v.status === 'fail') ? 1 : 0, verdicts });
    }
  }
  const levels = [...new Set(base.scenarios[0]!.levels.map((l) => l.concurrency))];
  const md = [
    `# Gate power, replayed: ${dir}`,
    '',
    `The summaries of that run judged again by this version's rule (tolerances p95 +${p95Tol} %, throughput -${tpTol} %).`,
    '',
    `Machine (baseline): ${machineLine(base.machine)}.`,
    '',
    ...table(results, levels, results.filter((r) => r.set === 'A/A').length),
    '',
  ].join('\n');
  process.stdout.write(`${md}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`gate-power: ${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
