/**
 * `npm run compare -- <label> <label> [...] [--replicas 1,2,4] [--output-dir runs]`
 *
 * Reads the JSON summaries of two or more runs and writes overlay charts, a CSV and a Markdown
 * report `<output_dir>/compare_<labels>_*` on how throughput and latency scale between them.
 */
import { readFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import { join, relative } from 'node:path';
import { parseArgs } from 'node:util';
import Mustache from 'mustache';
import { OutputPathError, SummaryFileError } from '../core/errors.ts';
import { COMPARE_OUTPUTS, outputDir, outputFile } from '../core/model/outputs.ts';
import { readRunSummary } from '../core/model/read-summary.ts';
import { renderChartPng } from '../reporters/charts/render-chart.ts';
import { compareRuns, replicasFromNumNodes, type CompareInput } from '../reporters/compare/compare-model.ts';
import { compareCharts, compareReportView, formatCompareCsv } from '../reporters/compare/compare-outputs.ts';
import { writeFileAtomic } from '../reporters/write/write-atomic.ts';

const USAGE = 'usage: npm run compare -- <label> <label> [...] [--replicas 1,2,4] [--output-dir runs]';

class UsageError extends Error {}

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { replicas: { type: 'string' }, 'output-dir': { type: 'string' }, help: { type: 'boolean', short: 'h' } },
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (positionals.length < 2) throw new UsageError('give at least two run labels, e.g. 1x 2x 4x');
  const root = process.cwd();
  const dir = values['output-dir'] ?? 'runs';
  let replicas: number[] | undefined;
  if (values.replicas !== undefined) {
    replicas = values.replicas.split(',').map(Number);
    if (replicas.length !== positionals.length || replicas.some((r) => !Number.isInteger(r) || r < 1)) {
      throw new UsageError(`--replicas needs one positive integer per label (${positionals.length}), e.g. --replicas 1,2,4`);
    }
  }
  const inputs: CompareInput[] = [];
  for (const [i, label] of positionals.entries()) {
    const summary = await readRunSummary(outputFile(root, dir, label, 'summaryJson'));
    const fromNodes = replicasFromNumNodes(summary.report.num_nodes);
    inputs.push({
      label,
      summary,
      replicas: replicas?.[i] ?? fromNodes ?? 1,
      replicasFrom: replicas ? 'command line' : fromNodes !== undefined ? 'num_nodes' : 'unknown (assumed 1)',
    });
  }
  const comparison = compareRuns(inputs, cpus().length);
  const prefix = `compare_${positionals.join('_')}`;
  const out = outputDir(root, dir);
  const written: string[] = [];
  const put = async (suffix: string, data: string | Buffer): Promise<void> => {
    const path = join(out, `${prefix}${suffix}`);
    await writeFileAtomic(path, data);
    written.push(path);
  };
  const charts = compareCharts(comparison);
  await put(COMPARE_OUTPUTS.throughputChart, renderChartPng(charts.throughput));
  await put(COMPARE_OUTPUTS.latencyChart, renderChartPng(charts.p95_latency));
  await put(COMPARE_OUTPUTS.errorRateChart, renderChartPng(charts.error_rate));
  await put(COMPARE_OUTPUTS.summaryCsv, formatCompareCsv(comparison));
  const template = await readFile(new URL('../reporters/templates/compare.md.mustache', import.meta.url), 'utf8');
  await put(COMPARE_OUTPUTS.report, Mustache.render(template, compareReportView(comparison, prefix)));
  for (const line of comparison.scaling) process.stdout.write(`${line}\n`);
  for (const line of comparison.differences) process.stdout.write(`note: ${line}\n`);
  for (const line of comparison.caveats) process.stdout.write(`caveat: ${line}\n`);
  process.stdout.write(`loadbench: wrote ${written.map((p) => relative(root, p)).join(', ')}\n`);
  return 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    const known = error instanceof SummaryFileError || error instanceof UsageError || error instanceof OutputPathError;
    const code = (error as { code?: string }).code;
    if (known || code?.startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`loadbench compare: ${(error as Error).message}\n${USAGE}\n`);
    } else {
      process.stderr.write(`loadbench compare: ${String((error as Error).stack ?? error)}\n`);
    }
    process.exit(2);
  },
);
