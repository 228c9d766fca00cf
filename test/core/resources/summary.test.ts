import { describe, expect, it } from 'vitest';
import { resourceTimeline, summarizeWindow } from '../../../core/resources/summary.ts';
import type { ProcessPoint, ResourceHistory, ResourceSample, ResourceSummary, TrackedProcess } from '../../../core/resources/types.ts';

const MIB = 1024 * 1024;

function tracked(id: number, role: string, ordinal: number, startedMs: number, extra: Partial<TrackedProcess> = {}): TrackedProcess {
  return { id, pid: 1000 + id, kind: 'target', role, ordinal, wrapper: false, command: role, startedMs, firstSeenMs: Math.max(0, startedMs), ...extra };
}

/**
 * A run sampled every 250 ms from 0 to 3000 ms, with figures chosen so every summary value has an
 * exact reference:
 * - sh (wrapper): no CPU of its own; a child it runs and waits for between 1500 and 1750 ms, never
 *   seen by sampling, used 0.3 s CPU (sh's children counter jumps by 0.3).
 * - gateway: 0.5 cores, 100 MiB. worker 1 is its child.
 * - worker 1: 1 core, 50 MiB; last seen at 2000 ms, exits before 2250 having used 0.2 s more,
 *   which the gateway's children counter shows when it waits for it.
 * - worker 2: starts at 1100 ms (first seen at 1250), 0.8 cores, 10 MiB then 80 MiB from 2250.
 * - loadbench: 0.25 cores, 70 MiB. Machine: 4 cores, 3 busy, 0.6 idle, 0.4 stolen.
 * - a cgroup: 2 cores, 300 MiB charged, 200 MiB working set.
 * Anonymous memory is half of each RSS.
 */
function history(): ResourceHistory {
  const processes = new Map<number, TrackedProcess>([
    [1, tracked(1, 'sh', 1, -10_000, { wrapper: true })],
    [2, tracked(2, 'gateway', 1, -9_000)],
    [3, tracked(3, 'worker', 1, -8_000)],
    [4, tracked(4, 'worker', 2, 1100, { firstSeenMs: 1250 })],
    [5, tracked(5, 'loadbench', 1, -20_000, { kind: 'generator' })],
  ]);
  const point = (id: number, cpuSeconds: number, rssMib: number, childCpuSeconds = 0, parentId?: number): ProcessPoint => ({
    id, cpuSeconds, childCpuSeconds, rssBytes: rssMib * MIB, anonBytes: (rssMib / 2) * MIB, ...(parentId !== undefined && { parentId }),
  });
  const samples: ResourceSample[] = [];
  for (let t = 0; t <= 3000; t += 250) {
    const s = t / 1000;
    const target = [
      point(1, 0.01, 1, t >= 1750 ? 0.3 : 0),
      point(2, 10 + 0.5 * s, 100, t >= 2250 ? 8 + 2 + 0.2 : 0, 1),
    ];
    if (t <= 2000) target.push(point(3, 8 + s, 50, 0, 2));
    if (t >= 1250) target.push(point(4, 0.8 * (s - 1.1), t >= 2250 ? 80 : 10, 0, 1));
    samples.push({
      tMs: t,
      target,
      generator: point(5, 3 + 0.25 * s, 70),
      machine: { busySeconds: 3 * s, idleSeconds: 0.6 * s, stealSeconds: 0.4 * s, cores: 4, memoryUsedBytes: (1000 + t / 10) * MIB, memoryTotalBytes: 4096 * MIB },
      cgroups: [{ path: '/system.slice/db.service', cpuSeconds: 2 * s, memoryBytes: 300 * MIB, workingSetBytes: 200 * MIB }],
      cost: { wallUs: 100, cpuUs: 120 },
    });
  }
  return { samples, processes };
}

function summary(startMs: number, endMs: number, h = history()): ResourceSummary {
  const result = summarizeWindow(h, { startMs, endMs });
  if (!result.available) throw new Error(result.reason);
  return result;
}

const byLabel = (s: ResourceSummary, label: string) => s.processes.find((p) => p.label === label)!;

describe('summarizeWindow: a bench process counted as the load generator (addGeneratorPid)', () => {
  it('adds each generator process from its own series: one started within the window counts from its start', () => {
    const h = history();
    const processes = new Map(h.processes);
    // A bench process started at 1000 ms (first seen at 1000): 0.5 cores, 40 MiB.
    processes.set(6, tracked(6, 'vitest', 1, 1000, { kind: 'generator' }));
    const samples = h.samples.map((sample) =>
      sample.tMs >= 1000
        ? { ...sample, generatorProcesses: [{ id: 6, cpuSeconds: 0.5 * ((sample.tMs - 1000) / 1000), childCpuSeconds: 0, rssBytes: 40 * MIB, anonBytes: 20 * MIB }] }
        : sample,
    );
    const s = summary(500, 2500, { samples, processes });
    // 0.25 (this process) + 0.5 × 1.5 s / 2 s (the bench process).
    expect(s.generator).toEqual({ meanCores: 0.625, maxCores: 0.75, maxRssMb: 110, maxAnonMb: 55 });
    // Never part of the target.
    expect(s.processes.map((p) => p.label)).not.toContain('vitest');
  });
});

describe('summarizeWindow', () => {
  it('per process: mean and peak cores, peak memory, lifetime, labels (window on sample times)', () => {
    const s = summary(500, 2500);
    expect(s.processes.map((p) => p.label)).toEqual(['gateway', 'worker 1', 'worker 2', 'sh']);
    expect(byLabel(s, 'gateway')).toMatchObject({ meanCores: 0.5, maxCores: 0.5, maxRssMb: 100, maxAnonMb: 50, lifetime: 'whole', pid: 1002 });
    // Seen until 2000: 1.5 s of CPU in a 2 s window; what it used after that is the gateway's to report.
    expect(byLabel(s, 'worker 1')).toMatchObject({ meanCores: 0.75, maxCores: 1, maxRssMb: 50, lifetime: 'exited' });
    // Counted from its start at 1100: 0.8 × 1.4 s.
    expect(byLabel(s, 'worker 2')).toMatchObject({ meanCores: 0.56, maxCores: 0.8, maxRssMb: 80, lifetime: 'started' });
    expect(byLabel(s, 'sh')).toMatchObject({ meanCores: 0, wrapper: true });
  });

  it('whole target: process sum plus the CPU of exited children nobody saw', () => {
    const s = summary(500, 2500);
    // 0.3 s (sh's unseen child) + 0.2 s (worker 1 after its last sample) over 2 s.
    expect(s.target.exitedChildrenCores).toBe(0.25);
    expect(s.target.meanCores).toBe(0.5 + 0.75 + 0.56 + 0.25);
    expect(s.target.processCount).toBe(4);
    // Highest sum at one sample: sh 1 + gateway 100 + worker 2 80 (worker 1 gone).
    expect(s.target.maxRssMb).toBe(181);
    expect(s.target.maxAnonMb).toBe(90.5);
    expect(s.target.note).toMatch(/share/);
    // The interval with the unseen 0.3 s child: 0.5 + 1 + 0.8 + 0.3/0.25.
    expect(s.target.maxCores).toBe(3.5);
  });

  it('loadbench, machine, cgroup and sampler figures', () => {
    const s = summary(500, 2500);
    expect(s.generator).toEqual({ meanCores: 0.25, maxCores: 0.25, maxRssMb: 70, maxAnonMb: 35 });
    expect(s.machine).toEqual({
      cores: 4, meanCpuPercent: 75, maxCpuPercent: 75, stealPercent: 10,
      // 3 busy cores - target 2.06 - loadbench 0.25.
      otherCores: 0.69,
      maxMemoryUsedMb: 1250, memoryTotalMb: 4096,
    });
    expect(s.cgroups).toEqual([{ path: '/system.slice/db.service', meanCores: 2, maxCores: 2, maxMemoryMb: 300, maxWorkingSetMb: 200 }]);
    // Samples at 500, 750, …, 2500: 100 µs every 250 ms.
    expect(s.sampler).toEqual({ meanWallUs: 100, maxWallUs: 100, meanCpuUs: 120, cores: 0.0004 });
    expect(s.window).toEqual({ startMs: 500, endMs: 2500, coveredMs: 2000, samples: 9 });
  });

  it('interpolates at edges between samples', () => {
    const s = summary(600, 2400);
    expect(byLabel(s, 'gateway').meanCores).toBe(0.5);
    expect(byLabel(s, 'worker 1').meanCores).toBe(Math.round((1.4 / 1.8) * 1000) / 1000);
    expect(s.target.exitedChildrenCores).toBe(Math.round((0.5 / 1.8) * 1000) / 1000);
    expect(s.machine?.meanCpuPercent).toBe(75);
  });

  it('back-to-back windows add up to the whole', () => {
    const h = history();
    const cpu = (a: number, b: number): number => {
      const s = summarizeWindow(h, { startMs: a, endMs: b });
      if (!s.available) throw new Error(s.reason);
      return (s.target.meanCores * (b - a)) / 1000;
    };
    expect(cpu(0, 1337) + cpu(1337, 2222) + cpu(2222, 3000)).toBeCloseTo(cpu(0, 3000), 2);
  });

  it('clips a window to the sampled span and reports the coverage', () => {
    const s = summary(-1000, 1000);
    expect(s.window.coveredMs).toBe(1000);
    expect(byLabel(s, 'gateway').meanCores).toBe(0.5);
  });

  it('says when there is nothing to summarise', () => {
    const h = history();
    expect(summarizeWindow(h, { startMs: 5000, endMs: 6000 })).toEqual({ available: false, reason: 'no samples cover the window' });
    expect(summarizeWindow({ samples: h.samples.slice(0, 1), processes: h.processes }, { startMs: 0, endMs: 1000 })).toEqual({
      available: false,
      reason: 'fewer than two samples taken',
    });
  });
});

describe('resourceTimeline', () => {
  it('one point per second with per-process cores', () => {
    const points = resourceTimeline(history(), { startMs: 0, endMs: 3000 });
    expect(points.map((p) => p.startMs)).toEqual([0, 1000, 2000]);
    expect(points.map((p) => p.processes.find((q) => q.label === 'gateway')?.cores)).toEqual([0.5, 0.5, 0.5]);
    expect(points[0]!.processes.some((q) => q.label === 'worker 2')).toBe(false);
    // 1000–2000: gateway 0.5 + worker 1 1.0 + worker 2 from 1100 (0.8 × 0.9 s) + sh's unseen child 0.3 s.
    expect(points[1]!.targetCores).toBe(Math.round((0.5 + 1 + 0.72 + 0.3) * 1000) / 1000);
    expect(points[2]!.generatorCores).toBe(0.25);
    expect(points[2]!.machineCpuPercent).toBe(75);
  });
});
