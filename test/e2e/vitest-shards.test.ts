/**
 * Run shards through `npx vitest bench` (issue 15), as a pod or a CI matrix job runs them: two
 * shards of a fixture project with two bench files, one LOADBENCH_START_AT, then `loadbench merge`,
 * which judges the SLO the shards did not. Sends load: run under the machine lock,
 *   flock /tmp/loadbench-machine.lock npx vitest run test/e2e/vitest-shards.test.ts
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readRunSummary } from '../../core/model/read-summary.ts';
import { LEVEL_GAP_MS } from '../../core/shards/run-shard.ts';
import { levelStarts } from '../../core/shards/schedule.ts';
import { runLoadbench } from '../helpers/cli.ts';
import { fixtureProject } from '../helpers/fixture-project.ts';
import { startServer, type TestServer } from '../helpers/servers.ts';

let server: TestServer;
beforeAll(async () => {
  server = await startServer((_n, _req, res) => void setTimeout(() => res.end('ok'), 10));
});
afterAll(() => server.close());

const yaml = (over = ''): string => `run_label: dist
target: { url: "${server.url}", method: GET }
workload: { concurrency_levels: [1, 4], duration_seconds: 1, warmup_seconds: 0.2, timeout_seconds: 2 }
slo: { p95_ms: 2 }
${over}
`;
const benches = {
  'a.bench.ts': `import { scenario } from SCENARIO;\nscenario('first');\n`,
  'b.bench.ts': `import { scenario } from SCENARIO;\nscenario('second');\n`,
};

describe('run shards under npx vitest bench', () => {
  it('each shard follows the shared schedule across bench files and exits 0; the merge judges the SLO and exits 1', { timeout: 120_000 }, async () => {
    const p = fixtureProject(yaml(), benches);
    const startAtMs = Date.now() + 10_000;
    const startAt = String(startAtMs);
    const [one, two] = await Promise.all([p.runBench({ LOADBENCH_SHARD: '1/2', LOADBENCH_START_AT: startAt }), p.runBench({ LOADBENCH_SHARD: '2/2', LOADBENCH_START_AT: startAt })]);
    // A shard judges no SLO (p95 <= 2 ms cannot hold with 10 ms answers): it exits 0.
    expect(one.code, one.output).toBe(0);
    expect(two.code, two.output).toBe(0);
    expect(one.output).toContain('run shard 1 of 2: waiting for LOADBENCH_START_AT');
    const shards = await Promise.all([1, 2].map((i) => readRunSummary(join(p.dir, `runs/dist.shard-${i}-of-2_summary.json`))));
    // Four levels in two bench files (two processes): the same slots on both shards, from the one start time.
    const expected = levelStarts(startAtMs, [[0.2, 1], [0.2, 1], [0.2, 1], [0.2, 1]], LEVEL_GAP_MS);
    for (const s of shards) {
      const levels = s.scenarios.flatMap((x) => x.levels);
      expect(levels.map((l) => l.run_shard?.scheduled_at_ms)).toEqual(expected);
      expect(levels.map((l) => l.run_shard?.connections)).toEqual(s.run_shard!.index === 1 ? [1, 2, 1, 2] : [0, 2, 0, 2]);
      for (const l of levels) expect(l.status === 'skipped' || !l.slo.judged).toBe(true);
    }
    expect(shards[0]!.run_shard!.config_hash).toBe(shards[1]!.run_shard!.config_hash);

    const merge = runLoadbench(p.dir, ['merge', 'runs']);
    expect(merge.code, merge.stdout + merge.stderr).toBe(1);
    expect(merge.stdout).toMatch(/SLO failed: scenario "first" at concurrency 1: p95_ms = [\d.]+ ms, limit <= 2 ms/);
    const merged = await readRunSummary(join(p.dir, 'runs/dist_summary.json'));
    expect(merged.scenarios.map((s) => s.levels.map((l) => (l.status === 'skipped' ? l.status : `${l.concurrency}:${l.requests}`)))).toEqual(
      shards[0]!.scenarios.map((s, si) =>
        s.levels.map((l, li) => {
          const other = shards[1]!.scenarios[si]!.levels[li]!;
          const n = (x: typeof l): number => (x.status === 'skipped' ? 0 : x.requests);
          return `${l.concurrency}:${n(l) + n(other)}`;
        }),
      ),
    );
    expect(merged.outcome?.exit_code).toBe(1);
    expect(readFileSync(join(p.dir, 'runs/dist_junit.xml'), 'utf8')).toContain('<failure');
  });

  it('refuses stop_on_slo_failure in shard mode before any load, with one line', { timeout: 60_000 }, async () => {
    const p = fixtureProject(yaml('stop_on_slo_failure: true'), { 'a.bench.ts': benches['a.bench.ts'] });
    const before = server.count();
    const { code, output } = await p.runBench({ LOADBENCH_SHARD: '1/2' });
    expect(code).toBe(2);
    expect(output).toContain('stop_on_slo_failure: is true, but an SLO holds only for the merged run, which no shard sees');
    expect(server.count()).toBe(before);
  });
});
