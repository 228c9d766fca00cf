import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { measuredLevels } from '../../core/model/summary.ts';
import type { RunSummary } from '../../core/model/summary.ts';
import { fixtureProject } from '../helpers/fixture-project.ts';
import { startServer, type TestServer } from '../helpers/servers.ts';

let server: TestServer;
beforeAll(async () => {
  server = await startServer((_n, _req, res) => res.end('{"ok":true}'));
});
afterAll(() => server.close());

describe('generator_threads in a bench run', () => {
  it('spreads each level over worker threads inside `vitest bench` and writes one summary and one raw CSV', { timeout: 60_000 }, async () => {
    const p = fixtureProject(
      `run_label: threads
target: { url: "${server.url}", method: POST }
workload: { concurrency_levels: [4, 8], requests_per_level: 2000, generator_threads: 2 }
`,
      { 'submit.bench.ts': `import { scenario } from SCENARIO;\nscenario('submit', { payload: { n: 1 } });\n` },
    );
    try {
      const { code, output } = await p.runBench();
      expect(code, output).toBe(0);
      const summary = JSON.parse(readFileSync(join(p.dir, 'runs/threads_summary.json'), 'utf8')) as RunSummary;
      const levels = measuredLevels(summary.scenarios[0]!);
      expect(levels.map((l) => [l.concurrency, l.requests, l.successes, l.generator.threads])).toEqual([
        [4, 2000, 2000, 2],
        [8, 2000, 2000, 2],
      ]);
      const raw = readFileSync(join(p.dir, 'runs/threads_raw.csv'), 'utf8').trim().split('\n');
      expect(raw.filter((l) => l.startsWith('scenario,'))).toHaveLength(1);
      expect(raw).toHaveLength(1 + 4000);
    } finally {
      rmSync(p.dir, { recursive: true, force: true });
    }
  });
});
