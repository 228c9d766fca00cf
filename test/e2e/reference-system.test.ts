import { readFileSync, rmSync, writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { parse } from 'csv-parse/sync';
import { parse as parseYaml, stringify } from 'yaml';
import { describe, expect, it } from 'vitest';
import { measuredLevels } from '../../core/model/summary.ts';
import { isListening } from '../../core/target/target-process.ts';
import { REPO_ROOT } from '../helpers/fixture-project.ts';
import { readRunSummary } from '../../core/model/read-summary.ts';
import { closedPort } from '../helpers/servers.ts';
import { loadConfig } from '../../core/config/load-config.ts';
import { workloadHash } from '../../core/gates/fingerprint.ts';
import { resolveScenario, scenarioSnapshot } from '../../core/scenario/resolve.ts';

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
    // The shipped config writes the port as {{port}}, which stands for target.port outside `loadbench ab`.
    expect(config.target.start.command).toContain('--port {{port}}');
    config.target.port = port;
    config.workload.concurrency_levels = [1, 4];
    config.workload.duration_seconds = 1;
    config.workload.warmup_seconds = 0.5;
    // This test is about the main job's outputs; the regression gate has its own tests (a 1 s sweep
    // beside other test files is not comparable with the committed 5 s baseline).
    delete config.baseline;
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

describe('the committed baselines of the shipped config', () => {
  it('exist for 1, 2 and 4 workers and match the shipped sweep, so the gate judges every level', async () => {
    const shipped = parseYaml(readFileSync(join(REPO_ROOT, 'config.yaml'), 'utf8')) as Record<string, any>;
    expect(shipped.baseline.file).toBe('baselines/submit-${WORKERS:-2}x.json');
    for (const workers of [1, 2, 4]) {
      const file = join(REPO_ROOT, `baselines/submit-${workers}x.json`);
      const baseline = await readRunSummary(file);
      expect(baseline.interrupted, file).toBe(false);
      expect(baseline.report.num_nodes).toBe(`gateway=1, worker=${workers}`);
      const submit = baseline.scenarios.find((s) => s.name === 'submit')!;
      expect(submit, file).toBeDefined();
      expect(submit.levels.map((l) => l.concurrency)).toEqual(shipped.workload.concurrency_levels);
      expect(submit.workload.duration_seconds).toBe(shipped.workload.duration_seconds);
      // Enough requests at every level for the gate's default min_requests (200).
      for (const l of measuredLevels(submit)) expect(l.requests, `${file} c=${l.concurrency}`).toBeGreaterThanOrEqual(200);
      // No credential in a file meant to be committed.
      expect(readFileSync(file, 'utf8')).not.toContain('dev-token');
      // Issue 13: where it was recorded, and the workload of the shipped sweep, so that a run of it on a machine of that speed is judged.
      expect(baseline.machine, file).toBeDefined();
      expect(baseline.machine!.calibration.ms).toBeGreaterThan(0);
      const { config } = loadConfig(undefined, REPO_ROOT, { WORKERS: String(workers) });
      expect(submit.workload_hash, file).toBe(workloadHash(scenarioSnapshot(resolveScenario('submit', {}, config), 'benches/submit.bench.ts'), config.target.start));
    }
  });
});
