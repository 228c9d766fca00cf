/**
 * The base build of an A/B run: the base ref checked out in a temporary `git worktree` (the
 * user's working tree and branches are never touched), with its dependencies: the working tree's
 * `node_modules` linked in when the lockfile did not change, or `ab.setup` run there.
 */
import { execFile, spawn } from 'node:child_process';
import { existsSync, realpathSync } from 'node:fs';
import { mkdtemp, readFile, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative, sep } from 'node:path';
import { promisify } from 'node:util';
import { AbSetupError } from '../errors.ts';

const exec = promisify(execFile);

/** Lockfiles whose change means the base needs its own dependencies. */
export const LOCKFILES = ['package-lock.json', 'npm-shrinkwrap.json', 'yarn.lock', 'pnpm-lock.yaml'] as const;

async function git(cwd: string, args: string[]): Promise<string> {
  const { stdout } = await exec('git', args, { cwd, maxBuffer: 64 * 1024 * 1024 });
  return stdout.trim();
}

/** Where the project sits in its git repository, and what HEAD is. */
export interface GitProject {
  /** The repository's top folder. */
  top: string;
  /** The project folder relative to `top` ('' when they are the same), with `/` separators. */
  projectPath: string;
  /** HEAD's commit, or undefined in a repository without commits. */
  headCommit: string | undefined;
  /** True when the working tree differs from HEAD (tracked changes or untracked files). */
  dirty: boolean;
}

/**
 * The git repository of the project folder.
 * @throws AbSetupError (exit 2) when `root` is not in a git repository or git is missing
 */
export async function gitProject(root: string): Promise<GitProject> {
  let top: string;
  try {
    top = await git(root, ['rev-parse', '--show-toplevel']);
  } catch (error) {
    const e = error as NodeJS.ErrnoException & { stderr?: string };
    if (e.code === 'ENOENT') throw new AbSetupError('git was not found on PATH: loadbench ab checks the base ref out with git worktree; install git');
    throw new AbSetupError(`${root} is not in a git repository: loadbench ab compares the working tree with a commit of its repository (run it in a git checkout)`);
  }
  const projectPath = relative(realpathSync(top), realpathSync(root)).split(sep).join('/');
  let headCommit: string | undefined;
  try {
    headCommit = await git(root, ['rev-parse', '--verify', '--quiet', 'HEAD^{commit}']);
  } catch {
    headCommit = undefined;
  }
  const status = await git(root, ['status', '--porcelain', '--untracked-files=normal', '--', '.']);
  return { top, projectPath, headCommit, dirty: status.length > 0 };
}

/**
 * The commit a ref names.
 * @throws AbSetupError (exit 2) for a ref that names no commit
 */
export async function resolveCommit(root: string, ref: string): Promise<string> {
  if (!ref || ref.startsWith('-')) throw new AbSetupError(`--base: found ${JSON.stringify(ref)}, expected a git ref such as main, origin/main, HEAD~1 or a commit hash`);
  try {
    return await git(root, ['rev-parse', '--verify', '--quiet', '--end-of-options', `${ref}^{commit}`]);
  } catch {
    throw new AbSetupError(
      `--base ${ref}: unknown git ref: no commit of this repository has that name (check the spelling; in CI, fetch it first, e.g. git fetch origin ${ref} or actions/checkout with fetch-depth: 0)`,
    );
  }
}

/** How the base build gets its dependencies. */
export interface DependencyPlan {
  /** The working tree's node_modules linked into the base build. */
  share: boolean;
  /** `ab.setup`, run in the base build's folder. */
  setup: string | undefined;
  /** One line for the log: what was decided and why. */
  reason: string;
}

/** The lockfile text at a commit ('' when the file is not there). */
async function lockAt(top: string, commit: string, path: string): Promise<string> {
  try {
    return await git(top, ['show', `${commit}:${path}`]);
  } catch {
    return '';
  }
}

async function lockInWorkingTree(root: string, name: string): Promise<string> {
  try {
    return (await readFile(join(root, name), 'utf8')).trim();
  } catch {
    return '';
  }
}

/**
 * Decides how the base build gets its dependencies: with `ab.setup`, that command (and no shared
 * node_modules unless `share_node_modules: true`); without it, the working tree's node_modules
 * when every lockfile is the same at the base commit as in the working tree.
 * @throws AbSetupError (exit 2) when a lockfile changed and there is no `ab.setup`
 */
export async function planDependencies(
  project: GitProject,
  root: string,
  baseCommit: string,
  ab: { setup?: string; share_node_modules?: boolean } | undefined,
): Promise<DependencyPlan> {
  const setup = ab?.setup;
  const hasModules = existsSync(join(root, 'node_modules'));
  const changed: string[] = [];
  for (const name of LOCKFILES) {
    const path = project.projectPath ? `${project.projectPath}/${name}` : name;
    const [then, now] = await Promise.all([lockAt(project.top, baseCommit, path), lockInWorkingTree(root, name)]);
    if (then !== now) changed.push(name);
  }
  const shareWanted = ab?.share_node_modules ?? setup === undefined;
  if (setup !== undefined) {
    const share = shareWanted && hasModules;
    return { share, setup, reason: `base dependencies: ab.setup (${setup})${share ? ', with the working tree\'s node_modules linked in' : ''}` };
  }
  if (changed.length && hasModules && shareWanted) {
    throw new AbSetupError(
      `${changed.join(', ')} changed between the base and the working tree, so the base build cannot share this node_modules: ` +
        'set ab.setup in config.yaml (e.g. setup: npm ci) to install the base\'s own dependencies',
    );
  }
  if (!hasModules) return { share: false, setup: undefined, reason: 'base dependencies: none (the project has no node_modules)' };
  if (!shareWanted) return { share: false, setup: undefined, reason: 'base dependencies: none (ab.share_node_modules: false and no ab.setup)' };
  return { share: true, setup: undefined, reason: 'base dependencies: the working tree\'s node_modules, linked in (the lockfile did not change)' };
}

/** A prepared base build; `remove()` takes the worktree away (idempotent). */
export interface BaseBuild {
  /** The worktree's top folder. */
  worktree: string;
  /** The project folder inside it: where the base's target.start runs. */
  folder: string;
  remove(): Promise<void>;
}

/** Runs a shell command in `cwd`; rejects with its last output lines when it fails. */
function runSetup(command: string, cwd: string, env: NodeJS.ProcessEnv, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, { cwd, shell: true, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let tail = '';
    const keep = (chunk: Buffer): void => {
      tail = (tail + chunk.toString('utf8')).slice(-4000);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    const onAbort = (): void => {
      try {
        process.kill(-child.pid!, 'SIGTERM');
      } catch {
        // already gone
      }
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    child.once('error', (error) => reject(new AbSetupError(`ab.setup (${command}) could not start: ${error.message}`)));
    child.once('close', (code, sig) => {
      signal?.removeEventListener('abort', onAbort);
      if (code === 0) return resolve();
      const lines = tail.trimEnd().split('\n').slice(-15).map((l) => `    | ${l}`).join('\n') || '    (it printed nothing)';
      reject(new AbSetupError(`ab.setup (${command}) failed in the base build (${code !== null ? `exit ${code}` : sig}); no load was sent. Its last lines:\n${lines}`, sig ? 130 : 2));
    });
  });
}

/**
 * Checks `commit` out in a new temporary git worktree (detached, under the system's temp folder)
 * and gives it its dependencies by `plan`. On any failure the worktree is removed again.
 * @throws AbSetupError when git cannot add the worktree or the setup fails
 */
export async function createBaseBuild(project: GitProject, root: string, commit: string, plan: DependencyPlan, signal?: AbortSignal): Promise<BaseBuild> {
  const worktree = await mkdtemp(join(tmpdir(), 'loadbench-ab-'));
  let removed = false;
  const remove = async (): Promise<void> => {
    if (removed) return;
    removed = true;
    try {
      await git(project.top, ['worktree', 'remove', '--force', '--force', worktree]);
    } catch {
      // Not registered (the add failed) or already gone: remove the folder and forget it.
    }
    await rm(worktree, { recursive: true, force: true });
    await git(project.top, ['worktree', 'prune']).catch(() => undefined);
  };
  try {
    try {
      await git(project.top, ['worktree', 'add', '--detach', '--quiet', worktree, commit]);
    } catch (error) {
      throw new AbSetupError(`git worktree add could not check out ${commit.slice(0, 12)}: ${((error as { stderr?: string }).stderr ?? String(error)).trim()}`);
    }
    const folder = project.projectPath ? join(worktree, ...project.projectPath.split('/')) : worktree;
    if (!existsSync(folder)) throw new AbSetupError(`the base commit ${commit.slice(0, 12)} has no folder ${project.projectPath}: the project did not exist there yet`);
    if (plan.share && !existsSync(join(folder, 'node_modules'))) {
      await symlink(realpathSync(join(root, 'node_modules')), join(folder, 'node_modules'), 'dir');
    }
    if (plan.setup) await runSetup(plan.setup, folder, { ...process.env, LOADBENCH_AB_HEAD: root }, signal);
    return { worktree, folder, remove };
  } catch (error) {
    await remove();
    throw error;
  }
}
