import { stat } from 'node:fs/promises';
import type { Reporter, TestCase, TestModule, Vitest } from 'vitest/node';
import type { LoadbenchConfig } from '../plugin/config/schema.ts';
import { outputDir, outputFile } from '../plugin/output-paths.ts';
import type { LevelMeta, RunSummary } from '../plugin/types.ts';
import { readLevelMeta } from '../plugin/vitest-internals.ts';
import { archivePreviousRun } from './io/archive-previous-run.ts';
import { writeFileAtomic } from './io/write-atomic.ts';
import { formatConsoleTable } from './console-table.ts';
import { listenForProgress } from './progress/progress-channel.ts';
import { ProgressDisplay, type DisplayStream } from './progress/progress-display.ts';
import { buildRunSummary } from './run-summary.ts';
import { describeSloFailures } from '../plugin/slo.ts';
import { formatSummaryCsv } from './summary-csv.ts';

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
  private interrupted = false;
  private readonly log: (line: string) => void;
  private readonly display: ProgressDisplay;
  private progress: { close(): Promise<void> } | undefined;

  constructor(private readonly options: LoadbenchReporterOptions) {
    this.log = options.log ?? ((line) => process.stdout.write(`${line}\n`));
    this.display = new ProgressDisplay(options.progressStream ?? process.stderr);
  }

  onInit(_vitest: Vitest): void {
    this.startedAt = new Date();
  }

  async onTestRunStart(): Promise<void> {
    this.startedAt = new Date();
    this.metas.length = 0;
    const { config, root } = this.options;
    const moved = await archivePreviousRun(outputDir(root, config.output_dir), config.run_label);
    if (moved) this.log(`loadbench: previous "${config.run_label}" outputs moved to ${moved}`);
    if (this.options.progressSocket && !this.progress) {
      this.progress = await listenForProgress(this.options.progressSocket, (m) =>
        m.type === 'progress' ? this.display.update(m.event) : this.display.clear(),
      ).catch(() => undefined);
    }
  }

  onTestCaseResult(testCase: TestCase): void {
    this.display.clear();
    const meta = readLevelMeta(testCase);
    if (meta) this.metas.push(meta);
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
    await this.writeOutputs();
  }

  /** Writes every output for what has been measured so far. Safe to call more than once. */
  async writeOutputs(): Promise<string[]> {
    const { config, root } = this.options;
    if (this.metas.length === 0) {
      this.log('loadbench: no level was measured, so no output was written.');
      return [];
    }
    const summary = buildRunSummary(this.metas, {
      runLabel: config.run_label,
      startedAt: this.startedAt,
      finishedAt: new Date(),
      interrupted: this.interrupted || this.metas.some((m) => m.level.partial),
      report: config.report,
    });
    const file = (suffix: string): string => outputFile(root, config.output_dir, config.run_label, suffix);
    const written: string[] = [];
    const jsonPath = file('_summary.json');
    await writeFileAtomic(jsonPath, `${JSON.stringify(summary, null, 1)}\n`);
    written.push(jsonPath);
    const csvPath = file('_summary.csv');
    await writeFileAtomic(csvPath, formatSummaryCsv(summary));
    written.push(csvPath);
    const rawPath = file('_raw.csv');
    if (await exists(rawPath)) written.push(rawPath);
    if (this.options.writeAnalysis) {
      try {
        written.push(...(await this.options.writeAnalysis(summary)));
      } catch (error) {
        // Charts or the report failing must not hide the measured data, already on disk.
        this.log(`loadbench: could not write charts/report: ${(error as Error).message}`);
        process.exitCode = 1;
      }
    }
    this.log('');
    this.log(formatConsoleTable(summary));
    this.log('');
    const failures = summary.scenarios.flatMap((s) =>
      s.levels.flatMap((l) => describeSloFailures(s.name, l.concurrency, l.slo)),
    );
    for (const line of failures) this.log(line);
    if (failures.length) process.exitCode = 1;
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
