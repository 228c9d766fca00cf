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
import { collapseRepetitions } from '../run-summary.ts';

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
  const file = (suffix: string): string => join(options.outputDir, `${options.runLabel}${suffix}`);
  const written: string[] = [];
  const problems: string[] = [];
  // One file failing (a bad template, a chart) must not cost the others.
  const put = async (suffix: string, make: () => string | Buffer | Promise<string | Buffer>): Promise<void> => {
    try {
      await writeFileAtomic(file(suffix), await make());
      written.push(file(suffix));
    } catch (error) {
      problems.push(`${options.runLabel}${suffix}: ${(error as Error).message}`);
    }
  };
  await put('_summary_clean.csv', () => formatCleanSummaryCsv(summary));
  await put('_throughput.png', () => renderChartPng(throughputChart(summary)));
  await put('_p95_latency.png', () => renderChartPng(latencyChart(summary)));
  await put('_error_rate.png', () => renderChartPng(errorRateChart(summary)));
  await put('_latency_distribution.png', () => renderChartPng(latencyDistributionChart(summary)));
  await put('_timeline.png', () => renderChartPng(timelineChart(fullSummary)));
  await put('_report.md', async () => {
    const templatePath = options.templatePath ?? summary.report.template;
    const template = templatePath ? await readTemplate(resolve(options.projectRoot, templatePath)) : await readFile(DEFAULT_TEMPLATE, 'utf8');
    return renderReport(template, buildReportView(summary, readEnvironment(summary, options.projectRoot)));
  });
  if (problems.length) throw new AnalysisWriteError(problems.join('; '), written);
  return written;
}
