import { existsSync, lstatSync, mkdirSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createBaseBuild, gitProject, planDependencies, resolveCommit } from '../../../core/ab/base-build.ts';
import { AbSetupError } from '../../../core/errors.ts';
import { abFixtureRepo, git } from '../../helpers/ab-fixture.ts';

/** A fixture repository with a committed lockfile and a node_modules folder (ignored by git). */
function repoWithModules(): string {
  const dir = abFixtureRepo();
  writeFileSync(join(dir, 'package-lock.json'), '{ "lockfileVersion": 3 }\n');
  git(dir, 'add', 'package-lock.json');
  git(dir, 'commit', '-q', '-m', 'lockfile');
  mkdirSync(join(dir, 'node_modules', 'dep'), { recursive: true });
  writeFileSync(join(dir, 'node_modules', 'dep', 'index.js'), 'export default 1;\n');
  return dir;
}

describe('the base build', () => {
  it('shares the working tree node_modules when the lockfile did not change, and removes the worktree again', async () => {
    const dir = repoWithModules();
    const project = await gitProject(dir);
    expect(project).toMatchObject({ projectPath: '', dirty: false });
    const commit = await resolveCommit(dir, 'HEAD~1');
    // HEAD~1 has no lockfile while the working tree has one: a change.
    await expect(planDependencies(project, dir, commit, undefined)).rejects.toThrow(AbSetupError);
    const head = await resolveCommit(dir, 'HEAD');
    const plan = await planDependencies(project, dir, head, undefined);
    expect(plan).toMatchObject({ share: true, setup: undefined });
    const build = await createBaseBuild(project, dir, head, plan);
    expect(readFileSync(join(build.folder, 'target.mjs'), 'utf8')).toContain('DELAY_MS = 10');
    expect(lstatSync(join(build.folder, 'node_modules')).isSymbolicLink()).toBe(true);
    expect(realpathSync(join(build.folder, 'node_modules'))).toBe(realpathSync(join(dir, 'node_modules')));
    expect(git(dir, 'worktree', 'list').split('\n')).toHaveLength(2);
    await build.remove();
    await build.remove();
    expect(existsSync(build.worktree)).toBe(false);
    expect(git(dir, 'worktree', 'list').split('\n')).toHaveLength(1);
    // The shared folder itself is untouched.
    expect(existsSync(join(dir, 'node_modules', 'dep', 'index.js'))).toBe(true);
  });

  it('runs ab.setup in the base folder instead of sharing, and reports a failing setup with its last lines', async () => {
    const dir = repoWithModules();
    const project = await gitProject(dir);
    const head = await resolveCommit(dir, 'HEAD');
    const plan = await planDependencies(project, dir, head, { setup: 'echo "$LOADBENCH_AB_HEAD" > setup-ran' });
    expect(plan.share).toBe(false);
    const build = await createBaseBuild(project, dir, head, plan);
    expect(readFileSync(join(build.folder, 'setup-ran'), 'utf8').trim()).toBe(dir);
    expect(existsSync(join(build.folder, 'node_modules'))).toBe(false);
    await build.remove();
    const failing = await planDependencies(project, dir, head, { setup: 'echo installing; echo "no network" >&2; exit 3' });
    const error = await createBaseBuild(project, dir, head, failing).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AbSetupError);
    expect((error as AbSetupError).exitCode).toBe(2);
    expect((error as Error).message).toMatch(/ab\.setup \(.*\) failed in the base build \(exit 3\); no load was sent\. Its last lines:\n {4}\| installing\n {4}\| no network/);
    // The failed build's worktree is gone too.
    expect(git(dir, 'worktree', 'list').split('\n')).toHaveLength(1);
  });

  it('knows a dirty working tree and a project in a subfolder of its repository', async () => {
    const dir = abFixtureRepo();
    writeFileSync(join(dir, 'target.mjs'), '// changed\n');
    expect((await gitProject(dir)).dirty).toBe(true);
    mkdirSync(join(dir, 'sub'));
    expect((await gitProject(join(dir, 'sub'))).projectPath).toBe('sub');
  });
});
