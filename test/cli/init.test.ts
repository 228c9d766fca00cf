import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { CliIo } from '../../cli/command.ts';
import { readTemplates } from '../../cli/init.ts';
import { runCli } from '../../cli/main.ts';
import { loadConfig } from '../../core/config/load-config.ts';

function project(files: Record<string, string> = {}): string {
  const dir = mkdtempSync(join(tmpdir(), 'loadbench-init-'));
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(join(dir, path, '..'), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  return dir;
}

async function init(dir: string, ...args: string[]) {
  const out: string[] = [];
  const io: CliIo = { cwd: dir, env: {}, out: (l) => out.push(l), err: (l) => out.push(`ERR ${l}`) };
  const code = await runCli(['init', ...args], io);
  return { code, out };
}

/** Every file of a project with its content and modification time: what "changes nothing" compares. */
function snapshot(dir: string): Record<string, { text: string; mtimeMs: number }> {
  const files = readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile());
  return Object.fromEntries(
    files.map((e) => {
      const path = join(e.parentPath, e.name);
      return [relative(dir, path), { text: readFileSync(path, 'utf8'), mtimeMs: statSync(path).mtimeMs }];
    }),
  );
}

/** package.json as `npm init -y` writes it (npm 11: "type": "commonjs"). */
const NPM_INIT = `{\n  "name": "my-service",\n  "version": "1.0.0",\n  "main": "index.js",\n  "scripts": {\n    "test": "echo \\"Error: no test specified\\" && exit 1"\n  },\n  "type": "commonjs"\n}\n`;

describe('loadbench init', () => {
  it('sets a new project up: config, bench file, Vitest config, .gitignore, bench script; and says what to run next', async () => {
    const dir = project({ 'package.json': NPM_INIT });
    const { code, out } = await init(dir);
    expect(code).toBe(0);
    expect(out).toEqual([
      'loadbench init: wrote config.yaml',
      'loadbench init: wrote benches/submit.bench.ts',
      'loadbench init: wrote vitest.config.mts (registers the loadbench plugin)',
      'loadbench init: wrote .gitignore (ignores runs/)',
      'loadbench init: added the script "bench": "vitest bench" to package.json',
      'then install: npm install --save-dev loadbench vitest',
      'next: start your service at target.url of config.yaml (or set LOADBENCH_TARGET_URL), then run: npx vitest bench',
    ]);
    const templates = readTemplates();
    expect(readFileSync(join(dir, 'benches/submit.bench.ts'), 'utf8')).toBe(templates.bench);
    // A "type": "commonjs" package would load vitest.config.ts as CommonJS: .mts is an ES module everywhere.
    expect(existsSync(join(dir, 'vitest.config.ts'))).toBe(false);
    expect(readFileSync(join(dir, 'vitest.config.mts'), 'utf8')).toContain("import { loadbench } from 'loadbench/plugin';");
    expect(readFileSync(join(dir, '.gitignore'), 'utf8')).toBe('runs/\n');
    const pkg = readFileSync(join(dir, 'package.json'), 'utf8');
    expect(JSON.parse(pkg)).toEqual({ ...JSON.parse(NPM_INIT), scripts: { ...JSON.parse(NPM_INIT).scripts, bench: 'vitest bench' } });
    expect(pkg).toMatch(/^\{\n  "name": "my-service",\n/);

    // The config is valid as written, with the seed's keys, aimed at the usual gateway.
    const { config } = loadConfig(undefined, dir, {});
    expect(config.target.url).toBe('http://localhost:8080/submit');
    expect(config.target.method).toBe('POST');
    expect(config.target.token).toBe('dev-token');
    expect(config.workload).toMatchObject({ challenge_id: 'demo-challenge', concurrency_levels: [1, 2, 4, 8, 16, 32, 64], duration_seconds: 5, warmup_seconds: 1, timeout_seconds: 10 });
    expect(config.workload.payload).toEqual({ challenge_id: '{{challenge_id}}' });
    expect(config).toMatchObject({ run_label: 'baseline', output_dir: 'runs', slo: { p95_ms: 500, error_rate_pct: 1 } });
    expect(config.report).toMatchObject({ hardware_env: 'auto', software_env: 'auto', num_nodes: '1' });
    expect(config.target.start).toBeUndefined();
    const yaml = readFileSync(join(dir, 'config.yaml'), 'utf8');
    // Every key is commented.
    for (const line of yaml.split('\n').filter((l) => /^\s*[a-z_]+:/.test(l) && !/^\s*(target|workload|slo|report):/.test(l))) {
      expect(line, line).toMatch(/#/);
    }
    expect(loadConfig(undefined, dir, { LOADBENCH_TARGET_URL: 'http://127.0.0.1:1234/x' }).config.target.url).toBe('http://127.0.0.1:1234/x');
  });

  it('changes nothing the second time', async () => {
    const dir = project({ 'package.json': NPM_INIT });
    await init(dir);
    const before = snapshot(dir);
    const { code, out } = await init(dir);
    expect(code).toBe(0);
    expect(snapshot(dir)).toEqual(before);
    expect(out).toEqual([
      'loadbench init: config.yaml is up to date',
      'loadbench init: benches/submit.bench.ts is up to date',
      'loadbench init: vitest.config.mts already registers the loadbench plugin',
      'loadbench init: nothing to change: the project is set up',
      'then install: npm install --save-dev loadbench vitest',
      'next: start your service at target.url of config.yaml (or set LOADBENCH_TARGET_URL), then run: npx vitest bench',
    ]);
  });

  it('leaves an existing vitest.config.ts as it was and prints the two lines to add', async () => {
    const own = "import { defineConfig } from 'vitest/config';\n\nexport default defineConfig({ test: { environment: 'node' } });\n";
    const dir = project({ 'package.json': '{ "name": "svc", "type": "module" }\n', 'vitest.config.ts': own });
    const { code, out } = await init(dir);
    expect(code).toBe(0);
    expect(readFileSync(join(dir, 'vitest.config.ts'), 'utf8')).toBe(own);
    expect(existsSync(join(dir, 'vitest.config.mts'))).toBe(false);
    const at = out.indexOf('loadbench init: kept vitest.config.ts: it exists and is left as it was. To register loadbench, add these two lines to it:');
    expect(at).toBeGreaterThan(-1);
    expect(out.slice(at + 1, at + 3)).toEqual([
      "  import { loadbench } from 'loadbench/plugin';   // with the other imports",
      '  plugins: [loadbench()],                          // in defineConfig({ ... }), beside your other plugins',
    ]);
    // An ES module package: no rename needed.
    expect(out.join('\n')).not.toContain('rename');
    // The package.json kept its one-line style's content and got the script.
    expect(JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'))).toEqual({ name: 'svc', type: 'module', scripts: { bench: 'vitest bench' } });

    // Force replaces loadbench's own files, never the project's Vitest config.
    writeFileSync(join(dir, 'config.yaml'), 'run_label: mine\n');
    const forced = await init(dir, '--force');
    expect(forced.out).toContain('loadbench init: replaced config.yaml (--force)');
    expect(readFileSync(join(dir, 'config.yaml'), 'utf8')).toBe(readTemplates().config);
    expect(readFileSync(join(dir, 'vitest.config.ts'), 'utf8')).toBe(own);
  });

  it('says to rename a config that Vite loads as CommonJS, and counts a vite.config as the project\'s own', async () => {
    const own = "const { defineConfig } = require('vitest/config');\nmodule.exports = defineConfig({});\n";
    const dir = project({ 'package.json': NPM_INIT, 'vite.config.js': own });
    const { out } = await init(dir);
    expect(existsSync(join(dir, 'vitest.config.mts'))).toBe(false);
    expect(readFileSync(join(dir, 'vite.config.js'), 'utf8')).toBe(own);
    expect(out).toContain('  and rename it to vite.config.mjs: Vite loads vite.config.js as CommonJS here (package.json has no "type": "module"), and loadbench is an ES module');
  });

  it('never overwrites without --force; keeps a .gitignore and a bench script of its own', async () => {
    const dir = project({
      'package.json': '{\n\t"name": "svc",\n\t"scripts": { "bench": "node bench.js" }\n}\n',
      'config.yaml': 'run_label: mine\noutput_dir: out/load\n',
      '.gitignore': 'node_modules',
    });
    const { out } = await init(dir);
    expect(out).toContain('loadbench init: kept config.yaml: it exists (--force replaces it)');
    expect(readFileSync(join(dir, 'config.yaml'), 'utf8')).toBe('run_label: mine\noutput_dir: out/load\n');
    // The existing config's output folder is the one ignored, on a line of its own.
    expect(readFileSync(join(dir, '.gitignore'), 'utf8')).toBe('node_modules\nout/load/\n');
    expect(out).toContain('loadbench init: kept the bench script of package.json ("node bench.js"): run loadbench with npx vitest bench');
    expect(readFileSync(join(dir, 'package.json'), 'utf8')).toBe('{\n\t"name": "svc",\n\t"scripts": { "bench": "node bench.js" }\n}\n');
    const again = snapshot(dir);
    await init(dir);
    expect(snapshot(dir)).toEqual(again);
  });

  it('works without a package.json: writes one, an ES module package with the bench script', async () => {
    const dir = project({ '.gitignore': '/runs\n' });
    const { code, out } = await init(dir);
    expect(code).toBe(0);
    expect(out).toContain('loadbench init: wrote vitest.config.ts (registers the loadbench plugin)');
    expect(out).toContain('loadbench init: wrote package.json (with the script "bench": "vitest bench")');
    const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
    expect(pkg).toMatchObject({ private: true, type: 'module', scripts: { bench: 'vitest bench' } });
    expect(pkg.name).toMatch(/^loadbench-init-[a-z0-9]+$/);
    expect(readFileSync(join(dir, '.gitignore'), 'utf8')).toBe('/runs\n');
  });

  it('reports a file it could not write and exits 1', async () => {
    const dir = project({ 'package.json': NPM_INIT });
    // A folder where the bench file's folder should be created.
    writeFileSync(join(dir, 'benches'), 'not a folder');
    const { code, out } = await init(dir);
    expect(code).toBe(1);
    expect(out).toContainEqual(expect.stringMatching(/^ERR loadbench init: could not write benches\/submit\.bench\.ts: /));
    expect(existsSync(join(dir, 'config.yaml'))).toBe(true);
  });
});
