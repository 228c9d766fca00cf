/**
 * The sampler's discovery and bookkeeping on a fake procfs: exact, no timing involved.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ResourceSampler, type ResourceSamplerOptions } from '../../../core/resources/sampler.ts';
import type { ResourceSummary } from '../../../core/resources/types.ts';
import { FakeProc } from './fake-proc.ts';

const SELF = 100;
let fake: FakeProc | undefined;
let clock = 0;

afterEach(() => {
  fake?.remove();
  fake = undefined;
});

function setUp(childrenFiles = true): FakeProc {
  fake = new FakeProc(SELF, { childrenFiles });
  clock = 0;
  fake.set({ pid: SELF, comm: 'node', argv: ['node', 'vitest'], ppid: 1, pgid: SELF, utime: 0, startTicks: 500 });
  // The target as loadbench starts it: a shell leading its group, a gateway below it, and a worker
  // that was re-parented (ppid 1), so that no children file lists it.
  fake.set({ pid: 200, comm: 'sh', argv: ['/bin/sh', '-c', 'node gateway.js'], ppid: SELF, pgid: 200, children: [201] }, childrenFiles);
  fake.set({ pid: 201, comm: 'node', argv: ['node', 'gateway.js'], ppid: 200, pgid: 200, startTicks: 1010 }, childrenFiles);
  fake.set({ pid: 202, comm: 'node', argv: ['node', 'worker.js'], ppid: 1, pgid: 200, startTicks: 1020, rssPages: 2560, sharedPages: 1024 }, childrenFiles);
  fake.set({ pid: 300, comm: 'postgres', argv: ['postgres: checkpointer '], ppid: 1, pgid: 300 }, childrenFiles);
  return fake;
}

function sampler(options: ResourceSamplerOptions): ResourceSampler {
  return new ResourceSampler({ procRoot: fake!.root, selfPid: SELF, ticksPerSecond: 100, pageBytes: 4096, now: () => clock, cgroupRoot: '/nonexistent', ...options });
}

/** Advances the fake clock (and uptime, and machine counters) and takes a sample. */
function tick(s: ResourceSampler, ms = 250): void {
  clock += ms;
  fake!.uptime(1000 + clock / 1000);
  fake!.machine(clock / 1000);
  s.sampleNow();
}

function pidsOf(s: ResourceSampler): number[] {
  const samples = s.history().samples;
  const processes = s.history().processes;
  return samples[samples.length - 1]!.target.map((p) => processes.get(p.id)!.pid).sort((a, b) => a - b);
}

function summary(s: ResourceSampler, startMs: number, endMs: number): ResourceSummary {
  const result = s.summarize({ startMs, endMs });
  if (!result.available) throw new Error(result.reason);
  return result;
}

describe('ResourceSampler on a fake procfs', () => {
  it('group: the leader, its tree, re-parented members; later children, exits, reused pids, exec', () => {
    const f = setUp();
    const s = sampler({ target: { kind: 'group', pgid: 200 }, rescanMs: 1000 });
    s.sampleNow();
    // 202 is found by the first full scan (same process group), 300 and loadbench are not the target.
    expect(pidsOf(s)).toEqual([200, 201, 202]);

    // A worker forked later shows up in the gateway's children file: found without a scan.
    f.set({ pid: 201, comm: 'node', argv: ['node', 'gateway.js'], ppid: 200, pgid: 200, children: [203], utime: 25 });
    // Started 100 ms into the run (uptime 1000.10 s), found at 250 ms: counted from its start.
    f.set({ pid: 203, comm: 'node', argv: ['node', 'worker.js'], ppid: 201, pgid: 200, startTicks: 100_010 });
    tick(s);
    expect(pidsOf(s)).toEqual([200, 201, 202, 203]);

    // 202 exits between two reads: not an error.
    f.kill(202);
    f.set({ pid: 201, comm: 'node', argv: ['node', 'gateway.js'], ppid: 200, pgid: 200, utime: 50 });
    tick(s);
    expect(pidsOf(s)).toEqual([200, 201, 203]);

    // 203 runs exec: same process, same counters, another program.
    f.set({ pid: 203, comm: 'python3', argv: ['python3', 'jobs.py'], ppid: 201, pgid: 200, utime: 0 });
    f.set({ pid: 201, comm: 'node', argv: ['node', 'gateway.js'], ppid: 200, pgid: 200, utime: 75 });
    tick(s);

    // The pid 202 is reused by a process of another group; the next scan must not take it.
    f.set({ pid: 202, comm: 'cron', argv: ['cron'], ppid: 1, pgid: 999, startTicks: 5000 });
    f.set({ pid: 201, comm: 'node', argv: ['node', 'gateway.js'], ppid: 200, pgid: 200, utime: 100 });
    tick(s);
    expect(pidsOf(s)).toEqual([200, 201, 203]);
    expect(s.diagnostics.errors).toBe(0);

    const result = summary(s, 0, 1000);
    expect(result.processes.map((p) => [p.label, p.pid, p.lifetime])).toEqual([
      ['gateway', 201, 'whole'],
      ['worker', 202, 'exited'],
      ['jobs', 203, 'started'],
      ['sh', 200, 'whole'],
    ]);
    // 100 ticks in one second.
    expect(result.processes[0]!.meanCores).toBe(1);
    expect(result.processes[1]).toMatchObject({ maxRssMb: 10, maxAnonMb: 6 });
    expect(result.machine).toMatchObject({ cores: 2, meanCpuPercent: 50, maxMemoryUsedMb: 256, memoryTotalMb: 1024 });
    expect(result.generator?.meanCores).toBe(0);
    s.stop();
  });

  it('without children files, every sample scans', () => {
    const f = setUp(false);
    const s = sampler({ target: { kind: 'group', pgid: 200 }, rescanMs: 60_000 });
    s.sampleNow();
    f.set({ pid: 203, comm: 'node', argv: ['node', 'worker.js'], ppid: 201, pgid: 200 }, false);
    tick(s);
    expect(pidsOf(s)).toEqual([200, 201, 202, 203]);
    expect(s.diagnostics.childrenFiles).toBe(false);
  });

  it('a process group that moved away from its tree is still found by pgid, a child that left the group by ancestry', () => {
    const f = setUp();
    f.set({ pid: 210, comm: 'node', argv: ['node', 'daemon.js'], ppid: 201, pgid: 210 });
    f.set({ pid: 201, comm: 'node', argv: ['node', 'gateway.js'], ppid: 200, pgid: 200, children: [210] });
    const s = sampler({ target: { kind: 'group', pgid: 200 } });
    s.sampleNow();
    expect(pidsOf(s)).toEqual([200, 201, 202, 210]);
  });

  it('pattern: matching processes and their descendants', () => {
    const f = setUp();
    f.set({ pid: 204, comm: 'sh', argv: ['sh', '-c', 'convert x.png'], ppid: 202, pgid: 200 });
    const s = sampler({ target: { kind: 'pattern', pattern: 'worker\\.js' } });
    s.sampleNow();
    expect(pidsOf(s)).toEqual([202, 204]);
  });

  it('pids: the given processes, with or without descendants; several selectors add up', () => {
    const f = setUp();
    f.set({ pid: 203, comm: 'node', argv: ['node', 'worker.js'], ppid: 201, pgid: 200 });
    f.set({ pid: 201, comm: 'node', argv: ['node', 'gateway.js'], ppid: 200, pgid: 200, children: [203] });
    const alone = sampler({ target: { kind: 'pids', pids: [201], descendants: false } });
    alone.sampleNow();
    expect(pidsOf(alone)).toEqual([201]);
    const tree = sampler({ target: [{ kind: 'pids', pids: [201] }, { kind: 'pattern', pattern: /^postgres/ }] });
    tree.sampleNow();
    expect(pidsOf(tree)).toEqual([201, 203, 300]);
  });

  it('numbers roles in the order processes started, stable by pid', () => {
    const f = setUp();
    f.set({ pid: 205, comm: 'node', argv: ['node', 'worker.js'], ppid: 1, pgid: 200, startTicks: 1005 });
    const s = sampler({ target: { kind: 'group', pgid: 200 } });
    s.sampleNow();
    tick(s);
    const labels = summary(s, 0, 250).processes.map((p) => `${p.label}=${p.pid}`);
    // 205 started before 202 (1005 < 1020 ticks), whatever their pids.
    expect(labels).toEqual(['worker 1=205', 'gateway=201', 'worker 2=202', 'sh=200']);
  });
});

describe('where figures are unavailable', () => {
  it('elsewhere than Linux: a reason, never an exception', () => {
    const s = new ResourceSampler({ target: { kind: 'group', pgid: 1 }, platform: 'darwin' });
    expect(s.availability).toEqual({ available: false, reason: "resource figures need Linux's /proc; this is darwin" });
    expect(s.start()).toEqual(s.availability);
    expect(s.sampleNow()).toBeUndefined();
    expect(s.summarize({ startMs: 0, endMs: 1 })).toEqual(s.availability);
    expect(s.timeline({ startMs: 0, endMs: 1 })).toEqual([]);
    s.stop();
    s.stop();
  });

  it('without procfs, or with a target that cannot be watched', () => {
    expect(new ResourceSampler({ procRoot: '/nonexistent/proc' }).availability).toEqual({ available: false, reason: 'no procfs at /nonexistent/proc' });
    expect(new ResourceSampler({ target: { kind: 'pattern', pattern: '(' } }).availability).toMatchObject({ available: false, reason: expect.stringMatching(/^invalid process pattern/) });
    expect(new ResourceSampler({ target: { kind: 'group', pgid: -3 } }).availability).toMatchObject({ available: false });
  });
});
