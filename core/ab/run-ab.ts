/**
 * `loadbench ab --base <ref>`: the same-machine A/B gate. Runs the working tree's scenarios and
 * config against two builds of the system under test, the base ref (checked out in a temporary
 * git worktree) and the working tree, both up at once on their own free ports, interleaving
 * their levels ABBA (core/ab/schedule.ts), and judges each level with the paired rule
 * (core/ab/judge-ab.ts) and the tolerances of `baseline:`. Never prints but through `log`, never exits the process.
 */
import { loadConfig } from '../config/load-config.ts';
import { baselineSchema, type LoadbenchConfig } from '../config/schema.ts';
import { AbSetupError, ConfigError } from '../errors.ts';
import { outputFile, type RunOutputs } from '../model/outputs.ts';
import { FAILED_TO_RUN } from '../model/verdict-lines.ts';
import { isMeasured, type BaselineTolerances, type RunOutcome, type RunSummary } from '../model/summary.ts';
import { ScenarioRunner } from '../run/scenario-runner.ts';
import { Sweep, outcomeOf } from '../run/sweep.ts';
import type { ScenarioSpec } from '../scenario/options.ts';
import { resolveScenario, scenarioSnapshot, type ResolvedScenario } from '../scenario/resolve.ts';
import { hostPort } from '../target/target-process.ts';
import { PORT_PLACEHOLDER, substitutePort } from '../config/port-template.ts';
import { createBaseBuild, gitProject, planDependencies, resolveCommit, type BaseBuild } from './base-build.ts';
import { machineFingerprint } from '../gates/fingerprint.ts';
import { freePorts } from './free-port.ts';
import { describeAbRegressions, judgeAb, type AbLevelVerdict } from './judge-ab.ts';
import { abbaSchedule, describeStep, stepLevelRun, type AbSide } from './schedule.ts';

/** A scenario to run, with the bench file that declared it (relative to the project, or ''). */
export interface AbScenario {
  spec: ScenarioSpec;
  file: string;
}

/** Options of {@link runAb}. */
export interface RunAbOptions {
  /** The project folder (config.yaml, output_dir and the head's target.start are relative to it). */
  root: string;
  /** The git ref of the base build. */
  base: string;
  /**
   * The scenarios to run: the bench files' `scenario()` calls. Called once the repository, the
   * ref, the config and the base's dependencies are checked, so that those usage errors come first.
   */
  scenarios: AbScenario[] | (() => Promise<AbScenario[]>);
  /** config.yaml path relative to `root` (default: LOADBENCH_CONFIG, else config.yaml). */
  configPath?: string;
  /** Repetitions per side (default: config `ab.repetitions`, 3). */
  repetitions?: number;
  env?: NodeJS.ProcessEnv;
  /** Outputs of one side's run (the summary JSON and CSV at least). */
  makeOutputs: (config: LoadbenchConfig, runLabel: string) => RunOutputs;
  /** Ends the run early like Ctrl-C; without it, SIGINT/SIGTERM of this process do. */
  signal?: AbortSignal;
  log?: (line: string) => void;
}

/** The result of an A/B run. */
export interface AbResult {
  /** `ab_<base>_<head>`: the prefix of every output. */
  prefix: string;
  /** config.yaml `output_dir`. */
  outputDir: string;
  baseRef: string;
  baseCommit: string;
  /** HEAD's commit, `-dirty` appended when the working tree differs from it. */
  headName: string;
  repetitions: number;
  tolerances: BaselineTolerances;
  /** The runs of both sides (undefined when nothing was measured). */
  summaries: Record<AbSide, RunSummary | undefined>;
  verdicts: AbLevelVerdict[];
  /** The regression lines (one per level and metric) and levels that could not run. */
  failures: string[];
  outcome: RunOutcome;
  written: string[];
  /** How the base build got its dependencies. */
  dependencies: string;
  ports: Record<AbSide, number>;
}

const short = (commit: string): string => commit.slice(0, 8);

/** The tolerances of an A/B run: `baseline:` (or its defaults), then `ab:` over it. Pure. */
export function abTolerances(config: LoadbenchConfig): BaselineTolerances {
  const { file: _file, ...fromBaseline } = config.baseline ?? baselineSchema.parse({ file: '-' });
  const ab = config.ab ?? { repetitions: 3 };
  const pick = <K extends keyof BaselineTolerances>(k: K): BaselineTolerances[K] => ab[k] ?? fromBaseline[k];
  return {
    max_p95_increase_pct: pick('max_p95_increase_pct'),
    max_throughput_drop_pct: pick('max_throughput_drop_pct'),
    max_error_rate_increase_pct: pick('max_error_rate_increase_pct'),
    min_requests: pick('min_requests'),
  };
}

/** The config of one side: its own port (in target.url and target.start), no baseline (the other side is its baseline), its own run label. */
function sideConfig(configPath: string | undefined, root: string, env: NodeJS.ProcessEnv, port: number, runLabel: string): LoadbenchConfig {
  // PORT too, for configs that write the port as ${PORT:-8080}.
  const loaded = loadConfig(configPath, root, { ...env, LOADBENCH_PORT: String(port), PORT: String(port) }).config;
  const { host: _h, port: urlPort } = hostPort(loaded.target.url);
  if (urlPort !== port) {
    throw new AbSetupError(
      `target.url (${loaded.target.url}) does not use ${PORT_PLACEHOLDER}: both builds would be sent the same server's traffic. ` +
        `Write it as e.g. http://127.0.0.1:${PORT_PLACEHOLDER}/path, with target.port for normal runs (or \${PORT:-8080}), and use ${PORT_PLACEHOLDER} (or $PORT) in target.start.command and ready_url`,
    );
  }
  return { ...loaded, run_label: runLabel, baseline: undefined };
}

/** A scenario's options with `{{port}}` in its `url` replaced. */
function portedSpec(spec: ScenarioSpec, port: number): ScenarioSpec {
  return typeof spec.url === 'string' ? { ...spec, url: substitutePort(spec.url, port) } : spec;
}

/**
 * Runs the A/B comparison. Resolves once both sides' outputs are written, the targets stopped and
 * the worktree removed; the caller writes the comparison outputs from the result.
 * @throws AbSetupError (exit 2) before any load: not a git repository, an unknown ref, no target.start, the base build not preparable
 * @throws ConfigError (exit 2) for a bad config or scenario
 * @throws TargetError when a target cannot be started (no load sent)
 */
export async function runAb(options: RunAbOptions): Promise<AbResult> {
  const { root } = options;
  const env = options.env ?? process.env;
  const log = options.log ?? (() => undefined);
  // Git first: without a repository or the ref there is nothing to compare, whatever the config says.
  const project = await gitProject(root);
  const baseCommit = await resolveCommit(root, options.base);
  const { config } = loadConfig(options.configPath, root, env);
  if (!config.target.start) {
    throw new AbSetupError(
      'config.yaml has no target.start: loadbench ab starts both builds of the system under test itself, each in its own folder on its own port; ' +
        `add target.start (command, ready_url) using ${PORT_PLACEHOLDER} or $PORT`,
    );
  }
  const headName = `${project.headCommit ? short(project.headCommit) : 'worktree'}${project.headCommit && project.dirty ? '-dirty' : ''}`;
  const prefix = `ab_${short(baseCommit)}_${headName}`;
  const repetitions = options.repetitions ?? config.ab?.repetitions ?? 3;
  const tolerances = abTolerances(config);
  const [basePort, headPort] = (await freePorts(2)) as [number, number];
  const ports: Record<AbSide, number> = { base: basePort, head: headPort };
  const labels: Record<AbSide, string> = { base: `${prefix}_base`, head: `${prefix}_head` };
  const configs: Record<AbSide, LoadbenchConfig> = {
    base: sideConfig(options.configPath, root, env, basePort, labels.base),
    head: sideConfig(options.configPath, root, env, headPort, labels.head),
  };
  const plan = await planDependencies(project, root, baseCommit, config.ab);
  const scenarios = typeof options.scenarios === 'function' ? await options.scenarios() : options.scenarios;
  if (scenarios.length === 0) throw new AbSetupError('no scenario() was declared by the bench files: nothing to compare');
  // Every scenario resolved for both sides before anything starts: a bad option stops the run with no load.
  const resolved: Record<AbSide, ResolvedScenario[]> = { base: [], head: [] };
  for (const side of ['base', 'head'] as const) {
    for (const { spec } of scenarios) {
      const { name, ...opts } = portedSpec(spec, ports[side]);
      const s = resolveScenario(name, opts, configs[side]);
      if (Number(s.url.port || (s.url.protocol === 'https:' ? 443 : 80)) !== ports[side]) {
        throw new ConfigError(`scenario "${name}"`, [
          `url: ${s.url.origin} does not use ${PORT_PLACEHOLDER}: under loadbench ab both builds would get the same server's traffic; write the port as ${PORT_PLACEHOLDER} or leave url to target.url`,
        ]);
      }
      resolved[side].push({ ...s, repetitions });
    }
  }
  const names = resolved.head.map((s) => s.name);
  const twice = names.filter((n, i) => names.indexOf(n) !== i);
  if (twice.length) throw new ConfigError('bench files', [`scenario "${twice[0]}" is declared twice: give each scenario() its own name`]);

  const aborter = new AbortController();
  let interruptedBy: NodeJS.Signals | undefined;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (!interruptedBy) log(`loadbench ab: ${signal}: stopping the running level, both targets and the worktree; writing what was measured`);
    interruptedBy ??= signal;
    aborter.abort(new Error(`interrupted by ${signal}`));
  };
  const onAbort = (): void => onSignal('SIGINT');
  const handleSignals = options.signal === undefined;
  if (handleSignals) {
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  }
  options.signal?.addEventListener('abort', onAbort, { once: true });

  let build: BaseBuild | undefined;
  const sweeps: Partial<Record<AbSide, Sweep>> = {};
  const runners: ScenarioRunner[] = [];
  const stopTargets = async (): Promise<void> => {
    await Promise.all((['base', 'head'] as const).map((side) => sweeps[side]?.stopTarget()));
  };
  try {
    log(`loadbench ab: base ${options.base} (${short(baseCommit)}) against the working tree (${headName}), ${repetitions} repetition(s) per side, ABBA-interleaved`);
    log(`loadbench ab: ${plan.reason}`);
    build = await createBaseBuild(project, root, baseCommit, plan, aborter.signal);
    log(`loadbench ab: base build checked out in ${build.worktree}`);
    if (aborter.signal.aborted) throw new AbSetupError('interrupted before any load was sent', interruptedBy === 'SIGTERM' ? 143 : 130);
    const folders: Record<AbSide, string> = { base: build.folder, head: root };
    // One fingerprint for both sides, calibrated before either target runs.
    const machine = machineFingerprint();
    // Each side's Sweep starts its own target (in its build's folder) and stops it on every path.
    for (const side of ['base', 'head'] as const) {
      const c = configs[side];
      const sweep = new Sweep({
        config: c,
        root,
        targetCwd: folders[side],
        machine,
        outputs: options.makeOutputs(c, labels[side]),
        // The end-of-run text and the file list are the comparison's (one list of files, one verdict).
        log: (line) => {
          if (line.trim() === '' || line.startsWith('loadbench: wrote ')) return;
          log(line.startsWith('loadbench: ') ? `loadbench ab (${side}): ${line.slice('loadbench: '.length)}` : `loadbench ab (${side}): ${line}`);
        },
      });
      sweeps[side] = sweep;
      log(`loadbench ab: ${side} target on port ${ports[side]}, in ${side === 'base' ? 'the base worktree' : 'the working tree'}`);
      await sweep.start();
    }
    const schedule = abbaSchedule(resolved.head.map((s) => ({ name: s.name, levels: s.levels, open: s.open !== undefined })), repetitions);
    const byKey = new Map<string, { runner: ScenarioRunner; snapshot: ReturnType<typeof scenarioSnapshot>; last: number }>();
    for (const side of ['base', 'head'] as const) {
      for (const [i, s] of resolved[side].entries()) {
        const runner = new ScenarioRunner(s, outputFile(root, config.output_dir, labels[side], 'raw'));
        runners.push(runner);
        const file = scenarios[i]!.file;
        let last = -1;
        for (const [k, step] of schedule.entries()) if (step.side === side && step.scenario === s.name) last = k;
        byKey.set(`${side}\u0000${s.name}`, { runner, snapshot: scenarioSnapshot(s, file), last });
      }
    }
    for (const [index, step] of schedule.entries()) {
      const entry = byKey.get(`${step.side}\u0000${step.scenario}`)!;
      const sweep = sweeps[step.side]!;
      const run = stepLevelRun(step, repetitions);
      const where = describeStep(step, index, schedule.length, repetitions);
      try {
        const level = await entry.runner.run(run, { signal: aborter.signal, beforeLevel: () => sweep.beforeLevel(entry.snapshot, run) }, index === entry.last);
        sweep.record({ scenario: entry.snapshot, level });
        if (isMeasured(level)) {
          log(`loadbench ab: ${where}: ${level.throughput_rps.toFixed(1)} req/s, p95 ${level.latency_ms.p95.toFixed(2)} ms, errors ${level.error_rate_pct.toFixed(2)} %${level.status === 'partial' ? ' (partial)' : ''}`);
        }
      } catch (error) {
        await entry.runner.close();
        sweep.record({ scenario: entry.snapshot, level: entry.runner.skipped(run, 'failed to run') }, (error as Error).message);
        log(`loadbench ab: ${where}: ${FAILED_TO_RUN}: ${(error as Error).message}`);
      }
    }
    for (const r of runners) await r.close();
    // Both targets stop before the outputs are written: nothing is measured any more.
    await stopTargets();
    const written: string[] = [];
    const summaries: Record<AbSide, RunSummary | undefined> = { base: undefined, head: undefined };
    const levelFailures: string[] = [];
    for (const side of ['base', 'head'] as const) {
      const result = await sweeps[side]!.finish(interruptedBy);
      summaries[side] = result.summary;
      written.push(...result.written);
      levelFailures.push(...(result.outcome.failures ?? []).filter((f) => f.startsWith('Level failed')).map((f) => `${side}: ${f}`));
    }
    const verdicts = summaries.base && summaries.head ? judgeAb(summaries.base, summaries.head, tolerances) : [];
    const failures = [...describeAbRegressions(verdicts), ...levelFailures];
    return {
      prefix,
      outputDir: config.output_dir,
      baseRef: options.base,
      baseCommit,
      headName,
      repetitions,
      tolerances,
      summaries,
      verdicts,
      failures,
      outcome: outcomeOf(failures, interruptedBy),
      written,
      dependencies: plan.reason,
      ports,
    };
  } finally {
    for (const r of runners) await r.close().catch(() => undefined);
    await stopTargets();
    if (build) {
      await build.remove();
      log(`loadbench ab: removed the base worktree ${build.worktree}`);
    }
    options.signal?.removeEventListener('abort', onAbort);
    if (handleSignals) {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    }
  }
}
