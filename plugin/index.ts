import type { Plugin } from 'vite';
// vitest/config declares the `test` key of Vite's config: without it, the config hook's result does not type-check.
import type { ViteUserConfig } from 'vitest/config';
import { BaseSequencer, BenchmarkReporter, type TestSpecification } from 'vitest/node';
import { loadConfig, type LoadedConfig } from '../core/config/load-config.ts';
import { ConfigError, OutputPathError } from '../core/errors.ts';
import { outputDir } from '../core/model/outputs.ts';
import { createOrchestrator, type Orchestrator } from '../core/run/orchestrator.ts';
import { createRunOutputs } from '../reporters/write/run-outputs.ts';
import { benchSocketPath } from './bench-channel.ts';
import type { ProvidedLoadbench } from './provided.ts';
import { LoadbenchVitestReporter } from './vitest-reporter.ts';

/** Options of the {@link loadbench} plugin. */
export interface LoadbenchPluginOptions {
  /** Path of config.yaml (default: `LOADBENCH_CONFIG`, else `config.yaml` in the project root). */
  config?: string;
  /** Keep `vitest bench` watching files (default false: run once and exit). */
  watch?: boolean;
  /** Bench files (default `benches/**\/*.bench.ts`). */
  include?: string[];
  /**
   * Vitest's own bench reporters to print beside loadbench's lines (default none): `'default'`
   * brings back Vitest's tinybench table, whose figures describe one call of a level's task, not the load.
   */
  reporters?: string[];
}

/**
 * Bench files in path order, every run: Vitest's default order puts the files that failed last
 * time first, which would reorder a sweep after every failure.
 */
class PathOrderSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    return [...files].sort((a, b) => (a.moduleId < b.moduleId ? -1 : a.moduleId > b.moduleId ? 1 : 0));
  }
}

/** Prints configuration mistakes one per line and exits, without a stack trace. */
function exitOnConfigError(error: unknown): never {
  if (error instanceof ConfigError) {
    process.stderr.write(`loadbench: ${error.file}: invalid configuration, no request was sent:\n`);
    for (const problem of error.problems) process.stderr.write(`  - ${problem}\n`);
    process.exit(error.exitCode);
  }
  if (error instanceof OutputPathError) {
    process.stderr.write(`loadbench: ${error.message}\n`);
    process.exit(error.exitCode);
  }
  throw error;
}

/**
 * The Vitest plugin: only active in benchmark mode (`vitest bench`). It loads and validates
 * config.yaml, runs `benches/**\/*.bench.ts` one file at a time in a child process, and installs
 * the loadbench reporter, which hands the run to the core orchestrator (archive, target, verdicts,
 * outputs, exit status) and prints each level with a mark that agrees with the verdict. Runs once
 * unless `watch`. In test mode it does nothing.
 */
export function loadbench(options: LoadbenchPluginOptions = {}): Plugin {
  return {
    name: 'loadbench',
    config(userConfig, env): ViteUserConfig | undefined {
      if (env.mode !== 'benchmark') return undefined;
      const root = userConfig.root ?? process.cwd();
      let loaded: LoadedConfig;
      try {
        loaded = loadConfig(options.config, root);
        outputDir(root, loaded.config.output_dir);
      } catch (error) {
        return exitOnConfigError(error);
      }
      const { config } = loaded;
      const benchSocket = benchSocketPath();
      let sweep: Orchestrator;
      try {
        sweep = createOrchestrator({
          config,
          root,
          env: process.env,
          // A scaling sweep reads config.yaml again for each replica count, with its count in scaling.env.
          reload: (env) => loadConfig(loaded.path, root, env).config,
          makeOutputs: (c) => createRunOutputs({ root, outputDir: c.output_dir, runLabel: c.run_label, templatePath: c.report.template }),
          log: (line) => process.stdout.write(`${line}\n`),
        });
      } catch (error) {
        return exitOnConfigError(error);
      }
      const provided: ProvidedLoadbench = { config, configPath: loaded.path, root, benchSocket };
      return {
        test: {
          watch: options.watch ?? process.env.LOADBENCH_WATCH === '1',
          pool: 'forks',
          fileParallelism: false,
          maxWorkers: 1,
          provide: { loadbench: provided },
          sequence: { sequencer: PathOrderSequencer },
          benchmark: {
            include: options.include ?? ['benches/**/*.bench.ts'],
            // Vitest's terminal summary window would fight our in-place progress line: keep its tables, not the window.
            // Ours first: a failed level is marked failed in Vitest's state before any other reporter reads it.
            reporters: [
              new LoadbenchVitestReporter({ sweep, benchSocket }),
              ...(options.reporters ?? []).map((r) => (r === 'default' ? new BenchmarkReporter({ summary: false }) : r)),
            ],
          },
        },
      };
    },
  };
}

export default loadbench;
