#!/usr/bin/env node
/**
 * Builds the package into dist/: `tsc -p tsconfig.build.json` (JavaScript and declarations at the
 * sources' relative paths, `.ts` imports rewritten to `.js`), then the files the code reads at run
 * time (the Mustache templates, what `loadbench init` copies). Run by `npm run build`, by `prepare`
 * (so `npm ci`, `npm pack` and a git dependency build it) and before `npm test`.
 *
 * tsc is incremental (dist/.tsbuildinfo): an unchanged tree builds in a few seconds. Outputs whose
 * source is gone are removed, so a deleted module never lingers in dist/ or in the package.
 * Plain JavaScript on purpose: it runs before anything is built, with nothing but Node and tsc.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const dist = join(root, 'dist');

/** Folders copied as they are: read at run time, not compiled. */
const ASSETS = ['reporters/templates', 'cli/init-files'];

const config = JSON.parse(readFileSync(join(root, 'tsconfig.build.json'), 'utf8'));
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');

function compile() {
  const result = spawnSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json')], { stdio: 'inherit' });
  if (result.status !== 0) {
    process.stderr.write(`build: tsc failed (exit ${result.status ?? result.signal})\n`);
    process.exit(1);
  }
}

/** Every file under `dir`, as paths relative to it. */
function walk(dir) {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile())
    .map((e) => relative(dir, join(e.parentPath ?? e.path, e.name)));
}

const isAsset = (rel) => ASSETS.some((a) => rel === a || rel.startsWith(`${a}/`));

/** The sources tsc compiles (tsconfig.build.json `include`, minus its `exclude` and the assets). */
function sources() {
  return config.include.flatMap((entry) =>
    entry.endsWith('.ts') ? [entry] : walk(join(root, entry)).map((rel) => join(entry, rel)).filter((rel) => rel.endsWith('.ts') && !isAsset(rel)),
  );
}

compile();
// tsc's incremental state does not notice deleted outputs: when one is missing, build from scratch once.
if (sources().some((rel) => !existsSync(join(dist, rel.replace(/\.ts$/, '.js'))))) {
  rmSync(join(dist, '.tsbuildinfo'), { force: true });
  compile();
}
let removed = 0;
for (const rel of walk(dist)) {
  if (rel === '.tsbuildinfo' || isAsset(rel)) continue;
  const source = rel.replace(/\.d\.ts$|\.js$/, '.ts');
  if (source !== rel && !existsSync(join(root, source))) {
    rmSync(join(dist, rel));
    removed++;
  }
}

for (const asset of ASSETS) {
  rmSync(join(dist, asset), { recursive: true, force: true });
  cpSync(join(root, asset), join(dist, asset), { recursive: true });
}

process.stdout.write(`build: dist/ ready${removed ? ` (${removed} stale file(s) removed)` : ''}\n`);
