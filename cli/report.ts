/**
 * `loadbench report <run_label>`: regenerates the charts, the clean summary, the report and the
 * JUnit file of a run from its `<output_dir>/<run_label>_summary.json`, without sending any
 * request; the `report:` section of config.yaml is read again, so edits to it (hardware_env,
 * num_nodes, template) apply. Without a config.yaml (and no --config), the report settings stored
 * in the summary are used.
 */
import { existsSync } from 'node:fs';
import { relative, resolve } from 'node:path';
import { loadConfig } from '../core/config/load-config.ts';
import { outputDir, outputFile } from '../core/model/outputs.ts';
import { readRunSummary } from '../core/model/read-summary.ts';
import { formatJunitXml } from '../reporters/junit/junit-xml.ts';
import { AnalysisWriteError, writeAnalysisOutputs } from '../reporters/write/write-analysis.ts';
import { writeFileAtomic } from '../reporters/write/write-atomic.ts';
import { defineCommand } from './command.ts';

export default defineCommand({
  name: 'report',
  summary: "regenerate a run's charts, clean summary and report from its summary JSON (no request sent)",
  args: '<run_label> [--config config.yaml] [--output-dir runs]',
  positionals: { min: 1, max: 1 },
  help: [
    'Regenerates runs/<run_label>_summary_clean.csv, the charts (*.png), runs/<run_label>_report.md and runs/<run_label>_junit.xml ' +
      'from runs/<run_label>_summary.json, without sending any request. The report: section of config.yaml is read again, so ' +
      'edits to it (hardware_env, num_nodes, template) apply; without a config.yaml (and no --config), the report settings ' +
      'stored in the summary are used.',
  ],
  options: {
    config: { type: 'string', value: 'file', description: 'config.yaml to read report: from (default: LOADBENCH_CONFIG, else config.yaml when it exists)' },
    'output-dir': { type: 'string', value: 'dir', description: "folder of the run's outputs (default: output_dir of the config, else runs)" },
  },
  exitStatus: '0 regenerated; 1 some output could not be written (the others were); 2 usage error, bad config or unreadable summary',
  async run({ values, positionals }, io) {
    const root = io.cwd;
    const label = positionals[0]!;
    // An explicit --config must load; the default one is optional (the summary keeps its report settings).
    const defaultConfig = resolve(root, io.env.LOADBENCH_CONFIG || 'config.yaml');
    const config = values.config || existsSync(defaultConfig) ? loadConfig(values.config, root, io.env).config : undefined;
    const dir = values['output-dir'] ?? config?.output_dir ?? 'runs';
    const summary = await readRunSummary(outputFile(root, dir, label, 'summaryJson'));
    if (config) summary.report = config.report;
    else io.err(`loadbench report: no ${relative(root, defaultConfig)}: using the report settings stored in the summary`);
    const rel = (paths: string[]): string => paths.map((p) => relative(root, p)).join(', ');
    // The JUnit file states the verdicts stored in the summary (of the levels so far, when the run never finished).
    const junit = async (): Promise<string[]> => {
      const path = outputFile(root, dir, label, 'junit');
      await writeFileAtomic(path, formatJunitXml(summary));
      return [path];
    };
    try {
      const written = await writeAnalysisOutputs(summary, { outputDir: outputDir(root, dir), runLabel: label, projectRoot: root, templatePath: summary.report.template });
      written.push(...(await junit()));
      io.out(`loadbench report: regenerated ${rel(written)}`);
      return 0;
    } catch (error) {
      if (!(error instanceof AnalysisWriteError)) throw error;
      const written = [...error.written, ...(await junit())];
      if (written.length) io.out(`loadbench report: regenerated ${rel(written)}`);
      io.err(`loadbench report: could not write ${error.message}`);
      return 1;
    }
  },
});
