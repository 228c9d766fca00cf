import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { REPO_ROOT } from './fixture-project.ts';

/** What a `loadbench` command printed and how it ended. */
export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `loadbench <args>` from the sources (cli/loadbench.ts, through tsx) in `cwd`, as `npx loadbench` would. */
export function runLoadbench(cwd: string, args: string[], env: Record<string, string> = {}): CliRun {
  // tsx by its resolved URL: a bare `--import tsx` resolves from `cwd`, which may be a folder outside the repository.
  const r = spawnSync(process.execPath, ['--import', import.meta.resolve('tsx'), join(REPO_ROOT, 'cli/loadbench.ts'), ...args], {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, LOADBENCH_CONFIG: '', ...env },
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}
