/**
 * Pure parsers for the Linux files the resource sampler reads (procfs and cgroupfs). No I/O here:
 * each function takes the file's text (or bytes) and returns numbers, or `undefined` when the
 * text is not what the kernel writes, so the reader can treat a torn or foreign file like a
 * process that went away.
 *
 * Field meanings follow proc(5) and the kernel's cgroup-v1/v2 documentation.
 */

/** The fields of `/proc/<pid>/stat` the sampler uses. CPU times are in clock ticks (USER_HZ). */
export interface ProcStat {
  readonly pid: number;
  /** Executable name as the kernel keeps it (at most 15 bytes, may contain spaces and parentheses). */
  readonly comm: string;
  /** One letter: R running, S sleeping, D disk sleep, Z zombie, T stopped, … */
  readonly state: string;
  readonly ppid: number;
  /** Process group id. */
  readonly pgid: number;
  /** User-mode CPU time of the process (all its threads), in ticks. */
  readonly utimeTicks: number;
  /** Kernel-mode CPU time of the process (all its threads), in ticks. */
  readonly stimeTicks: number;
  /** CPU time of children this process has waited for (user + kernel), in ticks. */
  readonly childTicks: number;
  readonly threads: number;
  /** When the process started, in ticks since boot. */
  readonly startTicks: number;
  /** Resident set size in pages. */
  readonly rssPages: number;
}

/**
 * Parses `/proc/<pid>/stat`. The comm field is enclosed in parentheses but may itself contain
 * spaces, `(` and `)` (a process can name itself anything), so it spans from the first `(` to the
 * *last* `)`; every field after it is a plain number or letter.
 *
 * Hand-rolled (one pass, no split) because the sampler parses one per process per sample.
 */
export function parseProcStat(text: string): ProcStat | undefined {
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  if (open < 1 || close < open || text.charCodeAt(close + 1) !== 32) return undefined;
  const pid = Number(text.slice(0, open - 1));
  if (!Number.isInteger(pid)) return undefined;
  // values[n] is field n of proc(5) (3 = state is skipped: it is a letter).
  const values = new Array<number>(25).fill(NaN);
  let field = 3;
  let value = 0;
  let digits = 0;
  for (let i = close + 2; i <= text.length && field <= 24; i++) {
    const code = i < text.length ? text.charCodeAt(i) : 32;
    if (code === 32 || code === 10) {
      values[field] = digits > 0 ? value : NaN;
      field++;
      value = 0;
      digits = 0;
    } else if (code >= 48 && code <= 57) {
      value = value * 10 + (code - 48);
      digits++;
    } else if (field !== 3 && !(code === 45 && digits === 0)) {
      return undefined;
    } else if (code === 45) {
      // A negative field (priority, nice); none the sampler uses, so its value does not matter.
      digits = 0;
    }
  }
  if (field <= 24) return undefined;
  const stat: ProcStat = {
    pid,
    comm: text.slice(open + 1, close),
    state: text.charAt(close + 2),
    ppid: values[4]!,
    pgid: values[5]!,
    utimeTicks: values[14]!,
    stimeTicks: values[15]!,
    childTicks: values[16]! + values[17]!,
    threads: values[20]!,
    startTicks: values[22]!,
    rssPages: values[24]!,
  };
  if (Number.isNaN(stat.ppid + stat.pgid + stat.utimeTicks + stat.stimeTicks + stat.childTicks + stat.threads + stat.startTicks + stat.rssPages)) return undefined;
  return stat;
}

/** Memory figures of `/proc/<pid>/statm`, in pages. */
export interface ProcStatm {
  /** Resident pages (VmRSS). */
  readonly residentPages: number;
  /** Resident pages backed by a file or shared memory (RssFile + RssShmem). */
  readonly sharedPages: number;
}

/** Parses `/proc/<pid>/statm` (`size resident shared text lib data dt`, in pages). */
export function parseProcStatm(text: string): ProcStatm | undefined {
  // Only the second and third numbers are needed: read them in place.
  const first = text.indexOf(' ');
  const second = first < 0 ? -1 : text.indexOf(' ', first + 1);
  const third = second < 0 ? -1 : text.indexOf(' ', second + 1);
  if (third < 0) return undefined;
  const residentPages = Number(text.slice(first + 1, second));
  const sharedPages = Number(text.slice(second + 1, third));
  if (!Number.isInteger(residentPages) || !Number.isInteger(sharedPages) || second === first + 1 || third === second + 1) return undefined;
  return { residentPages, sharedPages };
}

/** VmRSS of `/proc/<pid>/status` in bytes, or `undefined` (kernel threads and zombies have none). */
export function parseStatusRssBytes(text: string): number | undefined {
  const match = /^VmRSS:\s+(\d+) kB$/m.exec(text);
  return match ? Number(match[1]) * 1024 : undefined;
}

/**
 * Splits `/proc/<pid>/cmdline` into arguments. Arguments are NUL-separated with a trailing NUL;
 * a process that rewrote its title (postgres, nginx, `process.title`) may leave one string with
 * spaces instead. Kernel threads and zombies have an empty file: no arguments.
 */
export function parseCmdline(bytes: Uint8Array): string[] {
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
  const args = text.split('\0');
  while (args.length > 0 && args[args.length - 1] === '') args.pop();
  return args;
}

/** Whole-machine CPU counters of `/proc/stat`, summed over all cores, in ticks. */
export interface MachineCpuTicks {
  /** Time spent running something: user, nice, system, irq, softirq. */
  readonly busyTicks: number;
  /** Time with nothing to run: idle and iowait. */
  readonly idleTicks: number;
  /** Time a hypervisor gave this virtual machine's CPUs to someone else. */
  readonly stealTicks: number;
  /** Online cores (the `cpuN` lines). */
  readonly cores: number;
}

/**
 * Parses the `cpu` lines of `/proc/stat`. guest and guest_nice are already included in user and
 * nice, so they are not added again.
 */
export function parseMachineStat(text: string): MachineCpuTicks | undefined {
  let total: number[] | undefined;
  let cores = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith('cpu')) continue;
    if (line.startsWith('cpu ')) total = line.slice(4).trim().split(/ +/).map(Number);
    else if (/^cpu\d+ /.test(line)) cores++;
  }
  if (total === undefined || total.length < 4 || total.some((n) => !Number.isFinite(n))) return undefined;
  const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] = total;
  return { busyTicks: user + nice + system + irq + softirq, idleTicks: idle + iowait, stealTicks: steal, cores: Math.max(cores, 1) };
}

/** Machine memory of `/proc/meminfo`, in bytes. */
export interface MachineMemory {
  readonly totalBytes: number;
  /** Memory in use: total minus what the kernel estimates is available without swapping. */
  readonly usedBytes: number;
}

/** Parses `/proc/meminfo`; before Linux 3.14 there is no MemAvailable, so free + buffers + cached stands in. */
export function parseMeminfo(text: string): MachineMemory | undefined {
  const kb = (key: string): number | undefined => {
    const match = new RegExp(`^${key}:\\s+(\\d+) kB$`, 'm').exec(text);
    return match ? Number(match[1]) * 1024 : undefined;
  };
  const total = kb('MemTotal');
  if (total === undefined) return undefined;
  const available = kb('MemAvailable') ?? (kb('MemFree') ?? 0) + (kb('Buffers') ?? 0) + (kb('Cached') ?? 0);
  return { totalBytes: total, usedBytes: Math.max(0, total - available) };
}

/** Seconds since boot from `/proc/uptime` (the same clock as a process's start ticks). */
export function parseUptimeSeconds(text: string): number | undefined {
  const seconds = Number(text.split(' ')[0]);
  return Number.isFinite(seconds) && seconds > 0 ? seconds : undefined;
}

/** Parses a whitespace-separated list of pids (`/proc/<pid>/task/<tid>/children`, `cgroup.procs`). */
export function parsePidList(text: string): number[] {
  const pids: number[] = [];
  for (const token of text.split(/\s+/)) {
    if (token === '') continue;
    const pid = Number(token);
    if (Number.isInteger(pid) && pid > 0) pids.push(pid);
  }
  return pids;
}

/** auxv key of the page size (the kernel's `include/uapi/linux/auxvec.h`). */
export const AT_PAGESZ = 6;
/** auxv key of the clock ticks per second of `times()` and procfs CPU times (USER_HZ). */
export const AT_CLKTCK = 17;

/**
 * Parses `/proc/self/auxv`: pairs of machine words (key, value) ending with key 0. The value for
 * AT_CLKTCK is what `sysconf(_SC_CLK_TCK)` (and so `getconf CLK_TCK`) returns, read without
 * spawning anything.
 */
export function parseAuxv(bytes: Uint8Array, wordBytes: 4 | 8, littleEndian: boolean): Map<number, number> {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const word = (offset: number): number =>
    wordBytes === 8 ? Number(view.getBigUint64(offset, littleEndian)) : view.getUint32(offset, littleEndian);
  const entries = new Map<number, number>();
  for (let offset = 0; offset + 2 * wordBytes <= bytes.byteLength; offset += 2 * wordBytes) {
    const key = word(offset);
    if (key === 0) break;
    entries.set(key, word(offset + wordBytes));
  }
  return entries;
}

/** Parses `key value` lines (cgroup `cpu.stat`, `memory.stat`) into numbers. */
export function parseKeyValues(text: string): Map<string, number> {
  const values = new Map<string, number>();
  for (const line of text.split('\n')) {
    const space = line.indexOf(' ');
    if (space < 1) continue;
    const value = Number(line.slice(space + 1));
    if (Number.isFinite(value)) values.set(line.slice(0, space), value);
  }
  return values;
}
