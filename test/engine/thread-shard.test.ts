import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { threadEntry } from '../../engine/thread-shard.ts';
import { REPO_ROOT } from '../helpers/fixture-project.ts';
import { startServer, type TestServer } from '../helpers/servers.ts';

describe('the generator thread entry', () => {
  it('is the sibling level-thread.ts when the engine runs from its TypeScript sources', () => {
    const entry = threadEntry();
    expect(entry.href.endsWith('/engine/level-thread.ts')).toBe(true);
    expect(existsSync(fileURLToPath(entry))).toBe(true);
  });
});

/**
 * The engine built by tsc (same tree, `.ts` imports rewritten to `.js`) into a folder whose
 * node_modules holds only the engine's runtime dependencies: no tsx can be found from there.
 */
describe('generator threads from built JavaScript', () => {
  let dir: string;
  let server: TestServer;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'loadbench-built-engine-'));
    writeFileSync(
      join(dir, 'tsconfig.json'),
      JSON.stringify({
        extends: join(REPO_ROOT, 'tsconfig.json'),
        compilerOptions: {
          noEmit: false,
          allowImportingTsExtensions: false,
          rewriteRelativeImportExtensions: true,
          rootDir: REPO_ROOT,
          outDir: join(dir, 'dist'),
          typeRoots: [join(REPO_ROOT, 'node_modules/@types')],
        },
        include: [join(REPO_ROOT, 'engine')],
      }),
    );
    const tsc = spawnSync(process.execPath, [join(REPO_ROOT, 'node_modules/typescript/bin/tsc'), '-p', join(dir, 'tsconfig.json')], { encoding: 'utf8' });
    expect(tsc.stdout + tsc.stderr).toBe('');
    writeFileSync(join(dir, 'package.json'), '{ "type": "module" }\n');
    mkdirSync(join(dir, 'node_modules'));
    for (const dep of ['hdr-histogram-js', 'csv-stringify', 'pure-rand']) symlinkSync(join(REPO_ROOT, 'node_modules', dep), join(dir, 'node_modules', dep));
    server = await startServer((_n, _req, res) => res.end('{"ok":true}'));
  }, 120_000);
  afterAll(async () => {
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('run level-thread.js directly, without tsx', async () => {
    expect(() => createRequire(join(dir, 'dist/engine/')).resolve('tsx')).toThrow();
    writeFileSync(
      join(dir, 'run.mjs'),
      [
        "import { runLevel } from './dist/engine/level-controller.js';",
        "import { threadEntry } from './dist/engine/thread-shard.js';",
        'const url = new URL(process.argv[2]);',
        "const m = await runLevel({ scenario: 'built', concurrency: 4, url, method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}', challengeId: 'x', requestsPerLevel: 400, warmupSeconds: 0, timeoutSeconds: 5, maxBodyBytes: 1024, threads: 2 });",
        'console.log(JSON.stringify({ entry: threadEntry().href, requests: m.requests, successes: m.successes, threads: m.generator.threads }));',
      ].join('\n'),
    );
    const { NODE_OPTIONS: _ignored, ...env } = process.env;
    const child = spawn(process.execPath, [join(dir, 'run.mjs'), server.url], { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c));
    child.stderr.on('data', (c: Buffer) => (err += c));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect(err).toBe('');
    expect(code).toBe(0);
    const result = JSON.parse(out.trim()) as { entry: string; requests: number; successes: number; threads: number };
    expect(result.entry).toBe(new URL('dist/engine/level-thread.js', `file://${dir}/`).href);
    expect(result).toMatchObject({ requests: 400, successes: 400, threads: 2 });
  });
});
