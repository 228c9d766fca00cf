import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { LoadbenchConfig } from '../config/schema.ts';
import { describeBaselineFailures, describeBaselineNotJudged, describeBaselineWarnings, judgeAgainstBaseline } from '../gates/baseline.ts';
import { baselineApplicability } from '../gates/baseline-applicability.ts';
import { machineFingerprint, workloadHash } from '../gates/fingerprint.ts';
import { describeSloFailures } from '../gates/slo.ts';
import { buildRunSummary, type LevelRecord } from '../model/build-summary.ts';
import { outputDir, outputFile, type RunOutputs } from '../model/outputs.ts';
import { readRunSummary } from '../model/read-summary.ts';
import { FAILED_TO_RUN, describeLevelError } from '../model/verdict-lines.ts';
import { isMeasured, type BaselineReport, type MachineFingerprint, type RunOutcome, type RunSummary, type ScenarioSnapshot } from '../model/summary.ts';
import type { LevelRun } from '../scenario/resolve.ts';
import { checkTargetListening, startTarget, type RunningTarget } from '../target/target-process.ts';
import { archivePreviousRun } from './archive.ts';
import type { ReplicaRun } from '../model/resources.ts';
import { ResourceWatch } from './resource-watch.ts';
import { LevelSchedule, waitUntil } from '../shards/schedule.ts';
import { LEVEL_GAP_MS, runShardName } from '../shards/run-shard.ts';
import { shardConfigHash } from '../shards/config-hash.ts';
import type { LevelRunShard, MergedFrom } from '../model/run-shards.ts';

export type { RunOutputs };

/** What the orchestrator needs besides the config. */
export interface SweepOptions {
  config: LoadbenchConfig;
  /** The project root: config paths, output_dir and target.start's folder are relative to it. */
  root: string;
  outputs: RunOutputs;
  /** Human-readable lines (progress of the lifecycle, the end-of-run text); default: none. */
  log?: (line: string) => void;
  /** Set for one replica count of a scaling sweep (issue 16): recorded in the summary. */
  scaling?: ReplicaRun;
  /** A/B gate: the folder target.start runs in, when not `root` (the base build's worktree); default: root. */
  targetCwd?: string;
  /** Issue 13: this machine's fingerprint, when the caller measured it already (default: measured in start()). */
  machine?: MachineFingerprint;
  /**
   * Issue 15: the run is the merge of run shards (`loadbench merge`): its levels are recorded, not
   * run; the summary keeps the shards' workload hashes and says what was merged.
   */
  merged?: MergedFrom;
  /** With `merged`: when the shards' run started and ended (default: this process's start and now). */
  period?: { startedAt: Date; finishedAt: Date };
}

/** A run shard announces a level that starts later than this against the shared schedule. */
const LATE_NOTE_MS = 100;

/** The verdict of one level as soon as it is known: the lines of its broken SLO or baseline checks. */
export interface LevelVerdict {
  failures: string[];
  warnings: string[];
}

/** How a run ended. */
export interface SweepResult {
  summary: RunSummary | undefined;
  outcome: RunOutcome;
  written: string[];
}

/** Exit codes of an interrupted run: 128 + the signal's number. */
const SIGNAL_EXIT: Record<string, number> = { SIGINT: 130, SIGTERM: 143 };

/**
 * The one owner of a run, from start to exit status: it archives the previous run, starts (or
 * checks) the target, collects every level as it ends and writes the data after each one, judges
 * SLOs and the baseline, writes every output, stops the target on every path and computes the
 * outcome. It does not run levels itself: `runSweep()` runs them in-process, the Vitest adapter in
 * its bench files, and both hand each result to {@link Sweep.record}. Never prints but through `log`,
 * never exits the process.
 */
export class Sweep {
  readonly config: LoadbenchConfig;
  readonly root: string;
  readonly #outputs: RunOutputs;
  readonly #log: (line: string) => void;
  readonly #targetCwd: string | undefined;
  readonly #records: LevelRecord[] = [];
  #startedAt = new Date();
  #target: RunningTarget | undefined;
  #baseline: RunSummary | undefined;
  #baselineProblem: string | undefined;
  #writes: Promise<unknown> = Promise.resolve();
  #levelFailures: string[] = [];
  #finished: Promise<SweepResult> | undefined;
  // Resources of the system under test (issue 16).
  #resources: ResourceWatch | undefined;
  #resourceInfo: RunSummary['resources'];
  #ensured = false;
  #deferred = false;
  #startError: Error | undefined;
  readonly #generatorPids = new Set<number>();
  readonly #scaling: ReplicaRun | undefined;
  /** Issue 13: this machine, calibrated in start() before the target runs. */
  #machine: MachineFingerprint | undefined;
  // Issue 15: a run shard's shared schedule, and where each level stood in it.
  readonly #merged: MergedFrom | undefined;
  readonly #period: SweepOptions['period'];
  #schedule: LevelSchedule | undefined;
  #firstLateMs: number | undefined;
  readonly #slots = new Map<string, Pick<LevelRunShard, 'scheduled_at_ms' | 'started_at_ms' | 'late_ms'>>();

  constructor(options: SweepOptions) {
    this.#merged = options.merged;
    this.#period = options.period;
    this.#scaling = options.scaling;
    this.config = options.config;
    this.root = options.root;
    this.#outputs = options.outputs;
    this.#log = options.log ?? (() => undefined);
    this.#targetCwd = options.targetCwd;
    this.#machine = options.machine;
  }

  /** Levels recorded so far. */
  get recorded(): number {
    return this.#records.length;
  }

  /**
   * Before the first level: moves the previous run's files aside, starts or checks the target and
   * reads the baseline.
   * With `{ target: false }` the target is started later, by {@link ensureTarget} (a scaling sweep
   * starts each replica count's target when its first level is due).
   * @throws TargetError when the target cannot be started or nothing answers (nothing was sent, the target is stopped)
   */
  async start(options: { target?: boolean } = {}): Promise<void> {
    this.#startedAt = new Date();
    const { config, root } = this;
    // First, while nothing of the run loads the machine: the calibration must measure the machine, not the target.
    // A merged run (issue 15) was measured on the shards' machines, not this one.
    if (!this.#merged) this.#machine ??= machineFingerprint();
    const moved = await archivePreviousRun(outputDir(root, config.output_dir), config.run_label);
    if (moved) this.#log(`loadbench: previous "${config.run_label}" outputs moved to ${moved}`);
    // A run shard judges nothing: SLOs and the baseline hold for the merged run only.
    if (!config.run_shard) {
      await this.#readBaseline();
      this.#announceMachineApplicability();
    }
    if (options.target !== false) await this.ensureTarget();
    else this.#deferred = true;
    if (config.run_shard) this.#startSchedule(config.run_shard);
  }

  /** Issue 15: the shared level schedule of a run shard, from LOADBENCH_START_AT or from now. */
  #startSchedule(shard: NonNullable<LoadbenchConfig['run_shard']>): void {
    const now = Date.now();
    const name = runShardName(shard);
    this.#schedule = new LevelSchedule(shard.startAtMs ?? now, LEVEL_GAP_MS);
    if (shard.startAtMs === undefined) {
      this.#log(`loadbench: ${name}: no LOADBENCH_START_AT: the level schedule starts now, so it lines up with the other shards only as well as their starts do`);
    } else if (shard.startAtMs >= now) {
      this.#log(`loadbench: ${name}: waiting for LOADBENCH_START_AT ${new Date(shard.startAtMs).toISOString()} (in ${((shard.startAtMs - now) / 1000).toFixed(1)} s)`);
    } else {
      this.#firstLateMs = now - shard.startAtMs;
      this.#log(`loadbench: ${name}: started ${(this.#firstLateMs / 1000).toFixed(3)} s after LOADBENCH_START_AT ${new Date(shard.startAtMs).toISOString()}: late, recorded in its summary; its levels start as soon as it can`);
    }
  }

  static #slotKey(scenario: Pick<ScenarioSnapshot, 'file' | 'name'>, level: { concurrency: number; repetition?: number; replicas?: number }): string {
    return `${scenario.file}\u0000${scenario.name}\u0000${level.concurrency}\u0000${level.repetition ?? 1}`;
  }

  /**
   * Starts the target (target.start) unless it runs, or checks that something listens, then
   * starts sampling its resources.
   * @throws TargetError as {@link start}
   */
  async ensureTarget(): Promise<void> {
    // A target that could not start fails every later level of this run with the same reason.
    if (this.#startError) throw this.#startError;
    if (this.#ensured) return;
    this.#ensured = true;
    // A replica count of a scaling sweep starts when its target does, not when the sweep did.
    if (this.#deferred) this.#startedAt = new Date();
    const { config, root } = this;
    const start = config.target.start;
    try {
      if (start) {
        this.#log(`loadbench: starting the target: ${start.command}`);
        this.#target = await startTarget(start, config.target.url, this.#targetCwd ?? root);
        this.#log(`loadbench: target ready (${start.ready_url}, pid ${this.#target.pid})`);
      } else {
        await checkTargetListening(config.target.url);
      }
    } catch (error) {
      this.#startError = error as Error;
      throw error;
    }
    this.#resources = new ResourceWatch(config, this.#target?.pid);
    for (const pid of this.#generatorPids) this.#resources.addGeneratorPid(pid);
    this.#resourceInfo = this.#resources.runInfo();
    if (!this.#resourceInfo.available) this.#log(`loadbench: no resource figures: ${this.#resourceInfo.reason}`);
  }

  /** Counts a bench process (where the levels run, under Vitest) as the load generator in the resource figures. */
  addGeneratorPid(pid: number): void {
    this.#generatorPids.add(pid);
    this.#resources?.addGeneratorPid(pid);
  }

  async #readBaseline(): Promise<void> {
    const spec = this.config.baseline;
    if (!spec) return;
    try {
      this.#baseline = await readRunSummary(resolve(this.root, spec.file));
    } catch (error) {
      // A gate that cannot be evaluated must not pass silently.
      this.#baselineProblem = `Baseline check failed: ${(error as Error).message.replace(
        'run `npx vitest bench` with that run_label first',
        'write one with `npx loadbench baseline <run_label>`',
      )}`;
    }
  }

  /** Says at once, before any load, when the baseline will not be judged on this machine (issue 13). */
  #announceMachineApplicability(): void {
    const spec = this.config.baseline;
    if (!spec || !this.#baseline) return;
    const report = this.#baselineReport(this.#summary(false));
    if (report.applicability?.judged === false) {
      for (const line of describeBaselineNotJudged(report, this.config.run_label)) this.#log(`loadbench: ${line}`);
    }
  }

  /**
   * Called right before a level starts, in whichever process runs it; the level starts when this
   * resolves, and fails to run (with the reason) when it rejects. Nothing to wait for yet: this is
   * where a shared start schedule or a target restart between replica counts belongs.
   */
  async beforeLevel(scenario: ScenarioSnapshot, run: LevelRun): Promise<void> {
    const schedule = this.#schedule;
    const shard = this.config.run_shard;
    if (!schedule || !shard) return;
    // Issue 15: every level has its slot in the shared schedule, whether this shard has connections in it or not.
    const slot = schedule.next(scenario.workload.warmup_seconds, scenario.workload.duration_seconds ?? 0);
    await waitUntil(slot.scheduledAtMs);
    const startedAt = Date.now();
    const late = Math.max(0, startedAt - slot.scheduledAtMs);
    this.#slots.set(Sweep.#slotKey(scenario, run), { scheduled_at_ms: slot.scheduledAtMs, started_at_ms: startedAt, late_ms: late });
    if (late > LATE_NOTE_MS) {
      this.#log(`loadbench: ${runShardName(shard)}: scenario "${scenario.name}" at concurrency ${run.concurrency} started ${(late / 1000).toFixed(3)} s late against the shared schedule (recorded; the merge reports the skew)`);
    }
  }

  /**
   * Takes one level's result (or the error that kept it from running), writes the data files, and
   * returns the level's verdict: its broken SLO checks, and its baseline checks once every
   * repetition of the level is in.
   */
  record(record: LevelRecord, error?: string): LevelVerdict {
    const slot = this.#slots.get(Sweep.#slotKey(record.scenario, record.level));
    if (slot && this.config.run_shard) {
      const shard = this.config.run_shard;
      const part = record.level.run_shard ?? { index: shard.index, count: shard.count, connections: 0, first_worker: 0 };
      record = { ...record, level: { ...record.level, run_shard: { ...part, ...slot } } };
    }
    const { scenario, level } = record;
    const failures: string[] = [];
    const warnings: string[] = [];
    if (error !== undefined) {
      failures.push(describeLevelError(scenario.name, level, error));
      this.#records.push({ scenario, level: { status: 'skipped', scenario: scenario.name, concurrency: level.concurrency, ...(level.target_rate_rps !== undefined ? { target_rate_rps: level.target_rate_rps } : {}), reason: `${FAILED_TO_RUN}: ${error}` } });
    } else {
      if (isMeasured(record.level) && this.#resources) record = { ...record, level: { ...record.level, resources: this.#resources.levelResources(record.level) } };
      this.#records.push(record);
      if (isMeasured(level)) failures.push(...describeSloFailures(scenario.name, level, level.slo));
      const repetitions = scenario.workload.repetitions ?? 1;
      const done = this.#records.filter((r) => r.scenario.name === scenario.name && r.level.concurrency === level.concurrency).length;
      if (done >= repetitions && this.#baseline) {
        const verdicts = this.#judgeBaseline(this.#summary(false)).filter((v) => v.scenario === scenario.name && v.concurrency === level.concurrency);
        failures.push(...describeBaselineFailures(verdicts));
        warnings.push(...describeBaselineWarnings(verdicts));
      }
    }
    this.#levelFailures.push(...failures.filter((f) => f.startsWith('Level failed')));
    const summary = this.#summary(false);
    // Written after every level, so a crash or a kill loses at most the level in progress.
    this.#writes = this.#writes.then(() => this.#outputs.writeData(summary)).catch(() => undefined);
    return { failures, warnings };
  }

  #summary(interrupted: boolean): RunSummary {
    const { config } = this;
    const summary = buildRunSummary(this.#records, {
      runLabel: config.run_label,
      startedAt: this.#period?.startedAt ?? this.#startedAt,
      finishedAt: this.#period?.finishedAt ?? new Date(),
      interrupted: interrupted || this.#records.some((r) => r.level.status === 'partial'),
      report: config.report,
    });
    if (this.#resourceInfo) summary.resources = this.#resourceInfo;
    if (this.#scaling) summary.scaling = this.#scaling;
    // Issue 13: where and what was measured, so that this summary can serve as a baseline.
    // A merged run keeps the hashes its shards recorded (issue 15).
    if (!this.#merged) for (const s of summary.scenarios) s.workload_hash = workloadHash(s, config.target.start, config.scaling?.env);
    if (this.#machine) summary.machine = this.#machine;
    const shard = config.run_shard;
    if (shard) {
      summary.run_shard = {
        index: shard.index,
        count: shard.count,
        run_label: shard.runLabel,
        config_hash: shardConfigHash(summary.scenarios, shard.count, LEVEL_GAP_MS),
        source: shard.source,
        ...(shard.startAtMs !== undefined ? { start_at_ms: shard.startAtMs } : {}),
        gap_ms: LEVEL_GAP_MS,
        ...(this.#firstLateMs !== undefined ? { late_ms: this.#firstLateMs } : {}),
      };
    }
    if (this.#merged) summary.merged_from = this.#merged;
    return summary;
  }

  /**
   * The regression gate's report: whether the baseline applies here (machine, workload; issue 13)
   * and the verdict of every level of the scenarios it applies to.
   */
  #baselineReport(summary: RunSummary): BaselineReport {
    const spec = this.config.baseline!;
    const { file, calibration_margin_pct, require_same_machine, strict, ...tolerances } = spec;
    const applicability = baselineApplicability(summary, this.#baseline!, { calibration_margin_pct, require_same_machine, strict });
    const notJudged = new Set(applicability.reasons.map((r) => r.scenario));
    const judged = { ...summary, scenarios: summary.scenarios.filter((s) => !notJudged.has(s.name)) };
    const verdicts = applicability.judged ? judgeAgainstBaseline(judged, this.#baseline!, tolerances) : [];
    return { file, tolerances, verdicts, applicability };
  }

  #judgeBaseline(summary: RunSummary) {
    if (!this.config.baseline || !this.#baseline) return [];
    return this.#baselineReport(summary).verdicts;
  }

  /**
   * Ends the run: judges the baseline, writes every output, prints the end-of-run text, stops the
   * target, and returns the summary with its outcome. Safe to call more than once (the first call
   * wins). `interruptedBy` names the signal that cut the run short.
   */
  finish(interruptedBy?: NodeJS.Signals): Promise<SweepResult> {
    this.#finished ??= this.#finish(interruptedBy);
    return this.#finished;
  }

  async #finish(interruptedBy: NodeJS.Signals | undefined): Promise<SweepResult> {
    try {
      await this.#writes;
      const interrupted = interruptedBy !== undefined;
      if (this.#records.length === 0) {
        this.#log(interrupted ? 'loadbench: the run was interrupted before any level was measured.' : 'loadbench: no level was measured, so no output was written.');
        return { summary: undefined, written: [], outcome: outcomeOf([], interruptedBy) };
      }
      const summary = this.#summary(interrupted);
      const spec = this.config.baseline;
      if (spec && this.#baseline) summary.baseline = this.#baselineReport(summary);
      const sloFailures = summary.scenarios.flatMap((s) =>
        s.levels.flatMap((l) => (isMeasured(l) ? describeSloFailures(s.name, l, l.slo) : [])),
      );
      const verdicts = summary.baseline?.verdicts ?? [];
      // Issue 13: a baseline that does not apply here is a warning, or with baseline.strict a failure.
      const notJudged = summary.baseline ? describeBaselineNotJudged(summary.baseline, summary.run_label) : [];
      const strict = spec?.strict === true;
      const baselineFailures = [
        ...(this.#baselineProblem ? [this.#baselineProblem] : []),
        ...describeBaselineFailures(verdicts),
        ...(strict ? notJudged.map((line) => `${line} (baseline.strict: true)`) : []),
      ];
      const failures = [...this.#levelFailures, ...sloFailures, ...baselineFailures];
      summary.outcome = outcomeOf(failures, interruptedBy ?? (summary.interrupted ? 'SIGINT' : undefined));
      const written = await this.#outputs.writeData(summary);
      if (this.config.run_shard) return await this.#finishShard(summary, written, interrupted);
      const analysis = await this.#outputs.writeAnalysis(summary);
      written.push(...analysis.written);
      for (const line of ['', ...this.#outputs.endText(summary), '']) this.#log(line);
      for (const line of sloFailures) this.#log(line);
      for (const line of describeBaselineWarnings(verdicts)) this.#log(line);
      if (!strict) for (const line of notJudged) this.#log(line);
      for (const line of [...this.#levelFailures, ...baselineFailures]) this.#log(line);
      if (summary.baseline) {
        const v = summary.baseline.verdicts;
        if (summary.baseline.applicability?.judged === false) {
          this.#log(`loadbench: baseline ${summary.baseline.file}: not judged on this machine${strict ? ' (baseline.strict: true: the run fails)' : ''}`);
        } else {
          // A scenario left out for another workload has no level verdicts: the count must not read as "nothing to judge".
          const otherWorkload = (summary.baseline.applicability?.reasons ?? []).flatMap((r) => (r.scenario === undefined ? [] : [`"${r.scenario}"`]));
          this.#log(
            `loadbench: baseline ${summary.baseline.file}: ${v.filter((x) => x.status === 'pass').length} level(s) within tolerance, ` +
              `${v.filter((x) => x.status === 'fail').length} regressed, ${v.filter((x) => x.status !== 'pass' && x.status !== 'fail').length} not judged` +
              (otherWorkload.length ? `; scenario ${otherWorkload.join(', ')} not judged (workload differs from the baseline's${strict ? '; baseline.strict: true: the run fails' : ''})` : ''),
          );
        }
      }
      await this.#failOnProblems(summary, analysis.problems);
      // Last, with the verdict final: the JUnit file and CI annotations must say what the exit status says.
      const published = await this.#outputs.publish(summary);
      written.push(...published.written);
      await this.#failOnProblems(summary, published.problems);
      this.#log(`loadbench: wrote ${written.map((p) => relativeTo(this.root, p)).join(', ')}`);
      if (interrupted) this.#log('loadbench: the run was interrupted: the outputs hold the levels measured so far, the last one marked partial.');
      return { summary, written, outcome: summary.outcome };
    } finally {
      await this.stopTarget();
    }
  }

  /**
   * The end of a run shard (issue 15): its data (summary JSON and CSV, raw CSV) and the results
   * table; no verdict, no charts or report, which describe the merged run. It fails only when a
   * level could not run.
   */
  async #finishShard(summary: RunSummary, written: string[], interrupted: boolean): Promise<SweepResult> {
    const shard = this.config.run_shard!;
    for (const line of ['', ...this.#outputs.endText(summary), '']) this.#log(line);
    for (const line of this.#levelFailures) this.#log(line);
    const raw = outputFile(this.root, this.config.output_dir, this.config.run_label, 'raw');
    if (existsSync(raw)) written.push(raw);
    this.#log(`loadbench: wrote ${written.map((p) => relativeTo(this.root, p)).join(', ')}`);
    this.#log(
      `loadbench: ${runShardName(shard)}: SLOs are not judged per shard; once every shard is done, \`npx loadbench merge ${this.config.output_dir}\` adds the ${shard.count} shards up exactly and judges the merged run "${shard.runLabel}"`,
    );
    if (interrupted) this.#log('loadbench: the run was interrupted: the outputs hold the levels measured so far, the last one marked partial.');
    return { summary, written, outcome: summary.outcome! };
  }

  /** Reports outputs that could not be written; a run that passed fails, since it did not do all it should. */
  async #failOnProblems(summary: RunSummary, problems: string[]): Promise<void> {
    for (const problem of problems) this.#log(`loadbench: could not write ${problem}`);
    if (problems.length && summary.outcome?.exit_code === 0) {
      // Charts or the report failing must not hide the measured data, already on disk; but the run did not do all it should.
      summary.outcome = { status: 'fail', exit_code: 1, failures: problems.map((p) => `could not write ${p}`) };
      await this.#outputs.writeData(summary);
    }
  }

  /** Stops the target loadbench started (idempotent; SIGTERM, then SIGKILL after `graceMs`). */
  async stopTarget(graceMs?: number): Promise<void> {
    const target = this.#target;
    this.#target = undefined;
    this.#resources?.stop();
    await target?.stop(graceMs);
  }
}

/** The run's verdict from its failure lines and the signal that interrupted it, if any. Pure. */
export function outcomeOf(failures: string[], interruptedBy: NodeJS.Signals | undefined): RunOutcome {
  if (interruptedBy) return { status: 'interrupted', exit_code: SIGNAL_EXIT[interruptedBy] ?? 130, failures };
  return failures.length ? { status: 'fail', exit_code: 1, failures } : { status: 'pass', exit_code: 0, failures };
}

function relativeTo(root: string, path: string): string {
  return path.startsWith(`${root}/`) ? path.slice(root.length + 1) : path;
}
