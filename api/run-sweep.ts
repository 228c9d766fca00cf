import { runSweepWith, type RunSweepOptions } from '../core/run/run-sweep.ts';
import type { RunSummary } from '../core/model/summary.ts';
import { createRunOutputs } from '../reporters/write/run-outputs.ts';

export type { RunSweepOptions };

/**
 * Runs a load-test sweep without Vitest, as `npx vitest bench` would: archives the previous run,
 * starts (or checks) the target, runs each scenario's levels in order, judges SLOs and the
 * baseline, writes every output under `output_dir`, and stops the target on every path.
 *
 * Resolves to the run summary (what `<run_label>_summary.json` holds); its `outcome` carries the
 * verdict (`pass`, `fail`, `interrupted`) and the exit code a command line would use. With
 * `scaling:` in the config, it is the last replica count's summary, and its `outcome` covers every
 * count (each count's own is in `<run_label>-<n>x_summary.json`). Never calls `process.exit`.
 *
 * @example
 * const summary = await runSweep({ config: 'config.yaml', scenarios: [{ name: 'submit' }] });
 * if (summary.outcome?.status !== 'pass') process.exitCode = summary.outcome?.exit_code ?? 1;
 * @throws ConfigError before any load when the config or a scenario is invalid
 * @throws TargetError when the target cannot be started or nothing answers (no load sent)
 */
export async function runSweep(options: RunSweepOptions): Promise<RunSummary> {
  const result = await runSweepWith(options, (config, root) =>
    createRunOutputs({ root, outputDir: config.output_dir, runLabel: config.run_label, templatePath: config.report.template, env: options.env }),
  );
  // Every scenario records its levels (run, skipped or failed), so a started run always has a summary.
  // A scaling sweep: the last replica count's summary, with the verdict of the whole sweep.
  return { ...result.summary!, outcome: result.outcome };
}
