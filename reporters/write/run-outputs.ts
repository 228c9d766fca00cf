import { appendFile, stat } from 'node:fs/promises';
import { collapseRepetitions } from '../../core/model/build-summary.ts';
import { cpus } from 'node:os';
import { outputDir, outputFile, outputName, scalingPrefix, type RunOutputs } from '../../core/model/outputs.ts';
import { comparisonLines, writeComparison } from '../compare/write-compare.ts';
import type { RunSummary } from '../../core/model/summary.ts';
import { formatAnnotations, formatStepSummary } from '../ci/github-actions.ts';
import { formatBaselineTable } from '../console/baseline-table.ts';
import { formatConsoleTable } from '../console/results-table.ts';
import { formatSummaryCsv } from '../csv/summary-csv.ts';
import { formatJunitXml } from '../junit/junit-xml.ts';
import { readEnvironment } from '../report/environment.ts';
import { buildReportView } from '../report/report-model.ts';
import { AnalysisWriteError, writeAnalysisOutputs } from './write-analysis.ts';
import { writeFileAtomic } from './write-atomic.ts';

/** Where a run's outputs go. */
export interface RunOutputsOptions {
  root: string;
  outputDir: string;
  runLabel: string;
  /** config.yaml `report.template`, relative to `root`. */
  templatePath?: string;
  /** Where CI settings are read (`GITHUB_ACTIONS`, `GITHUB_STEP_SUMMARY`); default: process.env. */
  env?: NodeJS.ProcessEnv;
  /** Where workflow commands (GitHub annotations) are printed; default: stdout, where GitHub reads them. */
  printCommand?: (line: string) => void;
}

/**
 * The standard outputs of a run (summary JSON and CSV after every level; clean CSV, charts and
 * report at the end; the console tables; the JUnit file, and on GitHub Actions the annotations
 * and the job summary, once the verdict is final), as the orchestrator's {@link RunOutputs}. Thin
 * I/O around the pure formatters.
 */
export function createRunOutputs(options: RunOutputsOptions): RunOutputs {
  const file = (output: Parameters<typeof outputFile>[3]): string => outputFile(options.root, options.outputDir, options.runLabel, output);
  return {
    async writeData(summary: RunSummary): Promise<string[]> {
      const json = file('summaryJson');
      await writeFileAtomic(json, `${JSON.stringify(summary, null, 1)}\n`);
      const csv = file('summaryCsv');
      await writeFileAtomic(csv, formatSummaryCsv(summary));
      return [json, csv];
    },
    async writeAnalysis(summary: RunSummary) {
      const written: string[] = [];
      const raw = file('raw');
      if (await isFile(raw)) written.push(raw);
      try {
        written.push(
          ...(await writeAnalysisOutputs(summary, {
            outputDir: outputDir(options.root, options.outputDir),
            runLabel: options.runLabel,
            projectRoot: options.root,
            templatePath: options.templatePath,
          })),
        );
        return { written, problems: [] };
      } catch (error) {
        if (error instanceof AnalysisWriteError) return { written: [...written, ...error.written], problems: [error.message] };
        return { written, problems: [(error as Error).message] };
      }
    },
    async publish(summary: RunSummary) {
      const written: string[] = [];
      const problems: string[] = [];
      const junit = file('junit');
      try {
        await writeFileAtomic(junit, formatJunitXml(summary));
        written.push(junit);
      } catch (error) {
        problems.push(`${outputName(options.runLabel, 'junit')}: ${(error as Error).message}`);
      }
      const env = options.env ?? process.env;
      if (env.GITHUB_ACTIONS === 'true') {
        const print = options.printCommand ?? ((line: string) => process.stdout.write(`${line}\n`));
        for (const line of formatAnnotations(summary)) print(line);
        const stepSummary = env.GITHUB_STEP_SUMMARY;
        if (stepSummary) {
          try {
            const collapsed = collapseRepetitions(summary);
            await appendFile(stepSummary, formatStepSummary(summary, buildReportView(collapsed, readEnvironment(collapsed, options.root))));
          } catch (error) {
            problems.push(`the GitHub job summary (GITHUB_STEP_SUMMARY=${stepSummary}): ${(error as Error).message}`);
          }
        }
      }
      return { written, problems };
    },
    async writeScaling(runs, sweepLabel) {
      try {
        // The machine's core count as the runs measured it, else this machine's.
        const cores = runs
          .flatMap((r) => r.summary.scenarios.flatMap((s) => s.levels))
          .map((l) => (l.status !== 'skipped' && l.resources?.available ? l.resources.machine?.cores : undefined))
          .find((c) => c !== undefined);
        const { comparison, written } = await writeComparison(
          runs.map((r) => ({ label: r.label, summary: r.summary, replicas: r.replicas, replicasFrom: 'scaling sweep' as const })),
          { dir: outputDir(options.root, options.outputDir), prefix: scalingPrefix(sweepLabel), cpuCount: cores ?? cpus().length },
        );
        return { written, problems: [], lines: comparisonLines(comparison) };
      } catch (error) {
        return { written: [], problems: [`${scalingPrefix(sweepLabel)}_*: ${(error as Error).message}`], lines: [] };
      }
    },
    endText(summary: RunSummary): string[] {
      const out = [formatConsoleTable(summary)];
      if (summary.baseline?.verdicts.length || summary.baseline?.applicability?.reasons.length) out.push('', formatBaselineTable(summary.baseline));
      return out;
    },
  };
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}
