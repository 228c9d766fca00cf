import { describe, expect, it } from 'vitest';
import { TestRunner } from 'vitest';
import { deferVitestSignalExit, META_KEY, RUN_ONCE, readLevelMeta } from '../../plugin/vitest-internals.ts';
import type { TestCase } from 'vitest/node';

// These assumptions about Vitest 4.1 internals are what loadbench's bench mode rests on. If one
// breaks (Vitest 5 changes bench mode), this file and test/e2e fail loudly: fix plugin/vitest-internals.ts.
describe('Vitest internals loadbench relies on', () => {
  it('exposes the current suite for capturing bench tasks at collection time', () => {
    expect(typeof TestRunner.getCurrentSuite).toBe('function');
    const suite = TestRunner.getCurrentSuite();
    expect(Array.isArray(suite.tasks)).toBe(true);
  });

  it('runs a bench function exactly once with RUN_ONCE options', () => {
    expect(RUN_ONCE).toEqual({ iterations: 1, time: 0, warmupIterations: 0, warmupTime: 0 });
  });

  it('reads the level result from a reporter test case meta', () => {
    const meta = { scenario: { name: 's' }, level: { concurrency: 4 } };
    const testCase = { meta: () => ({ [META_KEY]: meta }) } as unknown as TestCase;
    expect(readLevelMeta(testCase)).toBe(meta);
    expect(readLevelMeta({ meta: () => ({}) } as unknown as TestCase)).toBeUndefined();
  });

  it("runs loadbench's handler before Vitest's own signal listener, then Vitest's with the signal number", async () => {
    const saved = { SIGINT: process.listeners('SIGINT'), SIGTERM: process.listeners('SIGTERM') };
    process.removeAllListeners('SIGINT');
    process.removeAllListeners('SIGTERM');
    const order: string[] = [];
    process.on('SIGTERM', (signal: string, n?: number) => order.push(`vitest ${signal} ${n}`));
    try {
      let release!: () => void;
      deferVitestSignalExit(async (signal) => {
        order.push(`loadbench ${signal}`);
        await new Promise<void>((r) => (release = r));
      });
      process.emit('SIGTERM', 'SIGTERM');
      await new Promise((r) => setTimeout(r, 10));
      expect(order).toEqual(['loadbench SIGTERM']);
      release();
      await new Promise((r) => setTimeout(r, 10));
      expect(order).toEqual(['loadbench SIGTERM', 'vitest SIGTERM 15']);
    } finally {
      process.removeAllListeners('SIGINT');
      process.removeAllListeners('SIGTERM');
      for (const l of saved.SIGINT) process.on('SIGINT', l as () => void);
      for (const l of saved.SIGTERM) process.on('SIGTERM', l as () => void);
    }
  });
});
