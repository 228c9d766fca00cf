/**
 * `loadbench init`: sets loadbench up in an existing project. {@link planInit} decides, from the
 * project's files, what to write and what to say (pure); the command reads the files, applies
 * the plan and prints it. Never overwrites a file without `--force`, and never touches a Vite or
 * Vitest config that exists: it prints the lines to add instead. A second run changes nothing.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, dirname, join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { defineCommand } from './command.ts';

/** The files `init` writes, shipped in the package (dist/cli/init-files). */
const FILES = new URL('./init-files/', import.meta.url);

/** The project files `init` reads and may write, relative to the project. */
export const CONFIG_FILE = 'config.yaml';
export const BENCH_FILE = 'benches/submit.bench.ts';
/** Config files Vitest reads, in its own order of precedence (a vitest.config wins over a vite.config). */
export const VITEST_CONFIGS = ['ts', 'mts', 'cts', 'js', 'mjs', 'cjs'].map((ext) => `vitest.config.${ext}`);
export const VITE_CONFIGS = ['ts', 'mts', 'cts', 'js', 'mjs', 'cjs'].map((ext) => `vite.config.${ext}`);

/** The two lines that register the plugin in a config of one's own. */
export const PLUGIN_LINES = [
  "import { loadbench } from 'loadbench/plugin';   // with the other imports",
  'plugins: [loadbench()],                          // in defineConfig({ ... }), beside your other plugins',
] as const;

/** What the project holds now: file contents by relative path (undefined: no such file). */
export type ReadProjectFile = (path: string) => string | undefined;

/** The contents `init` writes, by project path. */
export interface InitTemplates {
  config: string;
  bench: string;
  vitestConfig: string;
}

/** One file to write. */
export interface InitWrite {
  path: string;
  content: string;
  /** What is printed: e.g. `wrote config.yaml`, `added runs/ to .gitignore`. */
  says: string;
}

/** What `init` does to a project: the files to write and the lines to print. */
export interface InitPlan {
  writes: InitWrite[];
  /** Files left as they were, and why; and the lines to add to an existing config. */
  notes: string[];
}

/** Whether a package.json makes `.ts`/`.js` files ES modules (Vite loads an ESM-only plugin only from an ESM config). */
function isEsmPackage(packageJson: string | undefined): boolean {
  if (packageJson === undefined) return false;
  try {
    return (JSON.parse(packageJson) as { type?: unknown }).type === 'module';
  } catch {
    return false;
  }
}

/** The output folder of an existing config.yaml, or `runs`. */
function outputDirOf(config: string | undefined): string {
  if (config === undefined) return 'runs';
  try {
    const dir = (parseYaml(config) as { output_dir?: unknown } | null)?.output_dir;
    return typeof dir === 'string' && dir.trim() ? dir.trim().replace(/^\.\/|\/+$/g, '') : 'runs';
  } catch {
    return 'runs';
  }
}

/** Whether a .gitignore already ignores `dir` at the project root (as `dir`, `dir/`, `/dir` or `/dir/`). */
function ignores(gitignore: string, dir: string): boolean {
  return gitignore.split(/\r?\n/).some((line) => [dir, `${dir}/`, `/${dir}`, `/${dir}/`, `${dir}/*`, `/${dir}/*`].includes(line.trim()));
}

/** The indentation of a JSON text (2 spaces when it cannot be told). */
function jsonIndent(text: string): string | number {
  const match = /^[{[]\r?\n([ \t]+)\S/.exec(text);
  return match?.[1] ?? 2;
}

/** A package name from a folder name: lower case, npm's allowed characters. */
function packageName(folder: string): string {
  return folder.toLowerCase().replace(/[^a-z0-9._-]+/g, '-').replace(/^[._-]+|-+$/g, '') || 'load-tests';
}

/**
 * Decides what `init` writes and says, from the project's files. Pure. With `force`, config.yaml
 * and the bench file are replaced; an existing Vite or Vitest config never is (it may hold the
 * project's whole test set-up).
 */
export function planInit(read: ReadProjectFile, templates: InitTemplates, options: { force: boolean; folderName: string }): InitPlan {
  const writes: InitWrite[] = [];
  const notes: string[] = [];
  const packageJson = read('package.json');

  for (const [path, content] of [
    [CONFIG_FILE, templates.config],
    [BENCH_FILE, templates.bench],
  ] as const) {
    const existing = read(path);
    if (existing === undefined) writes.push({ path, content, says: `wrote ${path}` });
    else if (existing === content) notes.push(`${path} is up to date`);
    else if (options.force) writes.push({ path, content, says: `replaced ${path} (--force)` });
    else notes.push(`kept ${path}: it exists (--force replaces it)`);
  }

  const ownConfig = [...VITEST_CONFIGS, ...VITE_CONFIGS].find((path) => read(path) !== undefined);
  if (ownConfig === undefined) {
    // A .ts config in a package without "type": "module" is loaded as CommonJS, which cannot load this ESM-only plugin on every Node 20.
    const path = packageJson === undefined || isEsmPackage(packageJson) ? 'vitest.config.ts' : 'vitest.config.mts';
    writes.push({ path, content: templates.vitestConfig, says: `wrote ${path} (registers the loadbench plugin)` });
  } else if (read(ownConfig)!.includes('loadbench/plugin')) {
    notes.push(`${ownConfig} already registers the loadbench plugin`);
  } else {
    // Without "type": "module", Vite loads a .ts or .js config as CommonJS, which cannot load an ES module on every Node 20.
    const commonJs = /\.c[jt]s$/.test(ownConfig) || (/\.[jt]s$/.test(ownConfig) && !isEsmPackage(packageJson));
    notes.push(
      `kept ${ownConfig}: it exists and is left as it was. To register loadbench, add these two lines to it:`,
      ...PLUGIN_LINES.map((line) => `  ${line}`),
      ...(commonJs
        ? [`  and rename it to ${ownConfig.replace(/\.c?([jt]s)$/, '.m$1')}: Vite loads ${ownConfig} as CommonJS here (package.json has no "type": "module"), and loadbench is an ES module`]
        : []),
    );
  }

  const gitignore = read('.gitignore');
  const runs = outputDirOf(read(CONFIG_FILE) ?? templates.config);
  if (gitignore === undefined) writes.push({ path: '.gitignore', content: `${runs}/\n`, says: `wrote .gitignore (ignores ${runs}/)` });
  else if (!ignores(gitignore, runs)) {
    const separator = gitignore === '' || gitignore.endsWith('\n') ? '' : '\n';
    writes.push({ path: '.gitignore', content: `${gitignore}${separator}${runs}/\n`, says: `added ${runs}/ to .gitignore` });
  }

  if (packageJson === undefined) {
    const content = `${JSON.stringify({ name: packageName(options.folderName), private: true, type: 'module', scripts: { bench: 'vitest bench' } }, null, 2)}\n`;
    writes.push({ path: 'package.json', content, says: 'wrote package.json (with the script "bench": "vitest bench")' });
  } else {
    let pkg: { scripts?: Record<string, unknown> } | undefined;
    try {
      pkg = JSON.parse(packageJson) as typeof pkg;
    } catch {
      notes.push('kept package.json: it is not valid JSON, so no bench script was added');
    }
    if (pkg && typeof pkg === 'object') {
      if (pkg.scripts?.bench === undefined) {
        const updated = { ...pkg, scripts: { ...pkg.scripts, bench: 'vitest bench' } };
        const eol = packageJson.includes('\r\n') ? '\r\n' : '\n';
        const content = `${JSON.stringify(updated, null, jsonIndent(packageJson)).replaceAll('\n', eol)}${eol}`;
        writes.push({ path: 'package.json', content, says: 'added the script "bench": "vitest bench" to package.json' });
      } else if (pkg.scripts.bench !== 'vitest bench') {
        notes.push(`kept the bench script of package.json (${JSON.stringify(pkg.scripts.bench)}): run loadbench with npx vitest bench`);
      }
    }
  }
  return { writes, notes };
}

/** The templates shipped with the package. */
export function readTemplates(): InitTemplates {
  const read = (name: string): string => readFileSync(new URL(name, FILES), 'utf8');
  return { config: read('config.yaml'), bench: read('benches/submit.bench.ts'), vitestConfig: read('vitest.config.ts') };
}

/** Whether `name` can be imported from the project (installed in its node_modules or above). */
function resolvable(cwd: string, name: string): boolean {
  try {
    createRequire(join(cwd, 'package.json')).resolve(`${name}/package.json`);
    return true;
  } catch {
    return false;
  }
}

export default defineCommand({
  name: 'init',
  summary: 'set loadbench up in this project: config.yaml, benches/submit.bench.ts, vitest.config.ts, .gitignore, a bench script',
  args: '[--force]',
  positionals: { min: 0, max: 0 },
  help: [
    'Writes config.yaml (the target http://localhost:8080/submit, the workload, an SLO, each key commented), ' +
      'benches/submit.bench.ts (one scenario) and vitest.config.ts (registers the loadbench plugin; vitest.config.mts when ' +
      'package.json has no "type": "module"), adds runs/ to .gitignore and the script "bench": "vitest bench" to package.json ' +
      '(writing one when there is none). An existing file is never replaced without --force; an existing Vite or Vitest ' +
      'config is never replaced at all: init prints the two lines to add to it. A second init changes nothing.',
  ],
  options: {
    force: { type: 'boolean', description: 'replace an existing config.yaml and benches/submit.bench.ts' },
  },
  exitStatus: '0 done (also when there was nothing to do); 1 a file could not be written; 2 usage error',
  async run({ values }, io) {
    const root = io.cwd;
    const read: ReadProjectFile = (path) => (existsSync(join(root, path)) ? readFileSync(join(root, path), 'utf8') : undefined);
    const plan = planInit(read, readTemplates(), { force: values.force === true, folderName: basename(root) });
    let failed = false;
    for (const write of plan.writes) {
      try {
        mkdirSync(dirname(join(root, write.path)), { recursive: true });
        writeFileSync(join(root, write.path), write.content);
        io.out(`loadbench init: ${write.says}`);
      } catch (error) {
        failed = true;
        io.err(`loadbench init: could not write ${write.path}: ${(error as Error).message}`);
      }
    }
    for (const note of plan.notes) io.out(note.startsWith('  ') ? note : `loadbench init: ${note}`);
    if (plan.writes.length === 0) io.out('loadbench init: nothing to change: the project is set up');
    const missing = ['loadbench', 'vitest'].filter((name) => !resolvable(root, name));
    if (missing.length) io.out(`then install: npm install --save-dev ${missing.join(' ')}`);
    io.out('next: start your service at target.url of config.yaml (or set LOADBENCH_TARGET_URL), then run: npx vitest bench');
    return failed ? 1 : 0;
  },
});
