import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import Mustache from 'mustache';
import type { RunSummary } from '../../plugin/types.ts';
import {
  errorRateChart,
  latencyChart,
  latencyDistributionChart,
  throughputChart,
  timelineChart,
} from '../charts/chart-configs.ts';
import { renderChartPng } from '../charts/render-chart.ts';
import { writeFileAtomic } from '../io/write-atomic.ts';
import { formatCleanSummaryCsv } from '../report/clean-summary-csv.ts';
import { readEnvironment } from '../report/environment.ts';
import { escapeMarkdown } from '../report/markdown.ts';
import { buildReportView } from '../report/report-model.ts';

/** Where the analysis files go and how the report is rendered. */
export interface AnalysisOptions {
  outputDir: string;
  runLabel: string;
  projectRoot: string;
  /** A Mustache template replacing the built-in report (config.yaml `report.template`). */
  templatePath?: string;
}

/** The built-in report template. */
export const DEFAULT_TEMPLATE = new URL('../templates/report.md.mustache', import.meta.url);

/** Renders the report Markdown: `{{x}}` is Markdown-escaped, `{{{x}}}` is pre-built Markdown. Pure. */
export function renderReport(template: string, view: object): string {
  return Mustache.render(template, view, {}, { escape: (v: unknown) => escapeMarkdown(String(v), 10_000) });
}

/**
 * Writes the clean summary, the five charts and the report of a run. Thin I/O: every content
 * comes from a pure function. Returns the written paths.
 */
export async function writeAnalysisOutputs(summary: RunSummary, options: AnalysisOptions): Promise<string[]> {
  const file = (suffix: string): string => join(options.outputDir, `${options.runLabel}${suffix}`);
  const written: string[] = [];
  const put = async (suffix: string, data: string | Buffer): Promise<void> => {
    await writeFileAtomic(file(suffix), data);
    written.push(file(suffix));
  };
  await put('_summary_clean.csv', formatCleanSummaryCsv(summary));
  await put('_throughput.png', renderChartPng(throughputChart(summary)));
  await put('_p95_latency.png', renderChartPng(latencyChart(summary)));
  await put('_error_rate.png', renderChartPng(errorRateChart(summary)));
  await put('_latency_distribution.png', renderChartPng(latencyDistributionChart(summary)));
  const timeline = timelineChart(summary);
  await put('_timeline.png', renderChartPng(timeline.config, undefined, undefined, timeline.markers));
  const template = options.templatePath
    ? await readFile(resolve(options.projectRoot, options.templatePath), 'utf8')
    : await readFile(DEFAULT_TEMPLATE, 'utf8');
  const view = buildReportView(summary, readEnvironment(summary, options.projectRoot));
  await put('_report.md', renderReport(template, view));
  return written;
}
