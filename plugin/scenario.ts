/**
 * `scenario()`: turns a scenario into Vitest bench tasks, one per level (and repetition), run in
 * order in the bench process. Each task runs its level through the core's ScenarioRunner and
 * hands the result to the main process in its task meta; the verdict, the outputs and the exit
 * status are the orchestrator's (plugin/vitest-reporter.ts). A task never throws: Vitest would
 * report a thrown error as an unhandled rejection beside a pass mark.
 */
import { relative } from 'node:path';
import type * as Vitest from 'vitest';
import { loadConfig } from '../core/config/load-config.ts';
import { outputFile } from '../core/model/outputs.ts';
import { runLabelOf } from '../core/run/orchestrator.ts';
import { interruptSignal } from '../core/run/interrupt.ts';
import { ScenarioRunner } from '../core/run/scenario-runner.ts';
import { collectScenario, isCollecting } from '../core/scenario/collect.ts';
import type { ScenarioOptions } from '../core/scenario/options.ts';
import { levelRuns, resolveScenario, scenarioSnapshot, type LevelRun } from '../core/scenario/resolve.ts';
import { connectBenchChannel, type BenchChannel } from './bench-channel.ts';
import type { ProvidedLoadbench } from './provided.ts';
import { RUN_ONCE, benchFileCallSite, captureLastTask, type TaskHandle } from './vitest-internals.ts';

// Vitest is loaded only in a Vitest worker (where bench files run; VITEST_WORKER_ID is set only
// there): `import { runSweep } from 'loadbench'` in a plain Node script must work without it.
const vitest: typeof Vitest | undefined = process.env.VITEST_WORKER_ID !== undefined ? await import('vitest') : undefined;

/** Reads the config the plugin provided, or loads config.yaml when the plugin is not in use. */
function providedConfig(v: typeof Vitest): ProvidedLoadbench {
  let provided: ProvidedLoadbench | undefined;
  try {
    provided = v.inject('loadbench');
  } catch {
    provided = undefined;
  }
  if (provided) return provided;
  const loaded = loadConfig();
  return { config: loaded.config, configPath: loaded.path, root: process.cwd() };
}

let channel: BenchChannel | undefined;

/** This bench process's channel to the main process (one per process), or none without the plugin. */
function benchChannel(provided: ProvidedLoadbench): BenchChannel | undefined {
  if (!provided.benchSocket) return undefined;
  return (channel ??= connectBenchChannel(provided.benchSocket));
}

/** The task name of a level run, e.g. `concurrency 8`, `concurrency 8 (rep 2/3)` or, open loop, `200 req/s`. */
export function levelTaskName(run: LevelRun, repetitions: number): string {
  const name = run.rateRps !== undefined ? `${run.rateRps} req/s` : `concurrency ${run.concurrency}`;
  return run.repetition ? `${name} (rep ${run.repetition}/${repetitions})` : name;
}

/**
 * Declares a load scenario: one Vitest bench task per concurrency level (and repetition), run in
 * order. Every option overrides the same key of config.yaml; bad options stop the file with one
 * line per problem. A level that breaks its SLO or the baseline is a failed task, with the
 * verdict's line, and makes `vitest bench` exit 1.
 * @throws ConfigError naming the scenario and each bad option
 */
export function scenario(name: string, options: ScenarioOptions = {}): void {
  // `loadbench ab` imports bench files to run their scenarios itself (core/scenario/collect.ts).
  if (isCollecting()) return collectScenario(name, options);
  if (!vitest) {
    throw new Error('loadbench: scenario() declares Vitest bench tasks: run its file with `npx vitest bench`, or use runSweep() to run scenarios without Vitest');
  }
  const v = vitest;
  const provided = providedConfig(v);
  const { config, root } = provided;
  const s = resolveScenario(name, options, config);
  const runner = new ScenarioRunner(s, (run) => outputFile(root, config.output_dir, runLabelOf(config, run.replicas), 'raw'));
  const runs = levelRuns(s);
  // The scenario() call in its bench file: where CI annotations of its broken SLOs point.
  const callSite = benchFileCallSite();
  // A scaling sweep: one suite per replica count inside the scenario's (`submit > 2x > concurrency 8`).
  const byReplicas = new Map<number | undefined, { run: LevelRun; index: number }[]>();
  runs.forEach((run, index) => byReplicas.set(run.replicas, [...(byReplicas.get(run.replicas) ?? []), { run, index }]));
  const declare = (entries: { run: LevelRun; index: number }[]): void => {
    entries.forEach(({ run, index }) => {
      let handle: TaskHandle | undefined;
      v.bench(
        levelTaskName(run, s.repetitions),
        async () => {
          const file = handle?.file();
          const snapshot = scenarioSnapshot(s, file ? relative(root, file) : '', callSite?.file === file ? callSite?.line : undefined);
          const to = benchChannel(provided);
          try {
            const level = await runner.run(
              run,
              {
                signal: interruptSignal(),
                onProgress: (event) => to?.send({ type: 'progress', event }),
                beforeLevel: () => to?.beforeLevel(snapshot, run) ?? Promise.resolve(),
              },
              index === runs.length - 1,
            );
            handle?.setMeta({ record: { scenario: snapshot, level, ...ScenarioRunner.replicasOf(run) } });
          } catch (error) {
            await runner.close();
            handle?.setMeta({ record: { scenario: snapshot, level: runner.skipped(run, 'failed to run'), ...ScenarioRunner.replicasOf(run) }, error: (error as Error).message });
          } finally {
            to?.send({ type: 'level-end' });
          }
        },
        RUN_ONCE,
      );
      handle = captureLastTask();
    });
  };
  v.describe(name, () => {
    for (const [replicas, entries] of byReplicas) {
      if (replicas === undefined) declare(entries);
      else v.describe(`${replicas}x`, () => declare(entries));
    }
  });
}
