/**
 * Writes a comparison of runs: overlay charts, a CSV and the Markdown report, `<dir>/<prefix>_*`.
 * Shared by `loadbench compare` and the scaling sweep (`<run_label>_scaling_*`, issue 16). Thin I/O.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import Mustache from 'mustache';
import { COMPARE_OUTPUTS } from '../../core/model/outputs.ts';
import { renderChartPng } from '../charts/render-chart.ts';
import { writeFileAtomic } from '../write/write-atomic.ts';
import { compareRuns, type CompareInput, type Comparison } from './compare-model.ts';
import { compareCharts, compareReportView, formatCompareCsv } from './compare-outputs.ts';

const TEMPLATE = new URL('../templates/compare.md.mustache', import.meta.url);

/** Compares the runs and writes every comparison file; returns the comparison and the paths written. */
export async function writeComparison(inputs: CompareInput[], options: { dir: string; prefix: string; cpuCount: number }): Promise<{ comparison: Comparison; written: string[] }> {
  const comparison = compareRuns(inputs, options.cpuCount);
  const written: string[] = [];
  const put = async (suffix: string, data: string | Buffer): Promise<void> => {
    const path = join(options.dir, `${options.prefix}${suffix}`);
    await writeFileAtomic(path, data);
    written.push(path);
  };
  const charts = compareCharts(comparison);
  await put(COMPARE_OUTPUTS.throughputChart, renderChartPng(charts.throughput));
  await put(COMPARE_OUTPUTS.latencyChart, renderChartPng(charts.p95_latency));
  await put(COMPARE_OUTPUTS.errorRateChart, renderChartPng(charts.error_rate));
  await put(COMPARE_OUTPUTS.summaryCsv, formatCompareCsv(comparison));
  await put(COMPARE_OUTPUTS.report, Mustache.render(await readFile(TEMPLATE, 'utf8'), compareReportView(comparison, options.prefix)));
  return { comparison, written };
}

/** The lines a comparison prints: its scaling verdicts, differences and caveats. */
export function comparisonLines(c: Comparison): string[] {
  return [...c.scaling, ...c.differences.map((l) => `note: ${l}`), ...c.caveats.map((l) => `caveat: ${l}`)];
}
