/**
 * The only module that touches Vitest internals (task capture at collection time, task meta,
 * reporter test cases). Vitest 5 changes bench mode; `test/vitest-internals.test.ts` and the
 * end-to-end fixture tests fail loudly when any of these assumptions breaks.
 */
import { fileURLToPath } from 'node:url';
import { experimental_getRunnerTask, type TestCase, type TestModule, type TestSuite } from 'vitest/node';
import { TestRunner } from 'vitest';
import type { LevelRecord } from '../core/model/build-summary.ts';

/** What a bench task carries to the main process: its level's result, or why it could not run. */
export interface LevelMeta {
  record: LevelRecord;
  /** Set when the level failed to run (an unexpected error in the engine); `record.level` is then skipped. */
  error?: string;
}

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

/** One frame of a V8 stack trace: `at fn (/path/file.ts:6:1)` or `at /path/file.ts:6:1` (paths may be file: URLs). */
const FRAME = /^\s*at (?:.*? \()?(.+?):(\d+):\d+\)?$/;

/**
 * Where the bench file being collected calls the function that calls this one: the first frame
 * of the current stack in that file, as Vitest itself locates tasks (`includeTaskLocation`).
 * Vitest source-maps the stack of a bench file, so the line is the one in the .ts source. Must be
 * called synchronously at collection time (e.g. from `scenario()`); undefined when not found.
 */
export function benchFileCallSite(): { file: string; line: number } | undefined {
  const file = TestRunner.getCurrentSuite()?.file?.filepath;
  if (!file) return undefined;
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 50;
  const stack = new Error('call site').stack ?? '';
  Error.stackTraceLimit = limit;
  for (const frame of stack.split('\n').slice(1)) {
    const match = FRAME.exec(frame);
    if (!match) continue;
    const path = match[1]!.startsWith('file://') ? fileURLToPath(match[1]!) : match[1]!;
    if (path === file) return { file, line: Number(match[2]) };
  }
  return undefined;
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
      'loadbench: could not capture the bench task after bench(); this Vitest version is not supported (loadbench supports Vitest 4.1)',
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

/**
 * On SIGINT/SIGTERM, Vitest's CLI exits the process about 1 ms after the signal, before any
 * reporter could write what was measured. This puts `beforeExit` in front of Vitest's own
 * signal listeners: they run once it settles, so the exit code (130/143) stays Vitest's.
 * Installed from a reporter's `onInit`, after Vitest registered its listeners.
 */
export function deferVitestSignalExit(beforeExit: (signal: NodeJS.Signals) => Promise<void>): void {
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    const theirs = process.listeners(signal) as ((s: NodeJS.Signals, n?: number) => void)[];
    process.removeAllListeners(signal);
    let handling = false;
    process.on(signal, (s: NodeJS.Signals) => {
      const number = s === 'SIGINT' ? 2 : 15;
      const exitNow = (): void => {
        for (const listener of theirs) listener(s, number);
        if (theirs.length === 0) process.exit(128 + number);
      };
      // A second signal while we wait means "now".
      if (handling) return exitNow();
      handling = true;
      void beforeExit(s).finally(exitNow);
    });
  }
}

/**
 * Makes a finished test, suite or module count as failed in Vitest's own state, with our verdict
 * as its error. Vitest's bench runner marks every task that returned as passed, and a throwing
 * task is reported as an unhandled rejection beside a pass mark; so the main process marks it,
 * in the hook where that task finished (a task's "finished" update is its last: marked any
 * earlier, a later update from the bench process would overwrite it). Vitest then fails the run
 * itself (exit code 1). Uses `experimental_getRunnerTask` (Vitest 4.1).
 */
export function markFailed(entity: TestCase | TestSuite | TestModule, messages: readonly string[] = []): void {
  const task = experimental_getRunnerTask(entity);
  const previous = task.result ?? { state: 'fail' as const };
  const errors = messages.map((message) => ({ name: 'LoadbenchVerdict', message, stack: '', stacks: [] }));
  task.result = { ...previous, state: 'fail', errors: [...(previous.errors ?? []), ...errors] };
}

/** Whether a suite or module holds a test that is failed (in Vitest's state, after {@link markFailed}). */
export function hasFailedTest(entity: TestSuite | TestModule): boolean {
  return !entity.children.allTests('failed').next().done;
}
