import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runSweep } from '../../api/run-sweep.ts';
import { ConfigError, TargetError } from '../../core/errors.ts';
import { measuredLevels } from '../../core/model/summary.ts';
import { RUN_OUTPUT_SUFFIXES } from '../../core/model/outputs.ts';
import { REPO_ROOT } from '../helpers/fixture-project.ts';
import { closedPort, startServer, type TestServer } from '../helpers/servers.ts';

let server: TestServer;
beforeAll(async () => {
  server = await startServer((_n, req, res) => {
    res.statusCode = req.headers.authorization === 'Bearer api-secret' ? 200 : 401;
    setTimeout(() => res.end('{"ok":true}'), 5);
  });
});
afterAll(() => server.close());

const config = (over: Record<string, unknown> = {}) => ({
  run_label: 'api',
  target: { url: server.url, method: 'POST', token: 'api-secret' },
  workload: { concurrency_levels: [1, 2], duration_seconds: 0.4, warmup_seconds: 0.1, timeout_seconds: 2 },
  ...over,
});

const project = (): string => mkdtempSync(join(tmpdir(), 'loadbench-api-'));

describe('runSweep(): a sweep without Vitest', () => {
  it('runs the scenarios in order, writes every usual output and resolves to the summary with a passing outcome', async () => {
    const root = project();
    const lines: string[] = [];
    const progress: number[] = [];
    const summary = await runSweep({
      root,
      config: config({ slo: { p95_ms: 2000 } }),
      scenarios: [{ name: 'submit' }, { name: 'submit-at-4', concurrency_levels: [4] }],
      log: (l) => lines.push(l),
      onProgress: (e) => progress.push(e.concurrency),
    });
    expect(summary.format).toBe('loadbench-summary');
    expect(summary.outcome).toEqual({ status: 'pass', exit_code: 0, failures: [] });
    expect(summary.scenarios.map((s) => [s.name, s.levels.map((l) => [l.concurrency, l.status])])).toEqual([
      ['submit', [[1, 'measured'], [2, 'measured']]],
      ['submit-at-4', [[4, 'measured']]],
    ]);
    for (const s of summary.scenarios) for (const l of measuredLevels(s)) expect(l.successes).toBeGreaterThan(5);
    // The same files as `npx vitest bench`, and the JSON on disk is the object it resolved to.
    for (const suffix of RUN_OUTPUT_SUFFIXES) expect(existsSync(join(root, 'runs', `api${suffix}`)), suffix).toBe(true);
    expect(JSON.parse(readFileSync(join(root, 'runs/api_summary.json'), 'utf8'))).toEqual(summary);
    expect(lines.join('\n')).toMatch(/loadbench results: run "api"/);
    expect(progress.length).toBeGreaterThan(0);
    for (const f of RUN_OUTPUT_SUFFIXES.filter((s) => !s.endsWith('.png'))) {
      expect(readFileSync(join(root, 'runs', `api${f}`), 'utf8'), f).not.toContain('api-secret');
    }
  });

  it('resolves (never exits) with a failing outcome and the SLO lines when an SLO is broken', async () => {
    const exitCode = process.exitCode;
    const summary = await runSweep({ root: project(), config: config({ slo: { p95_ms: 1 } }), scenarios: [{ name: 'slow', concurrency_levels: [1] }] });
    expect(summary.outcome?.status).toBe('fail');
    expect(summary.outcome?.exit_code).toBe(1);
    expect(summary.outcome?.failures).toEqual([expect.stringMatching(/^SLO failed: scenario "slow" at concurrency 1: p95_ms = [\d.]+ ms, limit <= 1 ms$/)]);
    expect(process.exitCode).toBe(exitCode);
  });

  it('throws a ConfigError, before any request, for a bad config object or bad scenario options', async () => {
    const before = server.count();
    await expect(runSweep({ root: project(), config: config({ workload: { concurrency_levels: [] } }), scenarios: [{ name: 's' }] })).rejects.toSatisfy(
      (e: unknown) => e instanceof ConfigError && e.problems.some((p) => p.startsWith('workload.concurrency_levels: found an empty list')),
    );
    await expect(runSweep({ root: project(), config: config(), scenarios: [{ name: 'ok' }, { name: 'bad', duration_seconds: -1 }] })).rejects.toSatisfy(
      (e: unknown) => e instanceof ConfigError && e.file === 'scenario "bad"',
    );
    await expect(runSweep({ root: project(), config: config(), scenarios: [] })).rejects.toBeInstanceOf(ConfigError);
    expect(server.count()).toBe(before);
  });

  it('throws a TargetError when nothing answers at the target', async () => {
    const port = await closedPort();
    await expect(
      runSweep({ root: project(), config: config({ target: { url: `http://127.0.0.1:${port}/x`, method: 'GET' } }), scenarios: [{ name: 's' }] }),
    ).rejects.toSatisfy((e: unknown) => e instanceof TargetError && e.message.includes(`nothing answers at 127.0.0.1:${port}`));
  });

  it('stops at an abort like Ctrl-C: the running level kept as partial, the rest skipped, the outputs written', async () => {
    const root = project();
    const aborter = new AbortController();
    const summary = await runSweep({
      root,
      config: config({ workload: { concurrency_levels: [1, 2, 4], duration_seconds: 5, timeout_seconds: 2 } }),
      scenarios: [{ name: 'long' }],
      signal: aborter.signal,
      onProgress: (e) => {
        if (e.phase === 'measure' && e.elapsed_s >= 0.5) aborter.abort();
      },
    });
    expect(summary.interrupted).toBe(true);
    expect(summary.outcome).toMatchObject({ status: 'interrupted', exit_code: 130 });
    expect(summary.scenarios[0]!.levels.map((l) => l.status)).toEqual(['partial', 'skipped', 'skipped']);
    expect(existsSync(join(root, 'runs/api_report.md'))).toBe(true);
  });

  it('works from a plain Node script through the public entry, without Vitest running', async () => {
    const root = project();
    writeFileSync(
      join(root, 'run.mjs'),
      `import { runSweep } from ${JSON.stringify(join(REPO_ROOT, 'index.ts'))};
const summary = await runSweep({ root: ${JSON.stringify(root)}, config: ${JSON.stringify(config({ workload: { concurrency_levels: [1], requests_per_level: 20 } }))}, scenarios: [{ name: 'script' }] });
console.log(JSON.stringify({ status: summary.outcome.status, requests: summary.scenarios[0].levels[0].requests }));
`,
    );
    const env = { ...process.env };
    for (const k of Object.keys(env)) if (k.startsWith('VITEST')) delete env[k];
    // From the repository (where tsx resolves); the run itself writes under `root`. Not spawnSync: the server answering it runs in this process.
    const r = await promisify(execFile)(process.execPath, ['--import', 'tsx', join(root, 'run.mjs')], { cwd: REPO_ROOT, encoding: 'utf8', env, timeout: 60_000 });
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout.trim())).toEqual({ status: 'pass', requests: 20 });
  });
});
