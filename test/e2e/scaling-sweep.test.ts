/**
 * The scaling sweep in one command (issue 16), against the reference system: `npx vitest bench`
 * with `scaling: { replicas: [1, 2], env: WORKERS }` added to the shipped config.yaml (short
 * levels, another port). Heavy: run under the machine lock,
 *   npm run build && flock /tmp/loadbench-machine.lock npx vitest run test/e2e/scaling-sweep.test.ts
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { parse as parseYaml, stringify } from 'yaml';
import { afterAll, describe, expect, it } from 'vitest';
import { availableResources } from '../../core/model/resources.ts';
import { readRunSummary } from '../../core/model/read-summary.ts';
import { measuredLevels } from '../../core/model/summary.ts';
import { isListening } from '../../core/target/target-process.ts';
import { REPO_ROOT } from '../helpers/fixture-project.ts';
import { closedPort } from '../helpers/servers.ts';

const OUT = `runs/.e2e-scaling-${process.pid}`;
afterAll(() => rmSync(join(REPO_ROOT, OUT), { recursive: true, force: true }));

async function scalingRun(
  label: string,
  change: (config: Record<string, any>) => void = () => undefined,
  onOutput: (output: string, child: ReturnType<typeof spawn>) => void = () => undefined,
) {
  const port = await closedPort();
  const config = parseYaml(readFileSync(join(REPO_ROOT, 'config.yaml'), 'utf8')) as Record<string, any>;
  expect(config.scaling, 'the shipped config keeps its quick default sweep').toBeUndefined();
  config.run_label = label;
  config.output_dir = OUT;
  config.target.url = config.target.url.replace(':8080', `:${port}`);
  config.target.start.command = config.target.start.command.replace('--port 8080', `--port ${port}`);
  config.target.start.ready_url = config.target.start.ready_url.replace(':8080', `:${port}`);
  config.workload.concurrency_levels = [1, 4];
  config.workload.duration_seconds = 1;
  config.workload.warmup_seconds = 0.5;
  // Each count reads its own baseline (baselines/submit-${WORKERS:-2}x.json); 1 s levels are not
  // comparable with the committed 5 s ones, so no level is judged against it here.
  config.baseline.min_requests = 1_000_000;
  config.scaling = { replicas: [1, 2], env: 'WORKERS' };
  change(config);
  const file = join(mkdtempSync(join(tmpdir(), 'loadbench-scaling-')), 'config.yaml');
  writeFileSync(file, stringify(config));
  const result = await new Promise<{ code: number | null; output: string }>((resolve) => {
    const child = spawn(process.execPath, [join(REPO_ROOT, 'node_modules/vitest/vitest.mjs'), 'bench', '--run'], {
      cwd: REPO_ROOT,
      // WORKERS set as a user may have it: the sweep's own counts win.
      env: { ...process.env, CI: 'true', NO_COLOR: '1', LOADBENCH_CONFIG: file, WORKERS: '4' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    const collect = (c: Buffer): void => {
      out += c;
      onOutput(out, child);
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
    child.on('close', (c) => {
      clearTimeout(timer);
      resolve({ code: c, output: out });
    });
  });
  return { ...result, port, dir: join(REPO_ROOT, OUT) };
}

describe('the scaling sweep on the reference system', () => {
  it('runs the sweep at 1 and 2 workers in one command, restarting the gateway, and writes both runs and the comparison (exit 0)', async () => {
    const { code, output, port, dir } = await scalingRun('e2e-scale');
    expect(code, output).toBe(0);
    expect(output).toContain('loadbench: 1 replica (WORKERS=1): run "e2e-scale-1x"');
    expect(output).toContain('loadbench: 2 replicas (WORKERS=2): run "e2e-scale-2x"');
    expect(output.match(/loadbench: target ready/g)).toHaveLength(2);
    expect(output).toContain('benches/submit.bench.ts > submit > 2x > concurrency 4');
    expect(output).toContain('loadbench: scaling sweep: every replica count passed (exit code 0)');
    for (const [replicas, workers] of [
      [1, ['worker']],
      [2, ['worker 1', 'worker 2']],
    ] as const) {
      const summary = await readRunSummary(join(dir, `e2e-scale-${replicas}x_summary.json`));
      expect(summary.report.num_nodes).toBe(`gateway=1, worker=${replicas}`);
      expect(summary.scaling).toEqual({ replicas, sweep: [1, 2], sweep_label: 'e2e-scale' });
      expect(summary.baseline?.file).toBe(`baselines/submit-${replicas}x.json`);
      expect(summary.outcome?.exit_code).toBe(0);
      const levels = measuredLevels(summary.scenarios[0]!);
      expect(levels.map((l) => l.concurrency)).toEqual([1, 4]);
      for (const l of levels) {
        const r = availableResources(l.resources)!;
        expect(r, `resources at ${replicas}x c=${l.concurrency}`).toBeDefined();
        // The gateway and its forked workers, named by their scripts; the bench process as the generator.
        const labels = r.processes.filter((p) => !p.wrapper && ['gateway', 'worker'].includes(p.role)).map((p) => p.label);
        expect(labels).toEqual(['gateway', ...workers]);
        expect(r.processes.find((p) => p.role === 'worker')!.mean_cores).toBeGreaterThan(0.05);
        expect(r.generator!.mean_cores).toBeGreaterThan(0.01);
        expect(r.machine!.cores).toBeGreaterThanOrEqual(1);
      }
      const rows = parse(readFileSync(join(dir, `e2e-scale-${replicas}x_summary.csv`), 'utf8'), { columns: true }) as Record<string, string>[];
      for (const row of rows) for (const c of ['target_cpu_cores', 'target_rss_mb', 'generator_cpu_cores', 'machine_cpu_pct']) expect(Number(row[c]), c).toBeGreaterThan(0);
      expect(existsSync(join(dir, `e2e-scale-${replicas}x_resources.png`))).toBe(true);
      expect(existsSync(join(dir, `e2e-scale-${replicas}x_raw.csv`))).toBe(true);
    }
    for (const suffix of ['throughput.png', 'p95_latency.png', 'error_rate.png', 'summary.csv', 'report.md']) {
      expect(existsSync(join(dir, `e2e-scale_scaling_${suffix}`)), suffix).toBe(true);
    }
    const report = readFileSync(join(dir, 'e2e-scale_scaling_report.md'), 'utf8');
    expect(report).toContain('## What limited each run (measured CPU of the system under test)');
    expect(report).toMatch(/- e2e-scale-2x at its peak \(concurrency \d+\): /);
    expect(await isListening('127.0.0.1', port)).toBe(false);
  }, 150_000);

  it('fails (exit 1) when an SLO of any replica count fails, after writing every run and the comparison', async () => {
    const { code, output, dir } = await scalingRun('e2e-scale-slo', (config) => {
      // Every level of both counts is judged, and no system meets 1 µs.
      config.workload.concurrency_levels = [1, 2];
      config.slo = { p95_ms: 0.001, up_to_concurrency: 2 };
      config.stop_on_slo_failure = false;
    });
    expect(code, output).toBe(1);
    expect(output).toMatch(/loadbench: scaling sweep: \d+ failure\(s\) \(exit code 1\)/);
    const one = await readRunSummary(join(dir, 'e2e-scale-slo-1x_summary.json'));
    const two = await readRunSummary(join(dir, 'e2e-scale-slo-2x_summary.json'));
    expect(one.outcome?.status).toBe('fail');
    expect(two.outcome?.status).toBe('fail');
    expect(existsSync(join(dir, 'e2e-scale-slo_scaling_report.md'))).toBe(true);
  }, 150_000);

  it('Ctrl-C during the second count: exit 130, the first count keeps its verdict, the second is written as interrupted', async () => {
    let sent = false;
    const { code, output, port, dir } = await scalingRun(
      'e2e-scale-int',
      (config) => {
        config.workload.duration_seconds = 3;
      },
      (out, child) => {
        // A second into the first level at 2 workers.
        if (!sent && out.includes('run "e2e-scale-int-2x"') && out.split('loadbench: target ready').length === 3) {
          sent = true;
          setTimeout(() => child.kill('SIGINT'), 1500);
        }
      },
    );
    expect(code, output).toBe(130);
    const one = await readRunSummary(join(dir, 'e2e-scale-int-1x_summary.json'));
    expect(one.outcome?.status).toBe('pass');
    expect(measuredLevels(one.scenarios[0]!).map((l) => l.status)).toEqual(['measured', 'measured']);
    const two = await readRunSummary(join(dir, 'e2e-scale-int-2x_summary.json'));
    expect(two.interrupted).toBe(true);
    expect(two.outcome?.status).toBe('interrupted');
    expect(two.scenarios[0]!.levels[0]!.status).toBe('partial');
    // Two counts with measured levels: the comparison is written all the same.
    expect(existsSync(join(dir, 'e2e-scale-int_scaling_report.md'))).toBe(true);
    expect(await isListening('127.0.0.1', port)).toBe(false);
  }, 150_000);
});
