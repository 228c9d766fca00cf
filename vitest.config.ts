import { defineConfig } from 'vitest/config';
import { loadbench } from 'loadbench/plugin';

/**
 * Tests that assert timing to the millisecond (an open-loop level's schedule lag) run alone, after
 * every other test file: files running beside them would share the machine's cores and delay their
 * event loop, which is what they measure.
 */
const TIMING = ['test/engine/open-loop.test.ts'];

// `vitest bench` (mode "benchmark") gets no projects: each project would collect benches/ again,
// and the sweep would run once per project.
export default defineConfig(({ mode }) =>
  mode === 'benchmark'
    ? { plugins: [loadbench()] }
    : {
        plugins: [loadbench()],
        test: {
          globalSetup: ['test/setup/scratch-tmpdir.ts'],
          testTimeout: 60_000,
          hookTimeout: 60_000,
          projects: [
            { extends: true, test: { name: 'unit', include: ['test/**/*.test.ts', 'examples/**/*.test.ts'], exclude: [...TIMING, '**/node_modules/**'] } },
            { extends: true, test: { name: 'timing', include: TIMING, fileParallelism: false, sequence: { groupOrder: 1 } } },
          ],
        },
      },
);
