import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import Mustache from 'mustache';
import { collapseRepetitions } from '../../core/model/build-summary.ts';
import { outputName, type RunOutput } from '../../core/model/outputs.ts';
import type { RunSummary } from '../../core/model/summary.ts';
import { errorRateChart, latencyChart, latencyDistributionChart, throughputChart } from '../charts/run-charts.ts';
import { timelineChart } from '../charts/timeline.ts';
import { resourcesChart } from '../charts/resources-chart.ts';
import { hasResources } from '../report/report-model.ts';
import { renderChartPng } from '../charts/render-chart.ts';
import { formatCleanSummaryCsv } from '../csv/clean-csv.ts';
import { readEnvironment } from '../report/environment.ts';
import { escapeMarkdown } from '../report/markdown.ts';
import { buildReportView } from '../report/report-model.ts';
import { writeFileAtomic } from './write-atomic.ts';

/** Where the analysis files go and how the report is rendered. */
export interface AnalysisOptions {
  outputDir: string;
  runLabel: string;
  projectRoot: string;
  /**
   * A Mustache template replacing the built-in report (config.yaml `report.template`), relative
   * to `projectRoot`; default: the summary's `report.template`, else the built-in one.
   */
  templatePath?: string;
}

/** The built-in report template. */
export const DEFAULT_TEMPLATE = new URL('../templates/report.md.mustache', import.meta.url);

/** Renders the report Markdown: `{{x}}` is Markdown-escaped, `{{{x}}}` is pre-built Markdown. Pure. */
export function renderReport(template: string, view: object): string {
  return Mustache.render(template, view, {}, { escape: (v: unknown) => escapeMarkdown(String(v), 10_000) });
}

async function readTemplate(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    throw new Error(`report template ${path}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message} (config.yaml report.template)`);
  }
}

/** Some analysis files could not be written; `written` lists those that were. */
export class AnalysisWriteError extends Error {
  constructor(
    message: string,
    readonly written: string[],
  ) {
    super(message);
  }
}

/**
 * Writes the clean summary, the five charts and the report of a run. Thin I/O: every content
 * comes from a pure function. A level run several times (`repetitions`) is represented by its
 * median-throughput repetition everywhere but on the timeline, which shows the whole run.
 * Returns the written paths.
 */
export async function writeAnalysisOutputs(fullSummary: RunSummary, options: AnalysisOptions): Promise<string[]> {
  const summary = collapseRepetitions(fullSummary);
  const file = (output: RunOutput): string => join(options.outputDir, outputName(options.runLabel, output));
  const written: string[] = [];
  const problems: string[] = [];
  // One file failing (a bad template, a chart) must not cost the others.
  const put = async (output: RunOutput, make: () => string | Buffer | Promise<string | Buffer>): Promise<void> => {
    try {
      await writeFileAtomic(file(output), await make());
      written.push(file(output));
    } catch (error) {
      problems.push(`${outputName(options.runLabel, output)}: ${(error as Error).message}`);
    }
  };
  await put('cleanCsv', () => formatCleanSummaryCsv(summary));
  await put('throughputChart', () => renderChartPng(throughputChart(summary)));
  await put('latencyChart', () => renderChartPng(latencyChart(summary)));
  await put('errorRateChart', () => renderChartPng(errorRateChart(summary)));
  await put('distributionChart', () => renderChartPng(latencyDistributionChart(summary)));
  // The timeline shows the whole run, every repetition included.
  await put('timelineChart', () => renderChartPng(timelineChart(fullSummary)));
  // Issue 16: only when the run has resource figures (Linux); elsewhere the report says they are unavailable.
  if (hasResources(summary)) await put('resourcesChart', () => renderChartPng(resourcesChart(summary)));
  await put('report', async () => {
    const templatePath = options.templatePath ?? summary.report.template;
    const template = templatePath ? await readTemplate(resolve(options.projectRoot, templatePath)) : await readFile(DEFAULT_TEMPLATE, 'utf8');
    return renderReport(template, buildReportView(summary, readEnvironment(summary, options.projectRoot)));
  });
  if (problems.length) throw new AnalysisWriteError(problems.join('; '), written);
  return written;
}
