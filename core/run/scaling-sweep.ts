/**
 * The scaling sweep (issue 16): the whole sweep once per replica count, in one run. Each count is
 * its own {@link Sweep} (run label `<run_label>-<n>x`, its own outputs, baseline and verdict); the
 * target is restarted with the count before that count's first level. At the end the comparison of
 * every measured count is written (`<run_label>_scaling_*`), and the exit code covers every count.
 */
import type { LoadbenchConfig } from '../config/schema.ts';
import type { LevelRecord } from '../model/build-summary.ts';
import { scalingPrefix, type RunOutputs, type ScalingRunResult } from '../model/outputs.ts';
import { isMeasured, type RunOutcome, type ScenarioSnapshot } from '../model/summary.ts';
import type { LevelRun } from '../scenario/resolve.ts';
import type { ReplicaConfig } from './scaling.ts';
import { Sweep, outcomeOf, type LevelVerdict, type SweepResult } from './sweep.ts';

/** What the Vitest adapter and `runSweep()` drive: a {@link Sweep} or a {@link ScalingSweep}. */
export interface Orchestrator {
  readonly config: LoadbenchConfig;
  readonly root: string;
  readonly recorded: number;
  start(): Promise<void>;
  beforeLevel(scenario: ScenarioSnapshot, run: LevelRun): Promise<void>;
  record(record: LevelRecord, error?: string): LevelVerdict;
  finish(interruptedBy?: NodeJS.Signals): Promise<SweepResult>;
  stopTarget(graceMs?: number): Promise<void>;
  addGeneratorPid(pid: number): void;
}

/** Settings of a {@link ScalingSweep}. */
export interface ScalingSweepOptions {
  /** The config as written (its run_label names the sweep). */
  config: LoadbenchConfig;
  root: string;
  /** One config per replica count, in order (see `replicaConfigs`). */
  counts: ReplicaConfig[];
  makeOutputs: (config: LoadbenchConfig, root: string) => RunOutputs;
  log?: (line: string) => void;
}

/** The result of a scaling sweep: every count's result beside the combined one. */
export interface ScalingSweepResult extends SweepResult {
  runs: (SweepResult & { replicas: number; label: string })[];
}

/** Runs one sweep per replica count, restarting the target between counts. */
export class ScalingSweep implements Orchestrator {
  readonly config: LoadbenchConfig;
  readonly root: string;
  readonly #counts: { replicas: number; config: LoadbenchConfig; sweep: Sweep }[];
  readonly #outputs: RunOutputs;
  readonly #log: (line: string) => void;
  /** Replica counts whose target was started, in order; the last one is running. */
  readonly #activated: number[] = [];
  #switching: Promise<void> = Promise.resolve();
  #finished: Promise<ScalingSweepResult> | undefined;

  constructor(options: ScalingSweepOptions) {
    this.config = options.config;
    this.root = options.root;
    this.#log = options.log ?? (() => undefined);
    this.#outputs = options.makeOutputs(options.config, options.root);
    this.#counts = options.counts.map(({ replicas, config }) => ({
      replicas,
      config,
      sweep: new Sweep({
        config,
        root: options.root,
        outputs: options.makeOutputs(config, options.root),
        log: this.#log,
        scaling: { replicas, sweep: options.counts.map((c) => c.replicas), sweep_label: options.config.run_label },
      }),
    }));
  }

  get recorded(): number {
    return this.#counts.reduce((n, c) => n + c.sweep.recorded, 0);
  }

  #count(replicas: number | undefined) {
    return this.#counts.find((c) => c.replicas === replicas) ?? this.#counts[0]!;
  }

  /** Archives every count's previous outputs and reads their baselines; the targets start later, one at a time. */
  async start(): Promise<void> {
    const env = this.config.scaling?.env;
    this.#log(
      `loadbench: scaling sweep "${this.config.run_label}": replica counts ${this.#counts.map((c) => c.replicas).join(', ')}` +
        `${env ? ` (${env}=<count>)` : ''}, runs ${this.#counts.map((c) => c.config.run_label).join(', ')}`,
    );
    for (const c of this.#counts) await c.sweep.start({ target: false });
  }

  /**
   * Before a level: when it belongs to another replica count than the running target, that target
   * is stopped and this count's started (rejects with the reason when it cannot start: the level
   * then fails to run, and so do the rest of that count's levels).
   */
  beforeLevel(scenario: ScenarioSnapshot, run: LevelRun): Promise<void> {
    const next = this.#switching.then(async () => {
      const count = this.#count(run.replicas);
      const active = this.#activated.at(-1);
      if (active !== count.replicas) {
        if (active !== undefined) await this.#count(active).sweep.stopTarget();
        this.#activated.push(count.replicas);
        const env = this.config.scaling?.env;
        this.#log(`loadbench: ${count.replicas} replica${count.replicas === 1 ? '' : 's'}${env ? ` (${env}=${count.replicas})` : ''}: run "${count.config.run_label}"`);
      }
      await count.sweep.ensureTarget();
      await count.sweep.beforeLevel(scenario, run);
    });
    // A failed start must not block the next count's switch.
    this.#switching = next.catch(() => undefined);
    return next;
  }

  record(record: LevelRecord, error?: string): LevelVerdict {
    const count = this.#count(record.replicas);
    // Levels of a count never reached (skipped after an interrupt) are not a run of it: nothing is written for them.
    if (!this.#activated.includes(count.replicas) && record.level.status === 'skipped' && error === undefined) return { failures: [], warnings: [] };
    return count.sweep.record(record, error);
  }

  addGeneratorPid(pid: number): void {
    for (const c of this.#counts) c.sweep.addGeneratorPid(pid);
  }

  async stopTarget(graceMs?: number): Promise<void> {
    for (const c of this.#counts) await c.sweep.stopTarget(graceMs);
  }

  finish(interruptedBy?: NodeJS.Signals): Promise<ScalingSweepResult> {
    this.#finished ??= this.#finish(interruptedBy);
    return this.#finished;
  }

  async #finish(interruptedBy: NodeJS.Signals | undefined): Promise<ScalingSweepResult> {
    try {
      await this.#switching;
      const runs: ScalingSweepResult['runs'] = [];
      const running = this.#activated.at(-1);
      for (const c of this.#counts) {
        const label = c.config.run_label;
        if (!this.#activated.includes(c.replicas)) {
          // Never reached (interrupted before, or no bench file ran it): nothing measured, nothing written.
          this.#log(`loadbench: ${label}: not run${interruptedBy ? ' (the run was interrupted before it)' : ''}`);
          continue;
        }
        this.#log('');
        this.#log(`loadbench: ${label} (${c.replicas} replica${c.replicas === 1 ? '' : 's'}):`);
        // Counts that ended before an interrupt keep their own verdict; the one running is the interrupted one.
        const result = await c.sweep.finish(c.replicas === running ? interruptedBy : undefined);
        runs.push({ ...result, replicas: c.replicas, label });
      }
      // Counts with at least one measured level (a count whose target never started has none).
      const measured = runs.filter(
        (r): r is typeof r & { summary: NonNullable<SweepResult['summary']> } => r.summary?.scenarios.some((s) => s.levels.some(isMeasured)) ?? false,
      );
      const written = runs.flatMap((r) => r.written);
      const failures = runs.flatMap((r) => r.outcome.failures.map((f) => `${r.label}: ${f}`));
      if (measured.length >= 2 && this.#outputs.writeScaling) {
        const results: ScalingRunResult[] = measured.map((r) => ({ label: r.label, replicas: r.replicas, summary: r.summary }));
        const comparison = await this.#outputs.writeScaling(results, this.config.run_label);
        this.#log('');
        this.#log(`loadbench: scaling ${measured.map((r) => r.label).join(' vs ')}:`);
        for (const line of comparison.lines) this.#log(`  ${line}`);
        for (const problem of comparison.problems) this.#log(`loadbench: could not write ${problem}`);
        failures.push(...comparison.problems.map((p) => `could not write ${p}`));
        written.push(...comparison.written);
        if (comparison.written.length) this.#log(`loadbench: wrote ${comparison.written.map((p) => relativeTo(this.root, p)).join(', ')}`);
      } else if (measured.length < 2) {
        this.#log(`loadbench: no scaling comparison (${scalingPrefix(this.config.run_label)}_*): it needs at least two measured replica counts, this run has ${measured.length}`);
      }
      const outcome = combinedOutcome(runs.map((r) => r.outcome), failures, interruptedBy);
      const verdict = outcome.status === 'pass' ? 'every replica count passed' : outcome.status === 'interrupted' ? 'interrupted' : `${failures.length} failure(s)`;
      this.#log(`loadbench: scaling sweep: ${verdict} (exit code ${outcome.exit_code})`);
      return { summary: measured.at(-1)?.summary ?? runs.at(-1)?.summary, outcome, written, runs };
    } finally {
      await this.stopTarget();
    }
  }
}

/**
 * One verdict for every count: interrupted when the run was, else failed when any count failed
 * (or an output could not be written), else passed. Pure.
 */
export function combinedOutcome(outcomes: readonly RunOutcome[], failures: string[], interruptedBy: NodeJS.Signals | undefined): RunOutcome {
  if (interruptedBy) return outcomeOf(failures, interruptedBy);
  // No count ran (no bench file): as a plain run without levels, nothing failed.
  if (outcomes.length === 0) return outcomeOf(failures, undefined);
  const exit = Math.max(...outcomes.map((o) => o.exit_code));
  if (exit > 1) return { status: 'interrupted', exit_code: exit, failures };
  return failures.length || exit === 1 ? { status: 'fail', exit_code: 1, failures } : { status: 'pass', exit_code: 0, failures };
}

function relativeTo(root: string, path: string): string {
  return path.startsWith(`${root}/`) ? path.slice(root.length + 1) : path;
}
