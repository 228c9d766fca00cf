import { fileURLToPath } from 'node:url';
import type { Plugin } from 'vite';
import { ConfigError, loadConfig, type LoadedConfig } from './config/load-config.ts';
import { LoadbenchReporter } from '../reporters/loadbench-reporter.ts';
import { writeAnalysisOutputs } from '../reporters/analysis/write-analysis.ts';
import { outputDir } from './output-paths.ts';
import { BenchmarkReporter } from 'vitest/node';
import { progressSocketPath } from '../reporters/progress/progress-channel.ts';


/** Options of the {@link loadbench} plugin. */
export interface LoadbenchPluginOptions {
  /** Path of config.yaml (default: `LOADBENCH_CONFIG`, else `config.yaml` in the project root). */
  config?: string;
  /** Keep `vitest bench` watching files (default false: run once and exit). */
  watch?: boolean;
  /** Bench files (default `benches/**\/*.bench.ts`). */
  include?: string[];
  /** Vitest's own bench reporters to keep beside ours (default `['default']`). */
  reporters?: string[];
}

/** Prints configuration mistakes one per line and exits, without a stack trace. */
function exitOnConfigError(error: unknown): never {
  if (error instanceof ConfigError) {
    process.stderr.write(`loadbench: ${error.file}: invalid configuration, no request was sent:\n`);
    for (const problem of error.problems) process.stderr.write(`  - ${problem}\n`);
    process.exit(2);
  }
  throw error;
}

/**
 * The loadbench Vite/Vitest plugin. In benchmark mode (`vitest bench`) it loads and validates
 * config.yaml, runs `benches/**\/*.bench.ts` one file at a time in a child process, installs
 * the loadbench reporter, starts/stops the target (global setup) and runs once unless `watch`.
 * In test mode it does nothing.
 */
export function loadbench(options: LoadbenchPluginOptions = {}): Plugin {
  return {
    name: 'loadbench',
    config(userConfig, env) {
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
      const progressSocket = progressSocketPath();
      const reporter = new LoadbenchReporter({
        config,
        root,
        progressSocket,
        writeAnalysis: (summary) =>
          writeAnalysisOutputs(summary, {
            outputDir: outputDir(root, config.output_dir),
            runLabel: config.run_label,
            projectRoot: root,
            templatePath: config.report.template,
          }),
      });
      return {
        test: {
          watch: options.watch ?? process.env.LOADBENCH_WATCH === '1',
          pool: 'forks',
          fileParallelism: false,
          maxWorkers: 1,
          globalSetup: [fileURLToPath(new URL('./global-setup.ts', import.meta.url))],
          provide: { loadbench: { config, configPath: loaded.path, root, progressSocket } },
          benchmark: {
            include: options.include ?? ['benches/**/*.bench.ts'],
            // Vitest's terminal summary window would fight our in-place progress line: keep its tables, not the window.
            reporters: [
              ...(options.reporters ?? ['default']).map((r) => (r === 'default' ? new BenchmarkReporter({ summary: false }) : r)),
              reporter,
            ],
          },
        },
      };
    },
  };
}

export default loadbench;
