import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../helpers/fixture-project.ts';

const DEPCRUISE = join(REPO_ROOT, 'node_modules/dependency-cruiser/bin/dependency-cruise.mjs');

/** A throwaway tree with the repository's layer rules, and the given files. */
function tree(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'loadbench-layers-'));
  copyFileSync(join(REPO_ROOT, '.dependency-cruiser.cjs'), join(dir, '.dependency-cruiser.cjs'));
  writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext', allowImportingTsExtensions: true, noEmit: true } }));
  writeFileSync(join(dir, 'package.json'), '{ "type": "module" }\n');
  symlinkSync(join(REPO_ROOT, 'node_modules'), join(dir, 'node_modules'));
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  return dir;
}

function cruise(dir: string): { code: number | null; output: string } {
  const r = spawnSync(process.execPath, [DEPCRUISE, 'engine', 'core', 'reporters', 'plugin', '--config', '.dependency-cruiser.cjs', '--output-type', 'err'], {
    cwd: dir,
    encoding: 'utf8',
  });
  return { code: r.status, output: `${r.stdout}${r.stderr}` };
}

describe('layer rules (npm run lint:deps)', () => {
  it('pass on a tree whose imports point one way', () => {
    const dir = tree({
      'engine/a.ts': 'export const a = 1;\n',
      'core/model/m.ts': "import { a } from '../../engine/a.ts';\nexport const m = a;\n",
      'reporters/r.ts': "import { m } from '../core/model/m.ts';\nexport const r = m;\n",
      'plugin/p.ts': "import 'vitest';\nimport { r } from '../reporters/r.ts';\nexport const p = r;\n",
    });
    const { code, output } = cruise(dir);
    expect(code, output).toBe(0);
  });

  it('fail on a cycle, an engine importing the core, a reporter reaching past the model, and Vitest outside the adapter', () => {
    const dir = tree({
      'engine/a.ts': "import { b } from '../core/b.ts';\nexport const a = b;\n",
      'core/b.ts': "import { a } from '../engine/a.ts';\nexport const b = 1;\nexport const c = a;\n",
      'core/run/x.ts': "import 'vitest';\nexport const x = 1;\n",
      'reporters/r.ts': "import { x } from '../core/run/x.ts';\nexport const r = x;\n",
      'plugin/p.ts': "import { r } from '../reporters/r.ts';\nexport const p = r;\n",
    });
    const { code, output } = cruise(dir);
    expect(code, output).not.toBe(0);
    expect(output).not.toMatch(/Can't open/);
    for (const rule of ['no-circular', 'engine-imports-nothing-above', 'reporters-import-only-the-summary-model', 'only-the-vitest-adapter-knows-vitest']) {
      expect(output, rule).toContain(rule);
    }
  });
});
