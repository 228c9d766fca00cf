import { defineConfig } from 'vitest/config';
import { loadbench } from 'loadbench/plugin';

// `npx vitest bench` runs benches/**/*.bench.ts as load tests with the defaults of config.yaml.
export default defineConfig({ plugins: [loadbench()] });
