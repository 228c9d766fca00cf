import { relative } from 'node:path';
import type { UserConsoleLog } from 'vitest';
import type { Reporter, TestCase, TestModule, TestSuite, Vitest } from 'vitest/node';
import { LoadbenchError } from '../core/errors.ts';
import type { Orchestrator } from '../core/run/orchestrator.ts';
import { ProgressDisplay, type DisplayStream } from '../reporters/progress/progress-display.ts';
import { listenForBenches } from './bench-channel.ts';
import { formatError, formatLevelLines, formatSuiteLine, type Style } from './render.ts';
import { deferVitestSignalExit, hasFailedTest, markFailed, readLevelMeta } from './vitest-internals.ts';

/** Options of {@link LoadbenchVitestReporter}. */
export interface LoadbenchVitestReporterOptions {
  /** The run's orchestrator; this reporter only forwards Vitest's events to it. */
  sweep: Orchestrator;
  /** Where human-readable lines go (default: stdout). */
  log?: (line: string) => void;
  /** Unix socket of the bench channel (progress, the go-ahead before each level). */
  benchSocket?: string;
  /** Where the live progress line goes (default: stderr). */
  progressStream?: DisplayStream;
  /** Colours in the level lines (default: stdout is a terminal and NO_COLOR is not set). */
  color?: boolean;
}

/**
 * The Vitest side of a run: forwards Vitest's events to the core orchestrator ({@link Sweep}) —
 * run start (archive, target), every finished level, run end (outputs, exit status) — and prints
 * each level and scenario with a mark that agrees with loadbench's verdict, in place of Vitest's
 * tinybench table. A level that broke an SLO or the baseline is also failed in Vitest's own state.
 */
export class LoadbenchVitestReporter implements Reporter {
  readonly #sweep: Orchestrator;
  readonly #log: (line: string) => void;
  readonly #display: ProgressDisplay;
  readonly #style: Style;
  readonly #options: LoadbenchVitestReporterOptions;
  readonly #workerPids = new Set<number>();
  readonly #suiteCounts = new Map<string, { levels: number; failed: number }>();
  #progress: { close(): Promise<void> } | undefined;
  #interruptedBy: NodeJS.Signals | undefined;
  #endRun!: () => void;
  readonly #runEnded = new Promise<void>((resolve) => (this.#endRun = resolve));

  constructor(options: LoadbenchVitestReporterOptions) {
    this.#options = options;
    this.#sweep = options.sweep;
    this.#log = options.log ?? ((line) => process.stdout.write(`${line}\n`));
    this.#display = new ProgressDisplay(options.progressStream ?? process.stderr);
    this.#style = { color: options.color ?? (Boolean(process.stdout.isTTY) && !process.env.NO_COLOR) };
  }

  onInit(_vitest: Vitest): void {
    deferVitestSignalExit(async (signal) => {
      this.#interruptedBy ??= signal;
      this.#display.clear();
      this.#log(`loadbench: ${signal}: stopping the running level; writing what was measured...`);
      for (const pid of this.#workerPids) {
        try {
          process.kill(pid, signal);
        } catch {
          // already gone
        }
      }
      // The bench process ends its level at once and the run ends normally; wait for the
      // outputs, but never forever. Whatever was already written stays on disk regardless.
      await Promise.race([this.#runEnded, new Promise((r) => setTimeout(r, 10_000).unref())]);
      await this.#sweep.finish(signal).catch(() => undefined);
      // Vitest exits right after this: make sure the target is gone (finish stops it, a stuck finish may not have).
      await this.#sweep.stopTarget(3000);
    });
  }

  async onTestRunStart(): Promise<void> {
    const socket = this.#options.benchSocket;
    if (socket && !this.#progress) {
      this.#progress = await listenForBenches(socket, {
        onMessage: (m) => {
          if (m.type === 'progress') this.#display.update(m.event);
          else if (m.type === 'hello') {
            this.#workerPids.add(m.pid);
            // The bench process runs the levels: it is the load generator in the resource figures.
            this.#sweep.addGeneratorPid(m.pid);
          }
          else this.#display.clear();
        },
        beforeLevel: (scenario, run) => this.#sweep.beforeLevel(scenario, run),
      }).catch(() => undefined);
    }
    try {
      await this.#sweep.start();
    } catch (error) {
      await this.#sweep.stopTarget(1000);
      await this.#progress?.close();
      if (!(error instanceof LoadbenchError)) throw error;
      // A target problem is the user's to fix, not a crash: one clear message, no stack, no load sent.
      process.stderr.write(`loadbench: ${error.message}\n`);
      process.exit(error.exitCode);
    }
  }

  #file(testCase: TestCase | TestSuite): string {
    return relative(this.#sweep.root, testCase.module.moduleId);
  }

  onTestCaseResult(testCase: TestCase): void {
    const meta = readLevelMeta(testCase);
    if (!meta) return;
    const verdict = this.#sweep.record(meta.record, meta.error);
    // Synchronously, first: the other reporters' hooks run beside this one and must see the failure.
    if (verdict.failures.length) markFailed(testCase, verdict.failures);
    this.#display.clear();
    const suite = testCase.parent.type === 'suite' ? testCase.parent : undefined;
    if (suite) {
      const counts = this.#suiteCounts.get(suite.id) ?? { levels: 0, failed: 0 };
      counts.levels++;
      if (verdict.failures.length) counts.failed++;
      this.#suiteCounts.set(suite.id, counts);
    }
    const names = testCase.fullName.split(' > ');
    const lines = formatLevelLines({ file: this.#file(testCase), names, level: meta.record.level, ...verdict }, this.#style);
    for (const line of lines) this.#log(line);
  }

  /**
   * A file's scenarios are judged once the file has ended: Vitest may report a suite as finished
   * before its last level's result arrives, and a suite or module is marked failed in the hook of
   * its own last update (earlier, a later update from the bench process would overwrite it).
   */
  onTestModuleEnd(module: TestModule): void {
    for (const suite of module.children.allSuites()) {
      if (hasFailedTest(suite)) markFailed(suite);
      const counts = this.#suiteCounts.get(suite.id);
      if (counts) this.#log(formatSuiteLine(this.#file(suite), suite.fullName.split(' > '), counts.levels, counts.failed, this.#style));
    }
    if (hasFailedTest(module)) markFailed(module);
    // A bench file that failed to load (bad scenario options, a syntax error): Vitest's own reporter is not there to say so.
    for (const error of module.errors()) {
      this.#display.clear();
      for (const line of formatError(relative(this.#sweep.root, module.moduleId), error, this.#style)) this.#log(line);
    }
  }

  /** What bench files print (Vitest's own reporter would show it; without it, it would be lost). */
  onUserConsoleLog(log: UserConsoleLog): void {
    this.#display.clear();
    (log.type === 'stderr' ? process.stderr : process.stdout).write(log.content);
  }

  async onTestRunEnd(_modules: ReadonlyArray<TestModule>, unhandledErrors: ReadonlyArray<{ name?: string; message?: string; stack?: string }>, reason?: string): Promise<void> {
    this.#display.clear();
    await this.#progress?.close();
    this.#progress = undefined;
    for (const error of unhandledErrors) for (const line of formatError('unhandled error', error, this.#style)) this.#log(line);
    if (_modules.length === 0) this.#log('loadbench: no bench file found: add one under benches/ named *.bench.ts (or set the plugin option include)');
    if (reason === 'interrupted') this.#interruptedBy ??= 'SIGINT';
    const { outcome } = await this.#sweep.finish(this.#interruptedBy);
    if (outcome.exit_code > 0) process.exitCode = Math.max(Number(process.exitCode ?? 0), outcome.exit_code);
    if (unhandledErrors.length || _modules.some((m) => m.errors().length)) process.exitCode = Math.max(Number(process.exitCode ?? 0), 1);
    this.#endRun();
  }
}
