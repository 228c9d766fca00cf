import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Reporter, TestCase, TestModule, Vitest } from 'vitest/node';
import type { LoadbenchConfig } from '../plugin/config/schema.ts';
import { outputDir, outputFile } from '../plugin/output-paths.ts';
import type { LevelMeta, RunSummary } from '../plugin/types.ts';
import { deferVitestSignalExit, readLevelMeta } from '../plugin/vitest-internals.ts';
import { stopAllTargets } from '../plugin/target/target-process.ts';
import { archivePreviousRun } from './io/archive-previous-run.ts';
import { writeFileAtomic } from './io/write-atomic.ts';
import { formatConsoleTable } from './console-table.ts';
import { listenForProgress } from './progress/progress-channel.ts';
import { ProgressDisplay, type DisplayStream } from './progress/progress-display.ts';
import { buildRunSummary, collapseRepetitions } from './run-summary.ts';
import { readRunSummary } from './io/read-summary.ts';
import { describeBaselineFailures, describeBaselineWarnings, formatBaselineTable, judgeAgainstBaseline } from '../plugin/baseline/compare-baseline.ts';
import { describeSloFailures } from '../plugin/slo.ts';
import { formatSummaryCsv } from './summary-csv.ts';
import { AnalysisWriteError } from './analysis/write-analysis.ts';

/** Options of {@link LoadbenchReporter}. */
export interface LoadbenchReporterOptions {
  config: LoadbenchConfig;
  root: string;
  /** Writes charts, the clean summary and the report; called after the CSV and JSON files are safe on disk. */
  writeAnalysis?: (summary: RunSummary) => Promise<string[]>;
  /** Where human-readable lines go (default: stdout). */
  log?: (line: string) => void;
  /** Unix socket on which bench workers send live progress. */
  progressSocket?: string;
  /** Where the live progress line goes (default: stderr). */
  progressStream?: DisplayStream;
}

/**
 * Collects every level result from the bench tasks' meta and, at the end of the run, writes
 * `<run_label>_summary.json`, `_summary.csv`, the analysis files, and prints the results table.
 * Thin I/O: the content comes from pure formatters.
 */
export class LoadbenchReporter implements Reporter {
  private readonly metas: LevelMeta[] = [];
  private startedAt = new Date();
  private pendingWrite: Promise<unknown> = Promise.resolve();
  private interrupted = false;
  private readonly log: (line: string) => void;
  private readonly display: ProgressDisplay;
  private progress: { close(): Promise<void> } | undefined;
  private readonly workerPids = new Set<number>();
  private wroteFinal = false;
  private endRun!: () => void;
  private readonly runEnded = new Promise<void>((resolve) => (this.endRun = resolve));

  constructor(private readonly options: LoadbenchReporterOptions) {
    this.log = options.log ?? ((line) => process.stdout.write(`${line}\n`));
    this.display = new ProgressDisplay(options.progressStream ?? process.stderr);
  }

  onInit(_vitest: Vitest): void {
    this.startedAt = new Date();
    deferVitestSignalExit(async (signal) => {
      this.interrupted = true;
      this.display.clear();
      this.log(`loadbench: ${signal}: stopping the running level; writing what was measured...`);
      for (const pid of this.workerPids) {
        try {
          process.kill(pid, signal);
        } catch {
          // already gone
        }
      }
      // The bench process ends its level at once and the run ends normally; wait for the
      // outputs, but never forever. Whatever was already written stays on disk regardless.
      await Promise.race([this.runEnded, new Promise((r) => setTimeout(r, 10_000).unref())]);
      if (!this.wroteFinal) await this.writeOutputs().catch(() => undefined);
      // Vitest exits right after this, before its global teardown: stop the target gracefully now.
      await stopAllTargets(3000);
    });
  }

  async onTestRunStart(): Promise<void> {
    this.startedAt = new Date();
    this.metas.length = 0;
    const { config, root } = this.options;
    const moved = await archivePreviousRun(outputDir(root, config.output_dir), config.run_label);
    if (moved) this.log(`loadbench: previous "${config.run_label}" outputs moved to ${moved}`);
    if (this.options.progressSocket && !this.progress) {
      this.progress = await listenForProgress(this.options.progressSocket, (m) => {
        if (m.type === 'progress') this.display.update(m.event);
        else if (m.type === 'hello') this.workerPids.add(m.pid);
        else this.display.clear();
      }).catch(() => undefined);
    }
  }

  onTestCaseResult(testCase: TestCase): void {
    this.display.clear();
    const meta = readLevelMeta(testCase);
    if (!meta) return;
    this.metas.push(meta);
    // Written after every level, so a crash or a kill loses at most the level in progress.
    this.pendingWrite = this.pendingWrite.then(() => this.writeData()).catch(() => undefined);
  }

  /** Marks the run as interrupted (Ctrl-C, SIGTERM): outputs are still written, flagged partial. */
  markInterrupted(): void {
    this.interrupted = true;
  }

  async onTestRunEnd(_modules: ReadonlyArray<TestModule>, _errors: unknown, reason?: string): Promise<void> {
    if (reason === 'interrupted') this.interrupted = true;
    this.display.clear();
    await this.progress?.close();
    this.progress = undefined;
    await this.pendingWrite;
    const written = await this.writeOutputs();
    this.wroteFinal = true;
    if (this.interrupted) {
      this.log(
        written.length
          ? 'loadbench: the run was interrupted: the outputs hold the levels measured so far, the last one marked partial.'
          : 'loadbench: the run was interrupted before any level was measured.',
      );
    }
    this.endRun();
  }

  private summary(): RunSummary {
    const { config } = this.options;
    return buildRunSummary(this.metas, {
      runLabel: config.run_label,
      startedAt: this.startedAt,
      finishedAt: new Date(),
      interrupted: this.interrupted || this.metas.some((m) => m.level.partial),
      report: config.report,
    });
  }

  private file(suffix: string): string {
    const { config, root } = this.options;
    return outputFile(root, config.output_dir, config.run_label, suffix);
  }

  /** Writes the summary JSON and CSV (atomically) for the levels measured so far. */
  private async writeData(summary = this.summary()): Promise<string[]> {
    const jsonPath = this.file('_summary.json');
    await writeFileAtomic(jsonPath, `${JSON.stringify(summary, null, 1)}\n`);
    const csvPath = this.file('_summary.csv');
    await writeFileAtomic(csvPath, formatSummaryCsv(summary));
    return [jsonPath, csvPath];
  }

  /** Compares the run with config.yaml's baseline (when set) and stores the verdicts in the summary. */
  private async judgeBaseline(summary: RunSummary): Promise<{ failures: string[]; warnings: string[] }> {
    const spec = this.options.config.baseline;
    if (!spec) return { failures: [], warnings: [] };
    const { file, ...tolerances } = spec;
    let baseline: RunSummary;
    try {
      baseline = await readRunSummary(resolve(this.options.root, file));
    } catch (error) {
      // A gate that cannot be evaluated must not pass silently.
      const message = (error as Error).message.replace('run `npx vitest bench` with that run_label first', 'write one with `npm run baseline -- <run_label>`');
      return { failures: [`Baseline check failed: ${message}`], warnings: [] };
    }
    const verdicts = judgeAgainstBaseline(summary, baseline, tolerances);
    summary.baseline = { file, tolerances, verdicts };
    return { failures: describeBaselineFailures(verdicts), warnings: describeBaselineWarnings(verdicts) };
  }

  /** Writes every output for what has been measured so far. Safe to call more than once. */
  async writeOutputs(): Promise<string[]> {
    const { root } = this.options;
    if (this.metas.length === 0) {
      this.log('loadbench: no level was measured, so no output was written.');
      return [];
    }
    const summary = this.summary();
    const baselineLines = await this.judgeBaseline(summary);
    const written = await this.writeData(summary);
    const rawPath = this.file('_raw.csv');
    if (await exists(rawPath)) written.push(rawPath);
    if (this.options.writeAnalysis) {
      try {
        written.push(...(await this.options.writeAnalysis(collapseRepetitions(summary))));
      } catch (error) {
        // Charts or the report failing must not hide the measured data, already on disk.
        if (error instanceof AnalysisWriteError) written.push(...error.written);
        this.log(`loadbench: could not write ${(error as Error).message}`);
        process.exitCode = 1;
      }
    }
    this.log('');
    this.log(formatConsoleTable(summary));
    this.log('');
    if (summary.baseline?.verdicts.length) this.log(`${formatBaselineTable(summary.baseline)}\n`);
    const failures = summary.scenarios.flatMap((s) =>
      s.levels.flatMap((l) => describeSloFailures(s.name, l.concurrency, l.slo)),
    );
    for (const line of failures) this.log(line);
    for (const line of baselineLines.warnings) this.log(line);
    for (const line of baselineLines.failures) this.log(line);
    if (summary.baseline) {
      const v = summary.baseline.verdicts;
      this.log(
        `loadbench: baseline ${summary.baseline.file}: ${v.filter((x) => x.status === 'pass').length} level(s) within tolerance, ` +
          `${v.filter((x) => x.status === 'fail').length} regressed, ${v.filter((x) => x.status !== 'pass' && x.status !== 'fail').length} not judged`,
      );
    }
    if (failures.length || baselineLines.failures.length) process.exitCode = 1;
    this.log(`loadbench: wrote ${written.map((p) => relativeToRoot(root, p)).join(', ')}`);
    return written;
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

function relativeToRoot(root: string, path: string): string {
  return path.startsWith(`${root}/`) ? path.slice(root.length + 1) : path;
}
