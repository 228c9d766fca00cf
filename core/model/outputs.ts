import { isAbsolute, join, relative, resolve } from 'node:path';
import { OutputPathError } from '../errors.ts';
import type { RunSummary } from './summary.ts';

/**
 * Every file a run writes, by key: `<output_dir>/<run_label><suffix>`. The one list of output
 * names: the archive of a previous run, the writers, the report's figures and the comparison
 * all read it, so a new output is added here once.
 */
export const RUN_OUTPUTS = {
  raw: '_raw.csv',
  summaryCsv: '_summary.csv',
  summaryJson: '_summary.json',
  cleanCsv: '_summary_clean.csv',
  throughputChart: '_throughput.png',
  latencyChart: '_p95_latency.png',
  errorRateChart: '_error_rate.png',
  distributionChart: '_latency_distribution.png',
  timelineChart: '_timeline.png',
  report: '_report.md',
  junit: '_junit.xml',
  // Resources of the system under test (issue 16).
  resourcesChart: '_resources.png',
} as const;

/** A key of {@link RUN_OUTPUTS}. */
export type RunOutput = keyof typeof RUN_OUTPUTS;

/** Every file-name suffix a run writes; only these are archived, so other labels' files are never touched. */
export const RUN_OUTPUT_SUFFIXES: readonly string[] = Object.values(RUN_OUTPUTS);

/** The charts of a run, in the order the report shows them, with the report's caption. */
export const RUN_CHARTS: readonly { output: RunOutput; title: string }[] = [
  { output: 'throughputChart', title: 'Throughput vs concurrency' },
  { output: 'latencyChart', title: 'p95 latency vs concurrency (p50, p99 thinner; SLO dashed)' },
  { output: 'errorRateChart', title: 'Error rate by category vs concurrency' },
  { output: 'distributionChart', title: 'Latency distribution (percentile curves) per level' },
  { output: 'timelineChart', title: 'Throughput and p95 per second over the run' },
  // Issue 16; the report leaves it out when the run has no resource figures.
  { output: 'resourcesChart', title: 'CPU cores per process of the system under test vs concurrency' },
];

/** The files of a comparison of runs: `<output_dir>/compare_<labels><suffix>`. */
export const COMPARE_OUTPUTS = {
  throughputChart: '_throughput.png',
  latencyChart: '_p95_latency.png',
  errorRateChart: '_error_rate.png',
  summaryCsv: '_summary.csv',
  report: '_report.md',
} as const;

/** One replica count of a scaling sweep, measured (issue 16). */
export interface ScalingRunResult {
  label: string;
  replicas: number;
  summary: RunSummary;
}

/** The prefix of a scaling sweep's comparison files: `<sweep_label>_scaling`. */
export function scalingPrefix(sweepLabel: string): string {
  return `${sweepLabel}_scaling`;
}

// --- A/B gate (`loadbench ab`): besides `<prefix>_base_*` and `<prefix>_head_*` (each side's run outputs).
/** The files of an A/B comparison: `<output_dir>/ab_<base>_<head><suffix>`. */
export const AB_OUTPUTS = {
  throughputChart: '_throughput.png',
  latencyChart: '_p95_latency.png',
  summaryCsv: '_summary.csv',
  verdictJson: '_verdict.json',
  report: '_report.md',
} as const;

/** Letters, digits, ".", "_" and "-": the run labels that are safe file-name prefixes everywhere. */
export const SAFE_LABEL = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;

/**
 * Absolute output folder, refused when it would leave the project root
 * (config validation already refuses ".." and absolute paths; this is the last guard).
 * @throws OutputPathError
 */
export function outputDir(root: string, dir: string): string {
  const abs = resolve(root, dir);
  const rel = relative(root, abs);
  if (rel.startsWith('..') || isAbsolute(rel)) {
    throw new OutputPathError(`output_dir "${dir}" resolves outside the project (${abs}): use a folder inside it, e.g. runs`);
  }
  return abs;
}

/** The file name of one output of a run, e.g. `baseline_raw.csv`. */
export function outputName(runLabel: string, output: RunOutput): string {
  return `${runLabel}${RUN_OUTPUTS[output]}`;
}

/**
 * `<output_dir>/<run_label><suffix>` of one output.
 * @throws OutputPathError for a label that is not a safe file name or a folder outside the project
 */
export function outputFile(root: string, dir: string, runLabel: string, output: RunOutput): string {
  if (!SAFE_LABEL.test(runLabel)) {
    throw new OutputPathError(
      `run label "${runLabel}" is not a safe file name: use letters, digits, ".", "_" or "-" (no "/", "..", spaces)`,
    );
  }
  return join(outputDir(root, dir), outputName(runLabel, output));
}

/**
 * The outputs of a run, written by the reporters: the orchestrator decides when, they decide how.
 * Injected so that the core never depends on a formatter.
 */
export interface RunOutputs {
  /** Writes the data files (summary JSON and CSV) of what was measured so far; returns the paths written. */
  writeData(summary: RunSummary): Promise<string[]>;
  /** Writes every other output (raw CSV listed, clean CSV, charts, report): the paths written, and one line per file that could not be. */
  writeAnalysis(summary: RunSummary): Promise<{ written: string[]; problems: string[] }>;
  /** The end-of-run text: the results table, the baseline table. */
  endText(summary: RunSummary): string[];
  /**
   * Writes the comparison of the runs of a scaling sweep (issue 16), `<output_dir>/<sweep_label>_scaling_*`:
   * the outputs of `loadbench compare`. The paths written, and one line per file that could not be.
   */
  writeScaling?(runs: readonly ScalingRunResult[], sweepLabel: string): Promise<{ written: string[]; problems: string[]; lines: string[] }>;
  /**
   * Publishes the verdict of the finished run (its `outcome` final) where CI reads it: the JUnit
   * file and, on GitHub Actions, annotations and the step summary. The paths written, and one
   * line per output that could not be.
   */
  publish(summary: RunSummary): Promise<{ written: string[]; problems: string[] }>;
}
