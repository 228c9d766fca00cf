import { loadConfig, validateConfig } from '../config/load-config.ts';
import type { LoadbenchConfig } from '../config/schema.ts';
import { ConfigError } from '../errors.ts';
import { outputFile } from '../model/outputs.ts';
import type { ProgressEvent, RunSummary } from '../model/summary.ts';
import type { ScenarioSpec } from '../scenario/options.ts';
import { levelRuns, resolveScenario, scenarioSnapshot } from '../scenario/resolve.ts';
import { ScenarioRunner } from './scenario-runner.ts';
import { type RunOutputs, type SweepResult } from './sweep.ts';
import { createOrchestrator, runLabelOf } from './orchestrator.ts';
import type { LevelRun } from '../scenario/resolve.ts';

/** Options of {@link runSweepWith}. */
export interface RunSweepOptions {
  /** A config.yaml path (relative to `root`), or a config object as config.yaml would hold it (validated the same way). */
  config?: string | Record<string, unknown>;
  /** The scenarios to run, in order: `{ name, ...the options of scenario() }`. */
  scenarios: ScenarioSpec[];
  /** Project root (default: the current directory). */
  root?: string;
  /** Ends the run early, like Ctrl-C: the running level is kept as partial, the rest skipped, the outputs written. */
  signal?: AbortSignal;
  /**
   * Treat SIGINT/SIGTERM of this process as `signal` while the run lasts (default true when no
   * `signal` is given), so that Ctrl-C still writes what was measured and stops the target.
   */
  handleSignals?: boolean;
  /** Human-readable lines: target start, the results table, SLO lines (default: silent). */
  log?: (line: string) => void;
  /** Called about once a second while a level runs. */
  onProgress?: (event: ProgressEvent) => void;
  /** Environment for `${VAR}` interpolation and the LOADBENCH_* overrides (default: process.env). */
  env?: NodeJS.ProcessEnv;
}

/** Validates the config from a path or an object. @throws ConfigError */
export function resolveConfig(config: RunSweepOptions['config'], root: string, env: NodeJS.ProcessEnv): LoadbenchConfig {
  if (config === undefined || typeof config === 'string') return loadConfig(config, root, env).config;
  return validateConfig(config, 'config object', env);
}

/**
 * Runs a sweep in this process, without Vitest: every scenario's levels in order, through the
 * same orchestrator as `vitest bench`, writing the same outputs with `outputs`. Resolves to the
 * result once the outputs are written; never exits the process.
 * @throws ConfigError before any load when the config or a scenario is invalid
 * @throws TargetError when the target cannot be started or does not answer (no load sent)
 */
export async function runSweepWith(options: RunSweepOptions, makeOutputs: (config: LoadbenchConfig, root: string) => RunOutputs): Promise<SweepResult & { summary: RunSummary | undefined }> {
  const root = options.root ?? process.cwd();
  const env = options.env ?? process.env;
  const config = resolveConfig(options.config, root, env);
  if (!Array.isArray(options.scenarios) || options.scenarios.length === 0) {
    throw new ConfigError('runSweep()', ['scenarios: expected a non-empty list such as [{ name: "submit" }]']);
  }
  // Every scenario is validated before any load is sent.
  const scenarios = options.scenarios.map((spec) => {
    const { name, ...scenarioOptions } = spec ?? ({} as ScenarioSpec);
    return resolveScenario(name, scenarioOptions, config);
  });
  const rawPath = (run: LevelRun): string => outputFile(root, config.output_dir, runLabelOf(config, run.replicas), 'raw');
  const sweep = createOrchestrator({ config, root, env, reload: (e) => resolveConfig(options.config, root, e), makeOutputs, log: options.log });

  const aborter = new AbortController();
  let interruptedBy: NodeJS.Signals | undefined;
  const onSignal = (signal: NodeJS.Signals): void => {
    interruptedBy ??= signal;
    aborter.abort(new Error(`interrupted by ${signal}`));
  };
  const onAbort = (): void => {
    interruptedBy ??= 'SIGINT';
    aborter.abort(options.signal?.reason);
  };
  const handleSignals = options.handleSignals ?? options.signal === undefined;
  if (handleSignals) {
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  }
  options.signal?.addEventListener('abort', onAbort, { once: true });
  if (options.signal?.aborted) onAbort();
  try {
    await sweep.start();
    for (const s of scenarios) {
      const runner = new ScenarioRunner(s, rawPath);
      const snapshot = scenarioSnapshot(s, '');
      const runs = levelRuns(s);
      for (const [i, run] of runs.entries()) {
        try {
          const level = await runner.run(
            run,
            { signal: aborter.signal, onProgress: options.onProgress, beforeLevel: () => sweep.beforeLevel(snapshot, run) },
            i === runs.length - 1,
          );
          sweep.record({ scenario: snapshot, level, ...ScenarioRunner.replicasOf(run) });
        } catch (error) {
          await runner.close();
          sweep.record({ scenario: snapshot, level: runner.skipped(run, 'failed to run'), ...ScenarioRunner.replicasOf(run) }, (error as Error).message);
        }
      }
    }
    return await sweep.finish(interruptedBy);
  } finally {
    // On every path, a thrown error included: the target never outlives the run.
    await sweep.stopTarget();
    options.signal?.removeEventListener('abort', onAbort);
    if (handleSignals) {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    }
  }
}
