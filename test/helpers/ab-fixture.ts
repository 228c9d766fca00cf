import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { REPO_ROOT } from './fixture-project.ts';

/** A tiny HTTP target waiting `delayMs` per request: GET /work answers after the delay, /healthz at once. */
export function targetSource(delayMs: number, comment = 'the time one request takes'): string {
  return `import { createServer } from 'node:http';
const DELAY_MS = ${delayMs}; // ${comment}
const i = process.argv.indexOf('--port');
const port = Number(i > 0 ? process.argv[i + 1] : process.env.PORT);
createServer((req, res) => {
  if (req.url === '/healthz') return res.end('ok');
  setTimeout(() => res.end('done'), DELAY_MS);
}).listen(port, '127.0.0.1');
`;
}

/** The fixture's config.yaml: two levels, short, tolerances for a quick run on a shared machine. */
export const AB_CONFIG = `run_label: fixture
target:
  url: http://127.0.0.1:{{port}}/work
  port: 18080
  method: GET
  start:
    command: node target.mjs --port {{port}}
    ready_url: http://127.0.0.1:{{port}}/healthz
    timeout_seconds: 10
workload:
  concurrency_levels: [1, 4]
  duration_seconds: 0.4
  warmup_seconds: 0.05
  raw_csv: false
slo: {}
ab:
  max_throughput_drop_pct: 15
  max_p95_increase_pct: 60
  min_requests: 10
`;

/** Runs git in `dir`. */
export function git(dir: string, ...args: string[]): string {
  return execFileSync('git', args, { cwd: dir, encoding: 'utf8', env: { ...process.env, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@t', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@t' } }).trim();
}

/**
 * A git repository in a temp folder with the target (10 ms per request), config.yaml and one
 * bench file, committed once.
 */
export function abFixtureRepo(config = AB_CONFIG): string {
  const dir = mkdtempSync(join(tmpdir(), 'loadbench-ab-fixture-'));
  writeFileSync(join(dir, 'target.mjs'), targetSource(10));
  writeFileSync(join(dir, 'config.yaml'), config);
  writeFileSync(join(dir, 'package.json'), '{ "name": "ab-fixture", "type": "module", "private": true }\n');
  writeFileSync(join(dir, '.gitignore'), 'runs\nnode_modules\n');
  execFileSync('mkdir', ['-p', join(dir, 'benches')]);
  writeFileSync(join(dir, 'benches', 'work.bench.ts'), `import { scenario } from ${JSON.stringify(join(REPO_ROOT, 'index.ts'))};\n\nscenario('work');\n`);
  git(dir, 'init', '-q', '-b', 'main');
  git(dir, 'add', '-A');
  git(dir, 'commit', '-q', '-m', 'target: 10 ms per request');
  return dir;
}

/** Commits the target with another delay (or only another comment). */
export function commitTarget(dir: string, delayMs: number, comment?: string): void {
  writeFileSync(join(dir, 'target.mjs'), targetSource(delayMs, comment));
  git(dir, 'commit', '-q', '-am', `target: ${delayMs} ms${comment ? ', new comment' : ''}`);
}

/** What `loadbench ab` printed and how it ended. */
export interface AbRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs `loadbench ab <args>` from the sources in `cwd` as a child process (outside Vitest, as a
 * user would). `onOutput` sees stdout so far and may signal the child.
 */
export function runAbCommand(
  cwd: string,
  args: string[],
  onOutput?: (stdout: string, child: ChildProcess) => void,
  extraEnv: Record<string, string> = {},
): Promise<AbRun> {
  const env: NodeJS.ProcessEnv = { ...process.env, LOADBENCH_CONFIG: '', NO_COLOR: '1' };
  // The child is not a Vitest worker: scenario() must not load Vitest there.
  for (const k of Object.keys(env)) if (k.startsWith('VITEST')) delete env[k];
  delete env.GITHUB_ACTIONS;
  delete env.GITHUB_STEP_SUMMARY;
  Object.assign(env, extraEnv);
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', pathToFileURL(join(REPO_ROOT, 'node_modules/tsx/dist/loader.mjs')).href, join(REPO_ROOT, 'cli/loadbench.ts'), 'ab', ...args], {
      cwd,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => {
      stdout += c.toString();
      onOutput?.(stdout, child);
    });
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 90_000);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}
