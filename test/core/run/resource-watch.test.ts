/**
 * Resource figures of the system under test, end to end (issue 16): a run through `runSweep()`
 * against a fixture target whose use is known by construction (fixtures/resource-target.mjs: a
 * process spinning at 50 % of a core, an idle one, one holding 100 MiB), then what the summary
 * JSON and CSV say. Timing-sensitive: run under the machine lock,
 *   flock /tmp/loadbench-machine.lock npx vitest run test/core/run/resource-watch.test.ts
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import { runSweep } from '../../../api/run-sweep.ts';
import { availableResources, type AvailableLevelResources } from '../../../core/model/resources.ts';
import { measuredLevels, type RunSummary } from '../../../core/model/summary.ts';
import { ResourceWatch, targetSelectors } from '../../../core/run/resource-watch.ts';
import { validateConfig } from '../../../core/config/load-config.ts';
import { closedPort } from '../../helpers/servers.ts';

const TARGET = fileURLToPath(new URL('fixtures/resource-target.mjs', import.meta.url));
const linux = process.platform === 'linux';

function configFor(port: number, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    run_label: 'resources',
    target: {
      url: `http://127.0.0.1:${port}/submit`,
      method: 'POST',
      start: { command: `'${process.execPath}' '${TARGET}' ${port}`, ready_url: `http://127.0.0.1:${port}/healthz`, timeout_seconds: 20 },
    },
    // Two levels of 3 s: the first gives the spinner time to settle, the second is judged too.
    workload: { payload: { x: 1 }, concurrency_levels: [1, 2], duration_seconds: 3, warmup_seconds: 0.5 },
    slo: {},
    ...extra,
  };
}

function levelFigures(summary: RunSummary): AvailableLevelResources[] {
  return measuredLevels(summary.scenarios[0]!).map((l) => {
    const r = availableResources(l.resources);
    if (!r) throw new Error(`no resource figures at concurrency ${l.concurrency}: ${JSON.stringify(l.resources)}`);
    return r;
  });
}

/** RESOURCES_TEST_VERBOSE=1 prints the measured figures, to see the margins on a machine. */
const report = (what: string, value: unknown): void => {
  if (process.env.RESOURCES_TEST_VERBOSE === '1') console.log(`${what}: ${JSON.stringify(value)}`);
};

describe.runIf(linux)('resource figures of a target loadbench started', () => {
  it('measure a 50 % spinner and an idle process within 10 points, and 100 MiB of RSS within 10 %', async () => {
    const root = mkdtempSync(join(tmpdir(), 'loadbench-resources-'));
    const port = await closedPort();
    const summary = await runSweep({ root, config: configFor(port), scenarios: [{ name: 'submit' }] });
    expect(summary.outcome?.exit_code).toBe(0);
    expect(summary.resources).toMatchObject({ available: true, interval_ms: 250 });
    expect(summary.resources!.monitored[0]).toMatch(/^process group of target\.start \(pid \d+\)/);

    for (const [k, r] of levelFigures(summary).entries()) {
      const byRole = (role: string) => {
        const found = r.processes.filter((p) => p.role === role);
        expect(found, `${role} at level ${k}: ${r.processes.map((p) => p.label).join(', ')}`).toHaveLength(1);
        return found[0]!;
      };
      const spinner = byRole('spinner');
      const idle = byRole('idle');
      const hog = byRole('hog');
      byRole('resource-target');
      report(`level ${k}: spinner / idle cores, hog / idle RSS MiB, target, machine %`, [spinner.mean_cores, idle.mean_cores, hog.max_rss_mb, idle.max_rss_mb, r.target?.mean_cores, r.machine?.mean_cpu_pct]);
      // 4 samples a second over 3 s: 12 or more samples in each level.
      expect(r.samples).toBeGreaterThanOrEqual(10);
      expect(Math.abs(spinner.mean_cores - 0.5)).toBeLessThanOrEqual(0.1);
      expect(idle.mean_cores).toBeLessThanOrEqual(0.1);
      // The same runtime in both: the difference is what the hog allocated.
      const held = hog.max_rss_mb - idle.max_rss_mb;
      expect(Math.abs(held - 100) / 100).toBeLessThanOrEqual(0.1);
      expect(r.target!.mean_cores).toBeGreaterThanOrEqual(spinner.mean_cores);
      expect(r.target!.max_rss_mb).toBeGreaterThan(hog.max_rss_mb);
      expect(r.target!.process_count).toBeGreaterThanOrEqual(4);
      // loadbench itself, and the machine as a whole.
      expect(r.generator!.mean_cores).toBeGreaterThan(0);
      expect(r.generator!.max_rss_mb).toBeGreaterThan(20);
      expect(r.machine!.cores).toBe(cpus().length);
      expect(r.machine!.mean_cpu_pct).toBeGreaterThanOrEqual((100 * (spinner.mean_cores - 0.05)) / r.machine!.cores);
      // A point per whole second of the level, each with the target's CPU.
      expect(r.timeline.length).toBe(3);
      for (const p of r.timeline) expect(p.target_cores).toBeGreaterThan(0.3);
    }

    const rows = parse(readFileSync(join(root, 'runs/resources_summary.csv'), 'utf8'), { columns: true }) as Record<string, string>[];
    const levels = levelFigures(summary);
    for (const [k, row] of rows.entries()) {
      expect(Number(row.target_cpu_cores)).toBe(levels[k]!.target!.mean_cores);
      expect(Number(row.target_rss_mb)).toBe(levels[k]!.target!.max_rss_mb);
      expect(Number(row.generator_cpu_cores)).toBe(levels[k]!.generator!.mean_cores);
      expect(Number(row.machine_cpu_pct)).toBe(levels[k]!.machine!.mean_cpu_pct);
    }
    expect(existsSync(join(root, 'runs/resources_resources.png'))).toBe(true);
    const md = readFileSync(join(root, 'runs/resources_report.md'), 'utf8');
    expect(md).toContain('resources_resources.png');
    expect(md).toMatch(/\*\*Bottleneck per level\*\*.*at concurrency 1 /);
  }, 60_000);

  it('target.monitor: a pattern finds a target loadbench did not start', async () => {
    const root = mkdtempSync(join(tmpdir(), 'loadbench-monitor-'));
    const port = await closedPort();
    const child = spawn(process.execPath, [TARGET, String(port)], { stdio: ['ignore', 'pipe', 'inherit'], detached: true });
    try {
      await new Promise<void>((resolve) => child.stdout!.on('data', (c: Buffer) => c.toString().includes('listening') && resolve()));
      const config = configFor(port, {});
      delete (config.target as Record<string, unknown>).start;
      (config.target as Record<string, unknown>).monitor = { pattern: 'resource-target\\.mjs' };
      (config.workload as Record<string, unknown>).concurrency_levels = [1];
      const summary = await runSweep({ root, config, scenarios: [{ name: 'submit' }] });
      expect(summary.resources!.monitored).toEqual(['target.monitor pattern /resource-target\\.mjs/ and the children of its matches']);
      const [r] = levelFigures(summary);
      expect(r!.processes.map((p) => p.role).sort()).toEqual(['hog', 'idle', 'resource-target', 'spinner']);
      expect(r!.processes.find((p) => p.role === 'resource-target')!.pid).toBe(child.pid);
      expect(Math.abs(r!.processes.find((p) => p.role === 'spinner')!.mean_cores - 0.5)).toBeLessThanOrEqual(0.1);
    } finally {
      process.kill(-child.pid!, 'SIGKILL');
    }
  }, 60_000);
});

describe('resource figures where they cannot be had', () => {
  it('a machine without /proc gets "unavailable" with the reason, and nothing throws', () => {
    const config = validateConfig(configFor(8080));
    const watch = new ResourceWatch(config, 4242, { platform: 'darwin' });
    expect(watch.runInfo()).toEqual({
      available: false,
      reason: "resource figures need Linux's /proc; this is darwin",
      monitored: ['process group of target.start (pid 4242) and its children'],
      interval_ms: 250,
    });
    expect(watch.levelResources({ started_at_ms: Date.now() - 1000, duration_s: 1 })).toEqual({ available: false, reason: "resource figures need Linux's /proc; this is darwin" });
    watch.addGeneratorPid(4243);
    watch.stop();
    watch.stop();
  });

  it('names what target.monitor selects: pids, a pattern, a cgroup', () => {
    const config = validateConfig({ ...configFor(8080), target: { url: 'http://127.0.0.1:8080/x', method: 'GET', monitor: { pids: 1234, pattern: 'postgres', cgroup: 'docker:3f2a', descendants: false } } });
    expect(targetSelectors(config, undefined)).toEqual({
      selectors: [
        { kind: 'pids', pids: [1234], descendants: false },
        { kind: 'pattern', pattern: 'postgres', descendants: false },
        { kind: 'cgroup', path: 'docker:3f2a' },
      ],
      monitored: ['target.monitor pids 1234', 'target.monitor pattern /postgres/', 'target.monitor cgroup docker:3f2a'],
    });
  });
});
