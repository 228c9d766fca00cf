/**
 * `npm run report -- <run_label> [--config config.yaml] [--output-dir runs]`
 *
 * Regenerates the charts, the clean summary and the report of a run from its
 * `<output_dir>/<run_label>_summary.json`, without sending any request; the `report:` section
 * of config.yaml is read again, so edits to it (hardware_env, num_nodes, template) apply.
 * Without a config.yaml (and no --config), the report settings stored in the summary are used.
 */
import { existsSync } from 'node:fs';
import { relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from '../core/config/load-config.ts';
import { ConfigError, OutputPathError, SummaryFileError } from '../core/errors.ts';
import { outputDir, outputFile } from '../core/model/outputs.ts';
import { readRunSummary } from '../core/model/read-summary.ts';
import { AnalysisWriteError, writeAnalysisOutputs } from '../reporters/write/write-analysis.ts';

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
  // An explicit --config must load; the default one is optional (the summary keeps its report settings).
  const defaultConfig = resolve(root, process.env.LOADBENCH_CONFIG || 'config.yaml');
  const config = values.config || existsSync(defaultConfig) ? loadConfig(values.config, root).config : undefined;
  const dir = values['output-dir'] ?? config?.output_dir ?? 'runs';
  const summary = await readRunSummary(outputFile(root, dir, label, 'summaryJson'));
  if (config) summary.report = config.report;
  else process.stderr.write(`loadbench: no ${relative(root, defaultConfig)}: using the report settings stored in the summary\n`);
  const written = await writeAnalysisOutputs(summary, {
    outputDir: outputDir(root, dir),
    runLabel: label,
    projectRoot: root,
    templatePath: summary.report.template,
  });
  process.stdout.write(`loadbench: regenerated ${written.map((p) => relative(root, p)).join(', ')}\n`);
  return 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    if (error instanceof ConfigError) {
      process.stderr.write(`loadbench: ${error.file}: invalid configuration:\n${error.problems.map((p) => `  - ${p}`).join('\n')}\n`);
    } else if (error instanceof AnalysisWriteError) {
      if (error.written.length) process.stdout.write(`loadbench: regenerated ${error.written.map((p) => relative(process.cwd(), p)).join(', ')}\n`);
      process.stderr.write(`loadbench: could not write ${error.message}\n`);
      process.exit(1);
    } else if (error instanceof SummaryFileError || error instanceof OutputPathError) {
      process.stderr.write(`loadbench: ${error.message}\n`);
    } else if (String((error as { code?: string }).code).startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`loadbench: ${(error as Error).message}\n${USAGE}\n`);
    } else {
      process.stderr.write(`loadbench: ${String((error as Error).stack ?? error)}\n`);
    }
    process.exit(2);
  },
);
