import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (this file is test/helpers/fixture-project.ts). */
export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** A throwaway project that uses loadbench like a user's project does. */
export interface FixtureProject {
  dir: string;
  /** Runs `vitest bench --run`; `onOutput` sees the output so far and may signal the child. */
  runBench(
    env?: Record<string, string>,
    args?: string[],
    onOutput?: (output: string, child: ChildProcess) => void,
  ): Promise<{ code: number | null; output: string }>;
}

/**
 * Creates a project in a temp folder: vitest.config.ts with the plugin, config.yaml, and the
 * given bench files (which import `scenario` from `SCENARIO`, replaced by the real path).
 */
export function fixtureProject(configYaml: string, benches: Record<string, string>): FixtureProject {
  const dir = mkdtempSync(join(tmpdir(), 'loadbench-e2e-'));
  symlinkSync(join(REPO_ROOT, 'node_modules'), join(dir, 'node_modules'));
  writeFileSync(
    join(dir, 'vitest.config.ts'),
    `import { defineConfig } from 'vitest/config';\nimport { loadbench } from ${JSON.stringify(
      join(REPO_ROOT, 'plugin/index.ts'),
    )};\nexport default defineConfig({ plugins: [loadbench()] });\n`,
  );
  writeFileSync(join(dir, 'package.json'), '{ "name": "fixture", "type": "module", "private": true }\n');
  writeFileSync(join(dir, 'config.yaml'), configYaml);
  mkdirSync(join(dir, 'benches'));
  for (const [name, body] of Object.entries(benches)) {
    writeFileSync(
      join(dir, 'benches', name),
      body.replaceAll('SCENARIO', JSON.stringify(join(REPO_ROOT, 'plugin/scenario.ts'))),
    );
  }
  return {
    dir,
    runBench(env = {}, args = [], onOutput) {
      return new Promise((resolve) => {
        const child = spawn(
          process.execPath,
          [join(REPO_ROOT, 'node_modules/vitest/vitest.mjs'), 'bench', '--run', ...args],
          {
            cwd: dir,
            env: { ...process.env, CI: 'true', NO_COLOR: '1', FORCE_COLOR: '0', LOADBENCH_CONFIG: '', ...env },
            stdio: ['ignore', 'pipe', 'pipe'],
          },
        );
        let output = '';
        const collect = (c: Buffer): void => {
          output += c.toString();
          onOutput?.(output, child);
        };
        child.stdout.on('data', collect);
        child.stderr.on('data', collect);
        const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
        child.on('close', (code, signal) => {
          if (signal) output += `\n[killed by ${signal}]`;
          clearTimeout(timer);
          resolve({ code, output });
        });
      });
    },
  };
}
