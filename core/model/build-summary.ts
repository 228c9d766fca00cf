import {
  SUMMARY_FORMAT,
  SUMMARY_FORMAT_VERSION,
  isMeasured,
  type LevelResult,
  type RunSummary,
  type ScenarioSnapshot,
  type ScenarioSummary,
} from './summary.ts';

/** One level result with the scenario it belongs to. */
export interface LevelRecord {
  scenario: ScenarioSnapshot;
  level: LevelResult;
  /** In a scaling sweep, the replica count it ran at: which run it belongs to (issue 16). */
  replicas?: number;
}

/** Inputs of {@link buildRunSummary} besides the level results. */
export interface RunInfo {
  runLabel: string;
  startedAt: Date;
  finishedAt: Date;
  interrupted: boolean;
  report: RunSummary['report'];
}

/**
 * Groups level results into a run summary: scenarios in the order they first reported,
 * levels sorted by concurrency, then repetition. Pure.
 */
export function buildRunSummary(records: readonly LevelRecord[], info: RunInfo): RunSummary {
  const scenarios = new Map<string, ScenarioSummary>();
  for (const { scenario, level } of records) {
    const key = `${scenario.file}\u0000${scenario.name}`;
    let s = scenarios.get(key);
    if (!s) scenarios.set(key, (s = { ...scenario, levels: [] }));
    s.levels.push(level);
  }
  for (const s of scenarios.values()) {
    s.levels.sort((a, b) => a.concurrency - b.concurrency || (a.repetition ?? 1) - (b.repetition ?? 1));
  }
  return {
    format: SUMMARY_FORMAT,
    version: SUMMARY_FORMAT_VERSION,
    run_label: info.runLabel,
    started_at: info.startedAt.toISOString(),
    finished_at: info.finishedAt.toISOString(),
    interrupted: info.interrupted,
    report: info.report,
    scenarios: [...scenarios.values()],
  };
}

/**
 * With `repetitions` > 1 a level appears once per repetition; charts, findings and the report
 * use one representative per level: the measured repetition with the median throughput (a
 * level whose every repetition was skipped keeps its first). Pure.
 */
export function collapseRepetitions(summary: RunSummary): RunSummary {
  return {
    ...summary,
    scenarios: summary.scenarios.map((s) => {
      const byLevel = new Map<number, LevelResult[]>();
      for (const l of s.levels) byLevel.set(l.concurrency, [...(byLevel.get(l.concurrency) ?? []), l]);
      const levels = [...byLevel.values()].map((reps) => {
        const measured = reps.filter(isMeasured);
        if (measured.length === 0) return reps[0]!;
        const sorted = [...measured].sort((a, b) => a.throughput_rps - b.throughput_rps);
        return sorted[Math.floor((sorted.length - 1) / 2)]!;
      });
      return { ...s, levels: levels.sort((a, b) => a.concurrency - b.concurrency) };
    }),
  };
}
