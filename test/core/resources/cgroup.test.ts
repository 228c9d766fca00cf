import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { readCgroup, resolveCgroup, type CgroupFiles, type CgroupLocation } from '../../../core/resources/cgroup.ts';
import { ResourceSampler } from '../../../core/resources/sampler.ts';

const files: CgroupFiles = {
  readText: (path) => {
    try {
      return readFileSync(path, 'latin1');
    } catch {
      return undefined;
    }
  },
};

let root: string | undefined;
afterEach(() => {
  if (root !== undefined) rmSync(root, { recursive: true, force: true });
  root = undefined;
});

function tree(entries: Record<string, string>): string {
  root = mkdtempSync(join(tmpdir(), 'fake-cgroup-'));
  for (const [path, text] of Object.entries(entries)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  return root;
}

function located(spec: string, cgroupRoot: string): CgroupLocation {
  const location = resolveCgroup(spec, cgroupRoot);
  if ('error' in location) throw new Error(location.error);
  return location;
}

const V2_UNIT = {
  'cgroup.controllers': 'cpu memory',
  'system.slice/db.service/cgroup.procs': '41\n42\n',
  'system.slice/db.service/cpu.stat': 'usage_usec 2500000\nuser_usec 2000000\nsystem_usec 500000\n',
  'system.slice/db.service/memory.current': '314572800\n',
  'system.slice/db.service/memory.stat': 'anon 104857600\nfile 209715200\ninactive_file 104857600\n',
  // A sub-cgroup (a unit's own delegation): its processes belong to the unit too.
  'system.slice/db.service/helpers/cgroup.procs': '43\n',
  'system.slice/docker-0123456789abcdef0123.scope/cgroup.procs': '77\n',
  'system.slice/docker-0123456789abcdef0123.scope/cpu.stat': 'usage_usec 1000\n',
};

describe('resolveCgroup and readCgroup', () => {
  it('cgroup v2: a path, a directory, a systemd unit, a Docker container by id prefix', () => {
    const r = tree(V2_UNIT);
    const unit = located('/system.slice/db.service', r);
    expect(unit).toEqual({
      path: '/system.slice/db.service',
      procsDir: `${r}/system.slice/db.service`,
      cpu: { file: `${r}/system.slice/db.service/cpu.stat`, format: 'cpu.stat' },
      memory: { file: `${r}/system.slice/db.service/memory.current`, statFile: `${r}/system.slice/db.service/memory.stat`, inactiveFileKey: 'inactive_file' },
    });
    expect(located(`${r}/system.slice/db.service/`, r).path).toBe('/system.slice/db.service');
    expect(located('systemd:db.service', r).path).toBe('/system.slice/db.service');
    expect(located('docker:0123456789ab', r).path).toBe('/system.slice/docker-0123456789abcdef0123.scope');
    expect(readCgroup(files, unit)).toEqual({ pids: [41, 42, 43], cpuSeconds: 2.5, memoryBytes: 300 * 1024 * 1024, workingSetBytes: 200 * 1024 * 1024 });
  });

  it('hybrid (v2 at unified/, memory on v1) and plain v1 take each figure where it is', () => {
    const r = tree({
      'unified/cgroup.controllers': '',
      'unified/lb/cgroup.procs': '5\n',
      'unified/lb/cpu.stat': 'usage_usec 750000\n',
      'memory/lb/cgroup.procs': '5\n',
      'memory/lb/memory.usage_in_bytes': '1048576\n',
      'memory/lb/memory.stat': 'cache 0\ntotal_inactive_file 524288\n',
      'cpuacct/docker/abcdef12/cgroup.procs': '9\n',
      'cpuacct/docker/abcdef12/cpuacct.usage': '1500000000\n',
    });
    const hybrid = located('/lb', r);
    expect(hybrid.procsDir).toBe(`${r}/unified/lb`);
    expect(readCgroup(files, hybrid)).toEqual({ pids: [5], cpuSeconds: 0.75, memoryBytes: 1048576, workingSetBytes: 524288 });
    const v1 = located('docker:abcdef', r);
    expect(v1.path).toBe('/docker/abcdef12');
    expect(readCgroup(files, v1)).toEqual({ pids: [9], cpuSeconds: 1.5 });
  });

  it('says why a cgroup cannot be used', () => {
    const r = tree(V2_UNIT);
    expect(resolveCgroup('/system.slice/nope.service', r)).toEqual({ error: `no cgroup /system.slice/nope.service under ${r}` });
    expect(resolveCgroup('docker:fedcba98', r)).toMatchObject({ error: expect.stringMatching(/Docker container fedcba98/) });
    expect(resolveCgroup('systemd:nope.service', r)).toMatchObject({ error: expect.stringMatching(/systemd unit/) });
    expect(resolveCgroup('/system.slice/../../etc', r)).toMatchObject({ error: expect.stringMatching(/leaves/) });
    expect(resolveCgroup('/x', '/nonexistent')).toEqual({ error: 'no cgroup file system at /nonexistent' });
  });
});

// A real cgroup v2 on this machine: a child cgroup of the v2 hierarchy (pure v2, or the hybrid
// layout's controller-less `unified` one), holding a process that spins at half a core.
const V2_BASE = ['/sys/fs/cgroup', '/sys/fs/cgroup/unified'].find((b) => existsSync(`${b}/cgroup.controllers`) && existsSync(`${b}/cgroup.procs`));
const TEST_GROUP = `loadbench-test-${process.pid}`;
function canCreateCgroup(): boolean {
  if (V2_BASE === undefined) return false;
  try {
    mkdirSync(`${V2_BASE}/${TEST_GROUP}`);
    return true;
  } catch {
    return false;
  }
}
const realCgroup = canCreateCgroup();
let spinner: ChildProcess | undefined;

afterAll(async () => {
  if (spinner?.exitCode === null) {
    spinner.kill('SIGKILL');
    await new Promise((r) => spinner!.once('exit', r));
  }
  if (realCgroup) {
    for (let i = 0; i < 50 && existsSync(`${V2_BASE}/${TEST_GROUP}`); i++) {
      try {
        rmdirSync(`${V2_BASE}/${TEST_GROUP}`);
      } catch {
        await new Promise((r) => setTimeout(r, 20));
      }
    }
  }
});

describe.skipIf(!realCgroup)(`a real cgroup v2 (${V2_BASE ?? 'none'}/${TEST_GROUP})`, () => {
  it('lists its processes and reads its CPU counter (timing-sensitive: run under flock)', async () => {
    const fixture = join(dirname(fileURLToPath(import.meta.url)), 'fixtures', 'load-fixture.mjs');
    spinner = spawn(process.execPath, [fixture, 'spin', '0.5'], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise((r) => spinner!.stdout!.once('data', r));
    writeFileSync(`${V2_BASE}/${TEST_GROUP}/cgroup.procs`, String(spinner.pid));

    const sampler = new ResourceSampler({ target: { kind: 'cgroup', path: `/${TEST_GROUP}` }, intervalMs: 100 });
    sampler.start();
    const start = performance.timeOrigin + performance.now();
    await new Promise((r) => setTimeout(r, 1500));
    const summary = sampler.summarize({ startMs: start, endMs: performance.timeOrigin + performance.now() });
    sampler.stop();
    if (!summary.available) throw new Error(summary.reason);
    expect(summary.processes.map((p) => p.pid)).toEqual([spinner.pid]);
    const cgroup = summary.cgroups?.[0];
    if (process.env.RESOURCES_TEST_VERBOSE === '1') console.log(`cgroup cores / process cores: ${cgroup?.meanCores} / ${summary.target.meanCores}`);
    expect(cgroup?.path).toBe(`/${TEST_GROUP}`);
    expect(cgroup?.meanCores).toBeGreaterThan(0.4);
    expect(cgroup?.meanCores).toBeLessThan(0.6);
    // The cgroup's own counter and the process's agree (one is µs, the other clock ticks).
    expect(Math.abs(cgroup!.meanCores! - summary.target.meanCores)).toBeLessThan(0.05);
    // Memory is here only where the memory controller is on v2.
    const hasMemory = existsSync(`${V2_BASE}/${TEST_GROUP}/memory.current`) || existsSync(`/sys/fs/cgroup/memory/${TEST_GROUP}`);
    expect(cgroup?.maxMemoryMb !== undefined).toBe(hasMemory);
  });
});
