/**
 * `npm run report -- <run_label> [--config config.yaml] [--output-dir runs]`
 *
 * Regenerates the charts, the clean summary and the report of a run from its
 * `<output_dir>/<run_label>_summary.json`, without sending any request; the `report:` section
 * of config.yaml is read again, so edits to it (hardware_env, num_nodes, template) apply.
 */
import { parseArgs } from 'node:util';
import { relative } from 'node:path';
import { ConfigError, loadConfig } from '../../plugin/config/load-config.ts';
import { OutputPathError, outputDir, outputFile } from '../../plugin/output-paths.ts';
import { writeAnalysisOutputs } from '../analysis/write-analysis.ts';
import { SummaryFileError, readRunSummary } from '../io/read-summary.ts';

const USAGE = 'usage: npm run report -- <run_label> [--config config.yaml] [--output-dir runs]';

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { config: { type: 'string' }, 'output-dir': { type: 'string' }, help: { type: 'boolean', short: 'h' } },
  });
  if (values.help || positionals.length !== 1) {
    process.stderr.write(`${USAGE}\n`);
    return values.help ? 0 : 2;
  }
  const root = process.cwd();
  const label = positionals[0]!;
  const { config } = loadConfig(values.config, root);
  const dir = values['output-dir'] ?? config.output_dir;
  const summary = await readRunSummary(outputFile(root, dir, label, '_summary.json'));
  summary.report = config.report;
  const written = await writeAnalysisOutputs(summary, {
    outputDir: outputDir(root, dir),
    runLabel: label,
    projectRoot: root,
    templatePath: config.report.template,
  });
  process.stdout.write(`loadbench: regenerated ${written.map((p) => relative(root, p)).join(', ')}\n`);
  return 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    if (error instanceof ConfigError) {
      process.stderr.write(`loadbench: ${error.file}: invalid configuration:\n${error.problems.map((p) => `  - ${p}`).join('\n')}\n`);
    } else if (error instanceof SummaryFileError || error instanceof OutputPathError || (error as { code?: string }).code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
      process.stderr.write(`loadbench: ${(error as Error).message}\n${USAGE}\n`);
    } else {
      process.stderr.write(`loadbench: ${String((error as Error).stack ?? error)}\n`);
    }
    process.exit(2);
  },
);
