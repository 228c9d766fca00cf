/**
 * The failure lines of a run, level by level: what CI outputs (JUnit testcases, GitHub
 * annotations) attach to a scenario's level, and what is left for the run as a whole. Pure.
 */
import { isMeasured, type LevelResult, type RunSummary, type ScenarioSummary } from '../../core/model/summary.ts';
import { FAILED_TO_RUN, describeBaselineFailures, describeLevelError, describeSloFailures } from '../../core/model/verdict-lines.ts';

/** One level of a scenario (its repetitions together) and the lines of its verdict. */
export interface LevelFailures {
  scenario: ScenarioSummary;
  concurrency: number;
  /** The level's results, one per repetition, in order. */
  results: LevelResult[];
  /** Broken SLO lines, each with the repetition it is about (undefined without repetitions). */
  slo: { line: string; repetition?: number }[];
  /** Baseline regression lines (the gate judges the median of the repetitions). */
  baseline: string[];
  /** The lines of repetitions that could not run (an unexpected error). */
  errors: { line: string; repetition?: number }[];
}

/** Every level of every scenario, in the summary's order, with its failure lines. */
export function levelFailures(summary: RunSummary): LevelFailures[] {
  return summary.scenarios.flatMap((scenario) => {
    const byLevel = new Map<number, LevelResult[]>();
    for (const l of scenario.levels) byLevel.set(l.concurrency, [...(byLevel.get(l.concurrency) ?? []), l]);
    return [...byLevel.entries()].map(([concurrency, results]): LevelFailures => {
      // The level as messages name it (an open-loop level by its rate).
      const ref = results[0]!;
      const slo: LevelFailures['slo'] = [];
      const errors: LevelFailures['errors'] = [];
      for (const l of results) {
        if (isMeasured(l)) {
          for (const line of describeSloFailures(scenario.name, ref, l.slo)) slo.push({ line, repetition: l.repetition });
        } else if (l.reason.startsWith(FAILED_TO_RUN)) {
          errors.push({ line: describeLevelError(scenario.name, ref, l.reason.slice(FAILED_TO_RUN.length).replace(/^: /, '')), repetition: l.repetition });
        }
      }
      const verdicts = (summary.baseline?.verdicts ?? []).filter((v) => v.scenario === scenario.name && v.concurrency === concurrency);
      return { scenario, concurrency, results, slo, baseline: describeBaselineFailures(verdicts), errors };
    });
  });
}

/** The outcome's failure lines that belong to no level: a missing baseline file, an output that could not be written. */
export function runFailures(summary: RunSummary, levels: readonly LevelFailures[] = levelFailures(summary)): string[] {
  const ofLevels = new Set(levels.flatMap((l) => [...l.slo.map((x) => x.line), ...l.baseline, ...l.errors.map((x) => x.line)]));
  return (summary.outcome?.failures ?? []).filter((line) => !ofLevels.has(line));
}
