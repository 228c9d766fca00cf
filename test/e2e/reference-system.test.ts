import { readFileSync, rmSync, writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { parse } from 'csv-parse/sync';
import { parse as parseYaml, stringify } from 'yaml';
import { describe, expect, it } from 'vitest';
import { isListening } from '../../plugin/target/target-process.ts';
import { REPO_ROOT } from '../helpers/fixture-project.ts';
import { closedPort } from '../helpers/servers.ts';

/**
 * The README's main command, `npx vitest bench`, in this repository: the shipped config.yaml
 * starts the reference system and the shipped bench file runs the sweep. Only the sweep is
 * shortened and the port moved (so a gateway someone left on 8080 does not interfere).
 */
describe('the main job against the reference system', () => {
  it('starts the gateway, runs benches/submit.bench.ts, writes the outputs and stops the gateway', async () => {
    const port = await closedPort();
    const shipped = parseYaml(readFileSync(join(REPO_ROOT, 'config.yaml'), 'utf8')) as Record<string, any>;
    const config = structuredClone(shipped);
    config.run_label = `e2e-reference-${process.pid}`;
    config.output_dir = 'runs/.e2e';
    config.target.url = config.target.url.replace(':8080', `:${port}`);
    config.target.start.command = config.target.start.command.replace('--port 8080', `--port ${port}`);
    config.target.start.ready_url = config.target.start.ready_url.replace(':8080', `:${port}`);
    config.workload.concurrency_levels = [1, 4];
    config.workload.duration_seconds = 1;
    config.workload.warmup_seconds = 0.5;
    expect(config.target.start.command).toContain(`--port ${port}`);
    const file = join(mkdtempSync(join(tmpdir(), 'loadbench-ref-')), 'config.yaml');
    writeFileSync(file, stringify(config));

    const { code, output } = await new Promise<{ code: number | null; output: string }>((resolve) => {
      const child = spawn(process.execPath, [join(REPO_ROOT, 'node_modules/vitest/vitest.mjs'), 'bench', '--run'], {
        cwd: REPO_ROOT,
        env: { ...process.env, CI: 'true', NO_COLOR: '1', LOADBENCH_CONFIG: file, WORKERS: '2' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      child.stdout.on('data', (c: Buffer) => (out += c));
      child.stderr.on('data', (c: Buffer) => (out += c));
      const timer = setTimeout(() => child.kill('SIGKILL'), 90_000);
      child.on('close', (c) => {
        clearTimeout(timer);
        resolve({ code: c, output: out });
      });
    });
    const dir = join(REPO_ROOT, 'runs/.e2e');
    try {
      expect(code, output).toBe(0);
      expect(output).toContain('loadbench: target ready');
      const rows = parse(readFileSync(join(dir, `${config.run_label}_summary.csv`), 'utf8'), { columns: true }) as Record<string, string>[];
      expect(rows.map((r) => r.concurrency)).toEqual(['1', '4']);
      for (const r of rows) {
        expect(Number(r.successes)).toBeGreaterThan(20);
        expect(Number(r.error_rate_pct)).toBe(0);
      }
      const json = JSON.parse(readFileSync(join(dir, `${config.run_label}_summary.json`), 'utf8'));
      expect(json.report.num_nodes).toBe('gateway=1, worker=2');
      expect(await isListening('127.0.0.1', port)).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
