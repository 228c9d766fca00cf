import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { GeneratorResult } from '../../perf/generator.ts';
import { REPO_ROOT } from '../helpers/fixture-project.ts';

describe('npm run perf -- --memory', () => {
  // The full check is 1,000,000 requests (npm run perf -- --memory); 200,000 keeps this test short.
  it('a level of 200,000 requests with the raw CSV on keeps the generator within 150 MB of its start', { timeout: 60_000 }, () => {
    const out = join(REPO_ROOT, `runs/.perf-memory-test-${process.pid}`);
    try {
      const r = spawnSync(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'perf/run-perf.ts'), '--memory', '--requests', '200000', '--output-dir', out], {
        cwd: REPO_ROOT,
        encoding: 'utf8',
        timeout: 55_000,
      });
      expect(r.status, r.stderr + r.stdout).toBe(0);
      const file = readdirSync(out).find((f) => f.endsWith('_memory.json'))!;
      const { result } = JSON.parse(readFileSync(join(out, file), 'utf8')) as { result: GeneratorResult };
      expect(result.requests).toBe(200_000);
      expect(result.errors).toBe(0);
      expect(result.rss_peak_mb - result.rss_start_mb).toBeLessThan(150);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
});
