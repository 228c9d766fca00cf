/**
 * `loadbench ab` end to end, in fixture git repositories with a tiny target that waits 10 ms per
 * request: a commit making it wait 16 ms is caught at every level, a commit changing only a
 * comment passes, usage errors exit 2 before any load, and Ctrl-C stops both targets, removes the
 * worktree and writes what was measured.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../../cli/main.ts';
import { isListening } from '../../core/target/target-process.ts';
import { AB_CONFIG, abFixtureRepo, commitTarget, git, runAbCommand } from '../helpers/ab-fixture.ts';

/** Runs `loadbench ab` in-process (for the errors found before any bench file is imported). */
async function abInProcess(cwd: string, args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(['ab', ...args], { cwd, env: { PATH: process.env.PATH }, out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, out, err };
}

/** The worktree folder ab logged, and the ports of both targets. */
function logged(stdout: string): { worktree: string | undefined; ports: number[] } {
  return {
    worktree: /base build checked out in (\S+)/.exec(stdout)?.[1],
    ports: [...stdout.matchAll(/target on port (\d+)/g)].map((m) => Number(m[1])),
  };
}

describe('loadbench ab', () => {
  it('exits 1 naming every level when a commit makes the target wait 16 ms instead of 10, and writes both sides and the comparison', async () => {
    const dir = abFixtureRepo();
    commitTarget(dir, 16);
    const base = git(dir, 'rev-parse', 'HEAD~1').slice(0, 8);
    const head = git(dir, 'rev-parse', 'HEAD').slice(0, 8);
    const jobSummary = join(dir, 'job-summary.md');
    const r = await runAbCommand(dir, ['--base', 'HEAD~1'], undefined, { GITHUB_ACTIONS: 'true', GITHUB_STEP_SUMMARY: jobSummary });
    expect(r.code, r.stdout + r.stderr).toBe(1);
    // On GitHub Actions: an annotation per regression, the report in the job summary.
    expect(r.stdout).toMatch(/^::error title=loadbench ab::A\/B regression: work, concurrency 1: throughput/m);
    expect(readFileSync(jobSummary, 'utf8')).toMatch(/^\*\*Verdict: REGRESSED\*\*/m);
    expect(r.stderr).toMatch(/A\/B regression: work, concurrency 1: throughput base [\d.]+ req\/s, head [\d.]+ req\/s, paired change -[\d.]+ % \(pairs -[\d.]+, -[\d.]+, -[\d.]+; noise ±[\d.]+ %\), sides ±[\d.]+ % base \/ ±[\d.]+ % head \(3\/3 repetitions\); REGRESSED: beyond the tolerance \d+ % and worse in all 3 pairs/);
    expect(r.stderr).toMatch(/A\/B regression: work, concurrency 4: throughput/);
    expect(r.stdout).toMatch(/0 level\(s\) within tolerance, 2 regressed, 0 not judged/);
    // ABBA: 2 levels x 3 repetitions x 2 sides, base first, then head twice.
    const order = [...r.stdout.matchAll(/\[(\d+)\/12\] work, concurrency (\d+), (base|head) rep/g)].map((m) => m[3]![0]).join('');
    expect(order).toBe('bhhbbhhbbhhb');
    const prefix = `ab_${base}_${head}`;
    for (const suffix of ['_base_summary.json', '_base_summary.csv', '_head_summary.json', '_head_summary.csv', '_summary.csv', '_verdict.json', '_throughput.png', '_p95_latency.png', '_report.md']) {
      expect(existsSync(join(dir, 'runs', `${prefix}${suffix}`)), suffix).toBe(true);
    }
    const verdict = JSON.parse(readFileSync(join(dir, 'runs', `${prefix}_verdict.json`), 'utf8'));
    expect(verdict.outcome).toMatchObject({ status: 'fail', exit_code: 1 });
    expect(verdict.verdicts.map((v: { status: string }) => v.status)).toEqual(['fail', 'fail']);
    const headSummary = JSON.parse(readFileSync(join(dir, 'runs', `${prefix}_head_summary.json`), 'utf8'));
    expect(headSummary.scenarios[0].levels).toHaveLength(6);
    // The head (16 ms) is slower than the base (10 ms) in every repetition.
    const baseSummary = JSON.parse(readFileSync(join(dir, 'runs', `${prefix}_base_summary.json`), 'utf8'));
    expect(Math.min(...baseSummary.scenarios[0].levels.filter((l: { concurrency: number }) => l.concurrency === 1).map((l: { latency_ms: { p50: number } }) => l.latency_ms.p50))).toBeLessThan(15);
    expect(Math.min(...headSummary.scenarios[0].levels.map((l: { latency_ms: { p50: number } }) => l.latency_ms.p50))).toBeGreaterThanOrEqual(16);
    const report = readFileSync(join(dir, 'runs', `${prefix}_report.md`), 'utf8');
    expect(report).toMatch(/\*\*Verdict: REGRESSED\*\*/);
    expect(report).toMatch(/\| work \| 1 \| throughput \(req\/s\) \|.*\*\*REGRESSED\*\* \|/);
    expect(report).not.toMatch(/target differs/);
    // Cleaned up: the worktree is gone, both targets are stopped.
    const { worktree, ports } = logged(r.stdout);
    expect(worktree).toBeDefined();
    expect(existsSync(worktree!)).toBe(false);
    expect(git(dir, 'worktree', 'list').split('\n')).toHaveLength(1);
    expect(ports).toHaveLength(2);
    for (const port of ports) expect(await isListening('127.0.0.1', port)).toBe(false);
  });

  it('runs an open-loop scenario open loop on both sides, names its level by its rate, and catches a slower target in p95', async () => {
    const dir = abFixtureRepo(AB_CONFIG.replace('  concurrency_levels: [1, 4]\n  duration_seconds: 0.4', '  arrival_rates: [50]\n  duration_seconds: 0.6'));
    commitTarget(dir, 30);
    const r = await runAbCommand(dir, ['--base', 'HEAD~1']);
    expect(r.code, r.stdout + r.stderr).toBe(1);
    // The offered rate is met on both sides (50 req/s, well below either build's capacity): the slower build shows in latency from the due time.
    expect(r.stderr).toMatch(/A\/B regression: work, 50 req\/s: p95 base [\d.]+ ms, head [\d.]+ ms, paired change \+[\d.]+ %/);
    expect(r.stderr).not.toMatch(/concurrency 50/);
    expect(r.stdout).toMatch(/\[1\/6\] work, 50 req\/s, base rep 1\/3/);
    const prefix = /wrote (runs\/ab_[0-9a-f]+_[0-9a-f]+)_base_summary\.json/.exec(r.stdout)?.[1];
    expect(prefix, r.stdout).toBeDefined();
    for (const side of ['base', 'head']) {
      const levels = JSON.parse(readFileSync(join(dir, `${prefix}_${side}_summary.json`), 'utf8')).scenarios[0].levels;
      expect(levels).toHaveLength(3);
      for (const l of levels) {
        expect(l.target_rate_rps, side).toBe(50);
        expect(Math.abs(l.open_loop.achieved_rate_rps / 50 - 1), side).toBeLessThan(0.1);
      }
    }
    const verdict = JSON.parse(readFileSync(join(dir, `${prefix}_verdict.json`), 'utf8'));
    expect(verdict.verdicts).toMatchObject([{ scenario: 'work', concurrency: 50, target_rate_rps: 50, status: 'fail' }]);
    expect(readFileSync(join(dir, `${prefix}_report.md`), 'utf8')).toMatch(/offered rate/);
  });

  it('exits 0 when the commit changes only a comment (in a project whose package.json is not "type": "module")', async () => {
    const dir = abFixtureRepo();
    git(dir, 'rm', '-q', 'package.json');
    git(dir, 'commit', '-q', '-m', 'no package.json: the bench file is not in an ES module scope');
    commitTarget(dir, 10, 'a reworded comment, same code');
    const r = await runAbCommand(dir, ['--base', 'HEAD~1']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/2 level\(s\) within tolerance, 0 regressed, 0 not judged/);
    expect(r.stderr).not.toMatch(/A\/B regression/);
  });

  it('exits 2 with a clear message on usage errors, before any load', async () => {
    const notRepo = mkdtempSync(join(tmpdir(), 'loadbench-ab-norepo-'));
    writeFileSync(join(notRepo, 'config.yaml'), AB_CONFIG);
    mkdirSync(join(notRepo, 'benches'));
    writeFileSync(join(notRepo, 'benches', 'x.bench.ts'), '');
    const dir = abFixtureRepo();
    const noStart = abFixtureRepo(AB_CONFIG.replace(/  start:\n(    .*\n)+/, ''));
    const fixedPort = abFixtureRepo(AB_CONFIG.replace('http://127.0.0.1:{{port}}/work', 'http://127.0.0.1:18080/work'));
    const cases: [string, string[], RegExp][] = [
      [notRepo, ['--base', 'main'], /^loadbench ab: \S+ is not in a git repository: loadbench ab compares the working tree with a commit/],
      [dir, ['--base', 'no-such-branch'], /^loadbench ab: --base no-such-branch: unknown git ref: no commit of this repository has that name/],
      [noStart, ['--base', 'HEAD'], /^loadbench ab: config\.yaml has no target\.start: loadbench ab starts both builds/],
      [fixedPort, ['--base', 'HEAD'], /^loadbench ab: target\.url \(http:\/\/127\.0\.0\.1:18080\/work\) does not use \{\{port\}\}/],
      [dir, [], /^loadbench ab: --base <git-ref> is required/],
      [dir, ['--base', 'HEAD', '--repetitions', '0'], /^loadbench ab: --repetitions: found "0"/],
    ];
    for (const [cwd, args, message] of cases) {
      const r = await abInProcess(cwd, args);
      expect(r.code, `${args.join(' ')}: ${r.err.join('\n')}`).toBe(2);
      expect(r.err.join('\n')).toMatch(message);
      expect(r.out.join('\n')).not.toMatch(/target on port/);
    }
  });

  it('exits 2 when the lockfile changed and there is no ab.setup to install the base dependencies', async () => {
    const dir = abFixtureRepo();
    writeFileSync(join(dir, 'package-lock.json'), '{ "lockfileVersion": 3 }\n');
    git(dir, 'add', 'package-lock.json');
    git(dir, 'commit', '-q', '-m', 'lockfile');
    mkdirSync(join(dir, 'node_modules'));
    writeFileSync(join(dir, 'package-lock.json'), '{ "lockfileVersion": 3, "packages": {} }\n');
    const r = await abInProcess(dir, ['--base', 'HEAD']);
    expect(r.code, r.err.join('\n')).toBe(2);
    expect(r.err.join('\n')).toMatch(/package-lock\.json changed between the base and the working tree.*set ab\.setup in config\.yaml \(e\.g\. setup: npm ci\)/);
  });

  it('on Ctrl-C stops both targets, removes the worktree, writes what was measured and exits 130', async () => {
    const dir = abFixtureRepo();
    let sent = false;
    const r = await runAbCommand(dir, ['--base', 'HEAD'], (stdout, child) => {
      if (!sent && /\[3\/12\]/.test(stdout)) {
        sent = true;
        child.kill('SIGINT');
      }
    });
    expect(r.code, r.stdout + r.stderr).toBe(130);
    const { worktree, ports } = logged(r.stdout);
    expect(existsSync(worktree!)).toBe(false);
    for (const port of ports) expect(await isListening('127.0.0.1', port)).toBe(false);
    const prefix = /wrote (runs\/ab_[0-9a-f]+_[0-9a-f]+)_base_summary\.json/.exec(r.stdout)?.[1];
    expect(prefix, r.stdout).toBeDefined();
    const head = JSON.parse(readFileSync(join(dir, `${prefix}_head_summary.json`), 'utf8'));
    expect(head.interrupted).toBe(true);
    expect(head.outcome.status).toBe('interrupted');
    const measured = head.scenarios[0].levels.filter((l: { status: string }) => l.status !== 'skipped');
    expect(measured.length).toBeGreaterThanOrEqual(1);
    expect(JSON.parse(readFileSync(join(dir, `${prefix}_verdict.json`), 'utf8')).outcome.status).toBe('interrupted');
    expect(r.stdout).toMatch(/interrupted: the outputs hold the levels measured so far/);
  });
});
