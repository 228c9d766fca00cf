/**
 * `loadbench merge <files or folders> [--run-label L]` (issue 15): adds up the run shards of a
 * distributed run (the `*.shard-<i>-of-<n>_summary.json` files each shard wrote) into one run,
 * exactly, and judges it like a single-generator run. The logic is core/shards/merge-run.ts.
 */
import { mergeRun } from '../core/shards/merge-run.ts';
import { createRunOutputs } from '../reporters/write/run-outputs.ts';
import { defineCommand } from './command.ts';

export default defineCommand({
  name: 'merge',
  summary: "add up a distributed run's shards (LOADBENCH_SHARD) exactly, then judge and report it as one run",
  args: '<files or folders> [...] [--run-label L] [--config config.yaml] [--output-dir runs]',
  positionals: { min: 1, max: Infinity },
  help: [
    'Reads the run shard summaries <run_label>.shard-<i>-of-<n>_summary.json (files, or the folders that hold them), checks that they ' +
      'belong together (the same config hash and shard count, every shard 1 to n exactly once, the same levels; otherwise one line, exit 2, ' +
      'nothing written), and adds them up exactly: HDR histograms added, counts and error categories summed, per-second timelines added by ' +
      'wall-clock second, throughput = merged successes / the merged measured window, the level start skew between shards reported.',
    'Then it acts like a single-machine run of label L (default: the shards\' run_label): it judges the SLOs and the baseline of config.yaml ' +
      '(when there is one) on the merged run and writes every usual output (summary CSV/JSON, clean CSV, charts, report, JUnit; the shards\' raw ' +
      'CSVs concatenated into <L>_raw.csv).',
  ],
  options: {
    'run-label': { type: 'string', value: 'L', description: "label of the merged run (default: the shards' run_label)" },
    config: { type: 'string', value: 'file', description: 'config.yaml for baseline: and report: (default: LOADBENCH_CONFIG, else config.yaml when it exists)' },
    'output-dir': { type: 'string', value: 'dir', description: 'folder of the merged outputs (default: output_dir of the config, else runs)' },
  },
  exitStatus: '0 the merged run passed; 1 an SLO or the baseline failed on the merged run, or a shard could not run a level; 2 usage error, shards that do not belong together, an unreadable summary or config',
  async run({ values, positionals }, io) {
    const result = await mergeRun({
      paths: positionals,
      root: io.cwd,
      env: io.env,
      runLabel: values['run-label'],
      configPath: values.config,
      outputDir: values['output-dir'],
      makeOutputs: (config, root) => createRunOutputs({ root, outputDir: config.output_dir, runLabel: config.run_label, templatePath: config.report.template, env: io.env, printCommand: io.out }),
      log: io.out,
    });
    return result.outcome.exit_code;
  },
});
