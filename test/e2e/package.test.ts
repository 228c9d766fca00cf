/**
 * loadbench as a user installs it: `npm pack` of this repository (built by `prepare` from a copy
 * of its files, as a fresh clone would be), installed with the peer Vitest into a new project
 * outside the repository, set up with `npx loadbench init` and run with `npx vitest bench` against
 * a local server. Installs from the npm registry through npm's cache (warm after `npm ci`).
 * LOADBENCH_PACK_VITEST=<version> installs another Vitest (to check the peer range).
 */
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { parseDocument } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RUN_OUTPUT_SUFFIXES } from '../../core/model/outputs.ts';
import { REPO_ROOT } from '../helpers/fixture-project.ts';
import { startServer, type TestServer } from '../helpers/servers.ts';

const VITEST = process.env.LOADBENCH_PACK_VITEST || (JSON.parse(readFileSync(join(REPO_ROOT, 'node_modules/vitest/package.json'), 'utf8')) as { version: string }).version;

/** The environment of a user's shell: none of the npm_* variables `npm test` sets for its own scripts. */
const userEnv = (extra: Record<string, string> = {}): NodeJS.ProcessEnv => ({
  ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_/i.test(k) && k !== 'LOADBENCH_CONFIG' && !k.startsWith('GITHUB_') && !k.startsWith('VITEST'))),
  CI: 'true',
  NO_COLOR: '1',
  ...extra,
});

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  output: string;
}

/** Runs a command as a user would in a shell, with a time limit. */
function sh(cwd: string, command: string, args: string[], env: Record<string, string> = {}, timeoutMs = 180_000): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd, env: userEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let output = '';
    child.stdout.on('data', (c: Buffer) => ((stdout += c), (output += c)));
    child.stderr.on('data', (c: Buffer) => ((stderr += c), (output += c)));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, output: signal ? `${output}\n[killed by ${signal}]` : output });
    });
  });
}

/** The repository's files as a fresh clone has them (tracked, and new files not ignored), copied to `dir`. */
function copyRepository(dir: string): void {
  const files = spawnSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: REPO_ROOT, encoding: 'utf8' });
  if (files.status !== 0) throw new Error(`git ls-files failed: ${files.stderr}`);
  for (const file of files.stdout.split('\0').filter(Boolean)) {
    if (!existsSync(join(REPO_ROOT, file))) continue; // deleted in the work tree, not yet committed
    mkdirSync(dirname(join(dir, file)), { recursive: true });
    copyFileSync(join(REPO_ROOT, file), join(dir, file));
  }
  // `prepare` needs the dev dependencies (tsc), as after `npm ci`.
  symlinkSync(join(REPO_ROOT, 'node_modules'), join(dir, 'node_modules'));
}

function parseJunit(xml: string) {
  expect(XMLValidator.validate(xml)).toBe(true);
  const parser = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '@', htmlEntities: true, isArray: (n) => n === 'testsuite' || n === 'testcase' });
  return (parser.parse(xml) as { testsuites: Record<string, string> & { testsuite: { '@name': string; testcase: Record<string, any>[] }[] } }).testsuites;
}

let server: TestServer;
let project: string;
let tarball: string;
const timings: Record<string, number> = {};

async function timed<T>(name: string, work: () => Promise<T>): Promise<T> {
  const start = performance.now();
  try {
    return await work();
  } finally {
    timings[name] = Math.round(performance.now() - start) / 1000;
  }
}

beforeAll(async () => {
  // Every answer takes 10 ms: comfortably under a 500 ms p95 limit, certainly over a 2 ms one.
  server = await startServer((_n, _req, res) => setTimeout(() => res.end('{"ok":true}'), 10));
  const scratch = mkdtempSync(join(tmpdir(), 'loadbench-pack-'));
  const clone = join(scratch, 'clone');
  copyRepository(clone);
  const packed = await timed('npm pack (prepare builds dist/)', () => sh(clone, 'npm', ['pack', '--pack-destination', scratch, '--json']));
  expect(packed.code, packed.output).toBe(0);
  const [info] = JSON.parse(packed.stdout.slice(packed.stdout.indexOf('['))) as { filename: string; files: { path: string }[] }[];
  tarball = join(scratch, info!.filename);
  const paths = info!.files.map((f) => f.path);
  // Only what runs: built JavaScript, declarations, templates and init's files; no sources, tests or build state.
  expect(paths.filter((p) => !p.startsWith('dist/') && !['package.json', 'README.md', 'LICENSE'].includes(p))).toEqual([]);
  expect(paths.filter((p) => p.endsWith('.ts') && !p.endsWith('.d.ts') && !p.startsWith('dist/cli/init-files/'))).toEqual([]);
  expect(paths).toEqual(expect.arrayContaining(['dist/index.js', 'dist/index.d.ts', 'dist/plugin/index.js', 'dist/cli/loadbench.js', 'dist/engine/level-thread.js', 'dist/reporters/templates/report.md.mustache']));
  expect(paths).not.toContain('dist/.tsbuildinfo');

  project = join(scratch, 'my-service');
  mkdirSync(project);
  const npmInit = await sh(project, 'npm', ['init', '-y']);
  expect(npmInit.code, npmInit.output).toBe(0);
  const install = await timed('npm install (tarball + vitest, from the cache)', () =>
    sh(project, 'npm', ['install', '--save-dev', '--prefer-offline', '--no-audit', '--no-fund', tarball, `vitest@${VITEST}`]),
  );
  expect(install.code, install.output).toBe(0);
}, 600_000);

afterAll(async () => {
  await server?.close();
  console.log(`package test timings (s): ${JSON.stringify(timings)}`);
});

describe('the packed package in a new project', () => {
  it('npx loadbench --version and init set the project up; a second init changes nothing', async () => {
    const version = await sh(project, 'npx', ['loadbench', '--version']);
    expect([version.code, version.stdout]).toEqual([0, `${JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')).version}\n`]);
    const init = await sh(project, 'npx', ['loadbench', 'init']);
    expect(init.code, init.output).toBe(0);
    expect(init.stdout).toContain('loadbench init: wrote config.yaml');
    expect(init.stdout).toContain('loadbench init: wrote vitest.config.mts (registers the loadbench plugin)');
    expect(init.stdout).not.toContain('then install');
    expect(init.stdout.trim().split('\n').at(-1)).toMatch(/^next: .*npx vitest bench$/);
    for (const f of ['config.yaml', 'benches/submit.bench.ts', 'vitest.config.mts', '.gitignore']) expect(existsSync(join(project, f)), f).toBe(true);
    expect(JSON.parse(readFileSync(join(project, 'package.json'), 'utf8')).scripts.bench).toBe('vitest bench');
    const files = () => Object.fromEntries(['config.yaml', 'benches/submit.bench.ts', 'vitest.config.mts', '.gitignore', 'package.json'].map((f) => [f, readFileSync(join(project, f), 'utf8')]));
    const before = files();
    const again = await sh(project, 'npx', ['loadbench', 'init']);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('nothing to change');
    expect(files()).toEqual(before);

    // A short sweep for the test (the shipped one takes 35 s per scenario), comments kept.
    const doc = parseDocument(readFileSync(join(project, 'config.yaml'), 'utf8'));
    doc.setIn(['workload', 'concurrency_levels'], doc.createNode([1, 2], { flow: true }));
    doc.setIn(['workload', 'duration_seconds'], 1);
    doc.setIn(['workload', 'warmup_seconds'], 0.2);
    writeFileSync(join(project, 'config.yaml'), doc.toString());
  }, 120_000);

  it('npx vitest bench exits 0 and writes every output when the SLO holds', async () => {
    const r = await timed('npx vitest bench (passing)', () => sh(project, 'npx', ['vitest', 'bench'], { LOADBENCH_TARGET_URL: server.url }));
    expect(r.code, r.output).toBe(0);
    expect(r.stdout).toMatch(/✓ benches\/submit\.bench\.ts > submit > concurrency 1 {2}[\d.]+ req\/s, p95 [\d.]+ ms, 0\.00 % errors/);
    expect(r.stdout).toContain('✓ benches/submit.bench.ts > submit  2 levels passed');
    expect(r.stdout).not.toMatch(/::error/);
    const outputs = readdirSync(join(project, 'runs')).sort();
    expect(outputs).toEqual(RUN_OUTPUT_SUFFIXES.map((s) => `baseline${s}`).sort());
    for (const png of outputs.filter((f) => f.endsWith('.png'))) expect(readFileSync(join(project, 'runs', png)).subarray(1, 4).toString()).toBe('PNG');
    expect(readFileSync(join(project, 'runs/baseline_report.md'), 'utf8')).toMatch(/loadbench \d+\.\d+\.\d+/);
    const junit = parseJunit(readFileSync(join(project, 'runs/baseline_junit.xml'), 'utf8'));
    expect([junit['@tests'], junit['@failures'], junit['@errors']]).toEqual(['2', '0', '0']);
    const cases = junit.testsuite[0]!.testcase;
    expect(cases.map((c) => [c['@name'], c['@classname'], c['@file'], c.failure])).toEqual([
      ['concurrency 1', 'submit', 'benches/submit.bench.ts', undefined],
      ['concurrency 2', 'submit', 'benches/submit.bench.ts', undefined],
    ]);
  }, 180_000);

  it('npx vitest bench exits 1 with the SLO line, a failed JUnit testcase and, on GitHub Actions, an annotation at the scenario() call and a job summary', async () => {
    const doc = parseDocument(readFileSync(join(project, 'config.yaml'), 'utf8'));
    doc.setIn(['slo', 'p95_ms'], 2);
    writeFileSync(join(project, 'config.yaml'), doc.toString());
    const stepSummary = join(project, 'step-summary.md');
    const r = await timed('npx vitest bench (failing SLO)', () =>
      sh(project, 'npx', ['vitest', 'bench'], { LOADBENCH_TARGET_URL: server.url, LOADBENCH_RUN_LABEL: 'slow', GITHUB_ACTIONS: 'true', GITHUB_STEP_SUMMARY: stepSummary }),
    );
    expect(r.code, r.output).toBe(1);
    const slo = /SLO failed: scenario "submit" at concurrency 1: p95_ms = [\d.]+ ms, limit <= 2 ms/;
    expect(r.stdout).toMatch(new RegExp(`^${slo.source}$`, 'm'));
    const line = readFileSync(join(project, 'benches/submit.bench.ts'), 'utf8').split('\n').findIndex((l) => l.startsWith('scenario(')) + 1;
    expect(line).toBeGreaterThan(1);
    expect(r.stdout).toMatch(new RegExp(`^::error file=benches/submit\\.bench\\.ts,line=${line},title=loadbench%3A SLO failed \\(scenario "submit" at concurrency 1\\)::${slo.source}$`, 'm'));
    const junit = parseJunit(readFileSync(join(project, 'runs/slow_junit.xml'), 'utf8'));
    expect(junit['@failures']).toBe('2');
    const failed = junit.testsuite[0]!.testcase[0]!;
    expect(failed['@name']).toBe('concurrency 1');
    expect(failed['@line']).toBe(String(line));
    expect(failed.failure['@message']).toMatch(slo);
    expect(failed.failure['@type']).toBe('SloFailure');
    const summary = readFileSync(stepSummary, 'utf8');
    expect(summary).toMatch(/^## loadbench run `slow`: failed \(2 of 2 levels\)$/m);
    expect(summary).toContain('### Findings');
  }, 180_000);

  it('runs from a plain Node script with import { runSweep } from "loadbench", and the commands work on its outputs', async () => {
    writeFileSync(
      join(project, 'sweep.mjs'),
      [
        "import { runSweep, ConfigError } from 'loadbench';",
        "import { loadbench } from 'loadbench/plugin';",
        "if (typeof loadbench !== 'function' || typeof ConfigError !== 'function') throw new Error('missing exports');",
        "const summary = await runSweep({ config: 'config.yaml', scenarios: [{ name: 'api', concurrency_levels: [1, 4], slo: { p95_ms: 1000 } }, { name: 'threads', concurrency_levels: [4], generator_threads: 2, slo: { p95_ms: 1000 } }] });",
        'console.log(JSON.stringify(summary.outcome));',
        'process.exitCode = summary.outcome.exit_code;',
        '',
      ].join('\n'),
    );
    const r = await timed('node sweep.mjs (runSweep)', () => sh(project, 'node', ['sweep.mjs'], { LOADBENCH_TARGET_URL: server.url, LOADBENCH_RUN_LABEL: 'api' }));
    expect(r.code, r.output).toBe(0);
    expect(JSON.parse(r.stdout.trim())).toEqual({ status: 'pass', exit_code: 0, failures: [] });
    for (const suffix of RUN_OUTPUT_SUFFIXES) expect(existsSync(join(project, 'runs', `api${suffix}`)), suffix).toBe(true);
    // Generator threads load the built engine from the installed package (no TypeScript loader there).
    const threads = JSON.parse(readFileSync(join(project, 'runs/api_summary.json'), 'utf8')).scenarios[1].levels[0];
    expect([threads.status, threads.generator.threads, threads.successes > 0]).toEqual(['measured', 2, true]);

    const report = await sh(project, 'npx', ['loadbench', 'report', 'api']);
    expect(report.code, report.output).toBe(0);
    expect(report.stdout).toMatch(/^loadbench report: regenerated .*runs\/api_report\.md, runs\/api_junit\.xml$/m);
    const compare = await sh(project, 'npx', ['loadbench', 'compare', 'baseline', 'slow']);
    expect(compare.code, compare.output).toBe(0);
    expect(existsSync(join(project, 'runs/compare_baseline_slow_report.md'))).toBe(true);
    const baseline = await sh(project, 'npx', ['loadbench', 'baseline', 'baseline']);
    expect(baseline.code, baseline.output).toBe(0);
    expect(existsSync(join(project, 'baselines/baseline.json'))).toBe(true);
    const usage = await sh(project, 'npx', ['loadbench', 'compare']);
    expect(usage.code).toBe(2);
    expect(usage.stderr.trim().split('\n')).toHaveLength(1);
  }, 180_000);
});
