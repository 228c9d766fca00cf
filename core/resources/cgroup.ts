/**
 * A target given as a cgroup (a Docker container, a systemd unit, any cgroup path): where its
 * files are, which processes it holds, and its whole-cgroup CPU and memory. The cgroup figures
 * include every process that ever ran in it (short-lived ones too), which per-process sampling
 * cannot see.
 *
 * Works with cgroup v2 (`/sys/fs/cgroup` itself is the v2 mount), the hybrid layout (v2 at
 * `/sys/fs/cgroup/unified`, controllers on v1) and plain v1 (`cpuacct`, `memory` hierarchies):
 * each figure is taken from wherever this machine has it.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { parseKeyValues, parsePidList } from './proc-parse.ts';

/** Where one cgroup's files are. */
export interface CgroupLocation {
  /** The cgroup path relative to its hierarchy (`/system.slice/docker-….scope`). */
  readonly path: string;
  /** Directory whose `cgroup.procs` (and its sub-cgroups') lists the member processes. */
  readonly procsDir: string;
  /** CPU usage file: v2 `cpu.stat` (usage_usec) or v1 `cpuacct.usage` (nanoseconds). */
  readonly cpu?: { readonly file: string; readonly format: 'cpu.stat' | 'cpuacct.usage' };
  /** Memory usage file (v2 `memory.current`, v1 `memory.usage_in_bytes`) and its `memory.stat`. */
  readonly memory?: { readonly file: string; readonly statFile: string; readonly inactiveFileKey: string };
}

/** One reading of a cgroup. */
export interface CgroupReading {
  readonly pids: readonly number[];
  /** CPU time used by all processes that ever ran in the cgroup, in seconds. */
  readonly cpuSeconds?: number;
  /** Memory charged to the cgroup, page cache included, in bytes. */
  readonly memoryBytes?: number;
  /** Memory minus inactive page cache (what `docker stats` shows), in bytes. */
  readonly workingSetBytes?: number;
}

/** File reads the cgroup code needs: injected so tests can use a fake tree. */
export interface CgroupFiles {
  readText(path: string, keepOpen: boolean): string | undefined;
}

const V1_CPU_DIRS = ['cpuacct', 'cpu,cpuacct', 'cpuacct,cpu'];
const MAX_SUBGROUPS = 256;

function isDir(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/** v2 mount points of this layout: the root itself (pure v2) or `unified` (hybrid). */
function v2Bases(root: string): string[] {
  return [root, `${root}/unified`].filter((base) => existsSync(`${base}/cgroup.controllers`));
}

/** Every hierarchy base that may hold a cgroup's directory. */
function allBases(root: string): string[] {
  return [...v2Bases(root), ...V1_CPU_DIRS.map((d) => `${root}/${d}`), `${root}/memory`].filter(isDir);
}

/** The relative path of a container's cgroup (`docker:<id or id prefix>`), searched in every layout Docker uses. */
function findDocker(root: string, id: string): string | undefined {
  if (!/^[0-9a-f]{4,64}$/.test(id)) return undefined;
  for (const base of allBases(root)) {
    for (const [folder, prefix, suffix] of [['system.slice', 'docker-', '.scope'], ['docker', '', '']] as const) {
      if (!isDir(`${base}/${folder}`)) continue;
      const match = readdirSync(`${base}/${folder}`).find((n) => n.startsWith(prefix + id) && n.endsWith(suffix) && isDir(`${base}/${folder}/${n}`));
      if (match !== undefined) return `/${folder}/${match}`;
    }
  }
  return undefined;
}

/** The relative path of a systemd unit's cgroup (`systemd:nginx.service`), up to three levels deep. */
function findUnit(root: string, unit: string): string | undefined {
  if (unit.includes('/')) return undefined;
  const search = (base: string, relative: string, depth: number): string | undefined => {
    let names: string[];
    try {
      names = readdirSync(`${base}${relative}`);
    } catch {
      return undefined;
    }
    if (names.includes(unit) && isDir(`${base}${relative}/${unit}`)) return `${relative}/${unit}`;
    if (depth === 0) return undefined;
    for (const name of names) {
      if (!name.endsWith('.slice') && !name.endsWith('.service')) continue;
      const found = search(base, `${relative}/${name}`, depth - 1);
      if (found !== undefined) return found;
    }
    return undefined;
  };
  for (const base of allBases(root)) {
    const found = search(base, '', 3);
    if (found !== undefined) return found;
  }
  return undefined;
}

/**
 * Finds a cgroup's files. `spec` is a cgroup path as `/proc/<pid>/cgroup` shows it
 * (`/system.slice/nginx.service`), a directory under the cgroup mount
 * (`/sys/fs/cgroup/system.slice/nginx.service`), `docker:<container id or prefix>` or
 * `systemd:<unit>`. Returns a reason instead when there is no such cgroup here.
 */
export function resolveCgroup(spec: string, cgroupRoot = '/sys/fs/cgroup'): CgroupLocation | { readonly error: string } {
  const root = cgroupRoot.replace(/\/+$/, '');
  if (!isDir(root)) return { error: `no cgroup file system at ${root}` };
  let relative: string | undefined;
  if (spec.startsWith('docker:')) {
    relative = findDocker(root, spec.slice(7));
    if (relative === undefined) return { error: `no cgroup for Docker container ${spec.slice(7)} under ${root}` };
  } else if (spec.startsWith('systemd:')) {
    relative = findUnit(root, spec.slice(8));
    if (relative === undefined) return { error: `no cgroup for systemd unit ${spec.slice(8)} under ${root}` };
  } else if (spec.startsWith(`${root}/`)) {
    // A directory under the mount: drop the mount and the hierarchy folder to get the cgroup path.
    const inside = spec.slice(root.length).replace(/\/+$/, '');
    const base = allBases(root).find((b) => b !== root && inside.startsWith(b.slice(root.length) + '/'));
    relative = base === undefined ? inside : inside.slice(base.length - root.length);
  } else {
    relative = `/${spec.replace(/^\/+|\/+$/g, '')}`;
  }
  if (relative.split('/').includes('..')) return { error: `cgroup path ${spec} leaves the cgroup file system` };
  const rel = relative === '/' ? '' : relative;

  const v2 = v2Bases(root).map((b) => `${b}${rel}`).filter(isDir);
  const v1Cpu = V1_CPU_DIRS.map((d) => `${root}/${d}${rel}`).filter(isDir);
  const v1Memory = [`${root}/memory${rel}`].filter(isDir);
  const procsDir = [...v2, ...v1Cpu, ...v1Memory].find((dir) => existsSync(`${dir}/cgroup.procs`));
  if (procsDir === undefined) return { error: `no cgroup ${relative} under ${root}` };

  const v2Cpu = v2.find((dir) => existsSync(`${dir}/cpu.stat`));
  const v1CpuDir = v1Cpu.find((dir) => existsSync(`${dir}/cpuacct.usage`));
  const cpu = v2Cpu !== undefined
    ? { file: `${v2Cpu}/cpu.stat`, format: 'cpu.stat' as const }
    : v1CpuDir !== undefined ? { file: `${v1CpuDir}/cpuacct.usage`, format: 'cpuacct.usage' as const } : undefined;

  const v2Memory = v2.find((dir) => existsSync(`${dir}/memory.current`));
  const v1MemoryDir = v1Memory.find((dir) => existsSync(`${dir}/memory.usage_in_bytes`));
  const memory = v2Memory !== undefined
    ? { file: `${v2Memory}/memory.current`, statFile: `${v2Memory}/memory.stat`, inactiveFileKey: 'inactive_file' }
    : v1MemoryDir !== undefined
      ? { file: `${v1MemoryDir}/memory.usage_in_bytes`, statFile: `${v1MemoryDir}/memory.stat`, inactiveFileKey: 'total_inactive_file' }
      : undefined;

  return { path: relative, procsDir, ...(cpu && { cpu }), ...(memory && { memory }) };
}

/** The member pids of a cgroup and of every cgroup below it (v2 lists only a cgroup's own processes). */
function listMembers(files: CgroupFiles, dir: string): number[] {
  const pids: number[] = [];
  const pending = [dir];
  for (let visited = 0; pending.length > 0 && visited < MAX_SUBGROUPS; visited++) {
    const current = pending.pop()!;
    pids.push(...parsePidList(files.readText(`${current}/cgroup.procs`, current === dir) ?? ''));
    let entries;
    try {
      entries = readdirSync(current, { withFileTypes: true });
    } catch {
      continue;
    }
    for (const entry of entries) if (entry.isDirectory()) pending.push(`${current}/${entry.name}`);
  }
  return pids;
}

/** Reads a cgroup's members and whole-cgroup figures; a figure this machine lacks is left out. */
export function readCgroup(files: CgroupFiles, location: CgroupLocation): CgroupReading {
  const pids = listMembers(files, location.procsDir);
  let cpuSeconds: number | undefined;
  if (location.cpu !== undefined) {
    const text = files.readText(location.cpu.file, true);
    if (text !== undefined) {
      if (location.cpu.format === 'cpu.stat') {
        const usec = parseKeyValues(text).get('usage_usec');
        if (usec !== undefined) cpuSeconds = usec / 1e6;
      } else {
        const nsec = Number(text.trim());
        if (Number.isFinite(nsec)) cpuSeconds = nsec / 1e9;
      }
    }
  }
  let memoryBytes: number | undefined;
  let workingSetBytes: number | undefined;
  if (location.memory !== undefined) {
    const current = Number(files.readText(location.memory.file, true)?.trim());
    if (Number.isFinite(current)) {
      memoryBytes = current;
      const stat = files.readText(location.memory.statFile, true);
      const inactive = stat === undefined ? undefined : parseKeyValues(stat).get(location.memory.inactiveFileKey);
      workingSetBytes = inactive === undefined ? current : Math.max(0, current - inactive);
    }
  }
  return { pids, ...(cpuSeconds !== undefined && { cpuSeconds }), ...(memoryBytes !== undefined && { memoryBytes }), ...(workingSetBytes !== undefined && { workingSetBytes }) };
}
