/**
 * The only module that touches Vitest internals (task capture at collection time, task meta,
 * reporter test cases). Vitest 5 changes bench mode; `test/vitest-internals.test.ts` and the
 * end-to-end fixture tests fail loudly when any of these assumptions breaks.
 */
import type { TestCase } from 'vitest/node';
import { TestRunner } from 'vitest';
import type { LevelMeta } from './types.ts';

/** Key under which a bench task carries its level result in `task.meta`. */
export const META_KEY = 'loadbench' as const;

declare module '@vitest/runner' {
  interface TaskMeta {
    loadbench?: LevelMeta;
  }
}

/** tinybench options that make it call a bench function exactly once, with no warm-up. */
export const RUN_ONCE = { iterations: 1, time: 0, warmupIterations: 0, warmupTime: 0 } as const;

/** A handle on a bench task, to attach its result once the level has run. */
export interface TaskHandle {
  setMeta(meta: LevelMeta): void;
  /** Absolute path of the bench file. */
  file(): string | undefined;
}

/**
 * Returns the task just created by `bench()`: the last entry of the current suite.
 * Must be called synchronously right after `bench()`, at collection time.
 */
export function captureLastTask(): TaskHandle {
  const suite = TestRunner.getCurrentSuite();
  const task = suite.tasks.at(-1);
  if (!task || task.type !== 'test') {
    throw new Error(
      'loadbench: could not capture the bench task after bench(); this Vitest version is not supported (see plugin/vitest-internals.ts)',
    );
  }
  return {
    setMeta(meta) {
      task.meta[META_KEY] = meta;
    },
    file() {
      return task.file?.filepath;
    },
  };
}

/** Reads the level result a bench task attached, in a reporter's `onTestCaseResult`. */
export function readLevelMeta(testCase: TestCase): LevelMeta | undefined {
  const meta = testCase.meta() as { [META_KEY]?: LevelMeta };
  return meta[META_KEY];
}
