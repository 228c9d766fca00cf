/**
 * loadbench's public API: `scenario()` for bench files run by `npx vitest bench` (with the
 * `loadbench/plugin` Vite plugin), and `runSweep()` to run the same sweep from any Node program.
 */
export { scenario } from './plugin/scenario.ts';
export { runSweep, type RunSweepOptions } from './api/run-sweep.ts';
export { ConfigError, LoadbenchError, OutputPathError, ShardMergeError, SummaryFileError, TargetError } from './core/errors.ts';
export type { LoadbenchConfig } from './core/config/schema.ts';
export type { ScenarioOptions, ScenarioSpec } from './core/scenario/options.ts';
export type { CheckResponse, PayloadContext, ProgressEvent } from './engine/types.ts';
export type {
  BaselineReport,
  LevelResult,
  MeasuredLevel,
  RunOutcome,
  RunSummary,
  ScenarioSummary,
  SkippedLevel,
  SloSpec,
} from './core/model/summary.ts';
// Resources of the system under test and the scaling sweep (issue 16).
export type { LevelResources, ProcessResources, ReplicaRun, RunResources } from './core/model/resources.ts';
