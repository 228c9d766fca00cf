import { defineConfig } from 'vitest/config';
import { loadbench } from 'loadbench/plugin';

export default defineConfig({
  plugins: [loadbench()],
  test: {
    include: ['test/**/*.test.ts', 'examples/**/*.test.ts'],
    globalSetup: ['test/setup/scratch-tmpdir.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
