import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixtureProject } from '../helpers/fixture-project.ts';
import { startServer, type TestServer } from '../helpers/servers.ts';

/**
 * What Vitest prints in a loadbench run must agree with loadbench's verdict: a level that broke
 * its SLO is a failure in Vitest's lines and in Vitest's own state, with our one-line message, and
 * no tinybench figure or "x faster than" summary is printed by default.
 */
let server: TestServer;
beforeAll(async () => {
  server = await startServer((_n, _req, res) => setTimeout(() => res.end('{"ok":true}'), 8));
});
afterAll(() => server.close());

const yaml = (over = ''): string => `run_label: out
target: { url: "${server.url}", method: POST }
workload: { concurrency_levels: [1, 2], duration_seconds: 0.5, warmup_seconds: 0.1, timeout_seconds: 2 }
${over}
`;

/** Lines as printed, without the live progress line (it goes to stderr and is rewritten in place on a terminal). */
const printed = (output: string): string[] => output.split('\n').filter((l) => !l.startsWith('loadbench ▸'));

/** Nothing of tinybench's figures, Vitest's bench summary, or an unhandled-error block. */
function expectNoTinybench(output: string): void {
  expect(output).not.toMatch(/\bhz\b/);
  expect(output).not.toMatch(/faster than/);
  expect(output).not.toMatch(/NaNx/);
  expect(output).not.toMatch(/Unhandled (Rejection|Error)/);
  expect(output).not.toMatch(/BENCH\s+Summary/);
}

describe("Vitest's printed lines tell loadbench's verdict", () => {
  it('a passing run: a pass mark per level and per scenario, no failure mark, exit 0', async () => {
    const p = fixtureProject(yaml('slo: { p95_ms: 2000 }'), { 'submit.bench.ts': `import { scenario } from SCENARIO;\nscenario('submit');\n` });
    const { code, output } = await p.runBench();
    expect(code, output).toBe(0);
    const lines = printed(output);
    expect(lines).toContainEqual(expect.stringMatching(/^ ✓ benches\/submit\.bench\.ts > submit > concurrency 1 {2}[\d.]+ req\/s, p95 [\d.]+ ms, 0\.00 % errors$/));
    expect(lines).toContainEqual(expect.stringMatching(/^ ✓ benches\/submit\.bench\.ts > submit > concurrency 2 {2}/));
    expect(lines).toContain(' ✓ benches/submit.bench.ts > submit  2 levels passed');
    expect(output).not.toContain('✗');
    expectNoTinybench(output);
  });

  it('a broken SLO: a failure mark on that level and its scenario, with the SLO line, and a pass mark on the level that held', async () => {
    const p = fixtureProject(yaml(), {
      'submit.bench.ts': `import { scenario } from SCENARIO;\nscenario('slow-submit', { slo: { p95_ms: 2, up_to_concurrency: 1 } });\n`,
    });
    const { code, output } = await p.runBench();
    expect(code, output).toBe(1);
    const lines = printed(output);
    expect(lines).toContainEqual(
      expect.stringMatching(/^ ✗ benches\/submit\.bench\.ts > slow-submit > concurrency 1 {2}SLO failed: p95_ms = [\d.]+ ms, limit <= 2 ms$/),
    );
    // Level 2 is above up_to_concurrency: not judged, so it keeps its pass mark.
    expect(lines).toContainEqual(expect.stringMatching(/^ ✓ benches\/submit\.bench\.ts > slow-submit > concurrency 2 {2}/));
    expect(lines).toContain(' ✗ benches/submit.bench.ts > slow-submit  1 of 2 levels failed');
    // Never a pass mark beside the scenario with the broken SLO.
    expect(lines.filter((l) => /^ ✓ benches\/submit\.bench\.ts > slow-submit {2}/.test(l))).toEqual([]);
    expectNoTinybench(output);
    // The end-of-run table and the SLO line are still there.
    expect(output).toMatch(/SLO failed: scenario "slow-submit" at concurrency 1: p95_ms = [\d.]+ ms, limit <= 2 ms/);
  });

  it("Vitest's own state counts the level as failed: its verbose reporter marks it, when asked for", async () => {
    const p = fixtureProject(yaml(), {
      'submit.bench.ts': `import { scenario } from SCENARIO;\nscenario('slow-submit', { slo: { p95_ms: 2, up_to_concurrency: 1 } });\n`,
    });
    const { code, output } = await p.runBench({}, ['--reporter=verbose']);
    expect(code, output).toBe(1);
    // Vitest's own verbose bench reporter reads Vitest's state, which loadbench set to failed.
    expect(output).toMatch(/×.*concurrency 1/);
    expect(output).toMatch(/LoadbenchVerdict: SLO failed: scenario "slow-submit" at concurrency 1/);
    expect(output).not.toMatch(/Unhandled Rejection/);
  });

  it('a bench file with bad scenario options: one failure mark naming the file and each problem, no stack, exit 1', async () => {
    const p = fixtureProject(yaml(), {
      'bad.bench.ts': `import { scenario } from SCENARIO;\nscenario('bad', { concurency_levels: [1], duration_seconds: -1 } as never);\n`,
    });
    const before = server.count();
    const { code, output } = await p.runBench();
    expect(code, output).toBe(1);
    const lines = printed(output);
    const head = lines.findIndex((l) => l.startsWith(' ✗ benches/bad.bench.ts  '));
    expect(head, output).toBeGreaterThanOrEqual(0);
    expect(lines[head]).toContain('scenario "bad": invalid loadbench configuration:');
    expect(output).toMatch(/- \(top level\): unknown key "concurency_levels"/);
    expect(output).toMatch(/- duration_seconds: found number -1/);
    expect(output.match(/scenario "bad": invalid loadbench configuration/g)).toHaveLength(1);
    expect(output).not.toMatch(/\n\s+at .*\.(ts|js):\d+/);
    expect(server.count()).toBe(before);
  });
});
