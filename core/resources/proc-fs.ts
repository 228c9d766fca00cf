/**
 * Reads procfs for the sampler: one process's CPU and memory, its children, the machine's CPU and
 * memory. Synchronous on purpose: procfs files are generated in memory by the kernel (no disk
 * wait), a synchronous read costs a few microseconds against tens for a thread-pool round trip,
 * and every figure of one sample is then taken within the same fraction of a millisecond.
 *
 * Files read every sample stay open and are re-read from offset 0 (the kernel regenerates them on
 * each read), which saves the path lookup of an open per read. An open `/proc/<pid>/…` file is
 * bound to that process, not to its number: once the process is gone, reads fail with ESRCH even
 * if the pid is reused, so a reused pid can never be mistaken for the old process.
 */
import { execFileSync } from 'node:child_process';
import { closeSync, existsSync, openSync, readdirSync, readSync } from 'node:fs';
import { endianness } from 'node:os';
import {
  AT_CLKTCK,
  AT_PAGESZ,
  parseAuxv,
  parseCmdline,
  parseMachineStat,
  parseMeminfo,
  parsePidList,
  parseProcStat,
  parseProcStatm,
  parseUptimeSeconds,
  type MachineCpuTicks,
  type MachineMemory,
  type ProcStat,
  type ProcStatm,
} from './proc-parse.ts';

/** Where a figure came from, for the report: measured sources beat assumptions. */
export type ConstantSource = 'option' | 'auxv' | 'getconf' | 'default';

/** Settings of a {@link ProcFs}. */
export interface ProcFsOptions {
  /** Mount point of procfs; tests point it at a fake tree. Default `/proc`. */
  readonly procRoot?: string;
  /** Clock ticks per second of `/proc/<pid>/stat` CPU times; found out when not given. */
  readonly ticksPerSecond?: number;
  /** Bytes per memory page; found out when not given. */
  readonly pageBytes?: number;
  /** Files kept open at most (two or three per tracked process); beyond that they are opened per read. */
  readonly maxOpenFiles?: number;
}

/** One process as read in one sample. */
export interface ProcessReading {
  readonly stat: ProcStat;
  /** From statm when readable, else only the resident size from stat. */
  readonly memory: ProcStatm;
}

const GONE = new Set(['ENOENT', 'ESRCH', 'EACCES', 'EPERM', 'EINVAL']);
const WIDE_ARCHES = new Set(['x64', 'arm64', 'ppc64', 's390x', 'riscv64', 'loong64', 'mips64el', 'mips64']);

function isGone(error: unknown): boolean {
  return GONE.has((error as NodeJS.ErrnoException).code ?? '');
}

/** Synchronous procfs reader with kept-open files; see the module comment. */
export class ProcFs {
  /** Mount point of procfs. */
  readonly root: string;
  /** Clock ticks per second (USER_HZ) of CPU times in stat files, `/proc/stat` included. */
  readonly ticksPerSecond: number;
  readonly ticksSource: ConstantSource;
  readonly pageBytes: number;
  readonly pageSource: ConstantSource;
  /** Whether `/proc/<pid>/task/<tid>/children` exists (CONFIG_PROC_CHILDREN). */
  readonly hasChildrenFiles: boolean;

  readonly #open = new Map<string, number>();
  readonly #maxOpen: number;
  #buffer = Buffer.alloc(4096);

  constructor(options: ProcFsOptions = {}) {
    this.root = options.procRoot ?? '/proc';
    this.#maxOpen = options.maxOpenFiles ?? 512;
    const auxv = this.#readAuxv();
    [this.ticksPerSecond, this.ticksSource] = resolveConstant(options.ticksPerSecond, auxv?.get(AT_CLKTCK), 'CLK_TCK', 100);
    [this.pageBytes, this.pageSource] = resolveConstant(options.pageBytes, auxv?.get(AT_PAGESZ), 'PAGESIZE', 4096);
    this.hasChildrenFiles = existsSync(`${this.root}/self/task/${this.#selfPid()}/children`);
  }

  /** True when this looks like a Linux procfs (the sampler's figures are available). */
  static usable(procRoot = '/proc'): boolean {
    return existsSync(`${procRoot}/stat`) && existsSync(`${procRoot}/self/stat`);
  }

  /** One process's CPU and memory, or `undefined` when it is gone (or never existed). */
  readProcess(pid: number, keepOpen: boolean): ProcessReading | undefined {
    const statText = this.#read(`${this.root}/${pid}/stat`, keepOpen);
    const stat = statText === undefined ? undefined : parseProcStat(statText);
    if (stat === undefined) return undefined;
    const statmText = this.#read(`${this.root}/${pid}/statm`, keepOpen);
    const memory = (statmText === undefined ? undefined : parseProcStatm(statmText)) ?? { residentPages: stat.rssPages, sharedPages: 0 };
    return { stat, memory };
  }

  /** Only the stat of a process (for scans of every process). */
  readStat(pid: number): ProcStat | undefined {
    const text = this.#read(`${this.root}/${pid}/stat`, false);
    return text === undefined ? undefined : parseProcStat(text);
  }

  /**
   * Children of a process's main thread. Children forked by another thread of it are listed under
   * that thread only; the sampler's periodic full scan finds those.
   */
  readChildren(pid: number, keepOpen: boolean): number[] {
    const text = this.#read(`${this.root}/${pid}/task/${pid}/children`, keepOpen);
    return text === undefined ? [] : parsePidList(text);
  }

  /** A process's arguments; empty when it has none or is gone. */
  readCmdline(pid: number): string[] {
    const bytes = this.#readBytes(`${this.root}/${pid}/cmdline`, false);
    return bytes === undefined ? [] : parseCmdline(bytes);
  }

  /** Every pid in procfs. */
  listPids(): number[] {
    const pids: number[] = [];
    for (const name of readdirSync(this.root)) {
      const code = name.charCodeAt(0);
      if (code >= 48 && code <= 57) pids.push(Number(name));
    }
    return pids;
  }

  readMachineCpu(): MachineCpuTicks | undefined {
    const text = this.#read(`${this.root}/stat`, true);
    return text === undefined ? undefined : parseMachineStat(text);
  }

  readMachineMemory(): MachineMemory | undefined {
    const text = this.#read(`${this.root}/meminfo`, true);
    return text === undefined ? undefined : parseMeminfo(text);
  }

  /** Seconds since boot: the clock of a process's start ticks. */
  readUptimeSeconds(): number | undefined {
    const text = this.#read(`${this.root}/uptime`, true);
    return text === undefined ? undefined : parseUptimeSeconds(text);
  }

  /** Reads any small text file (cgroupfs), optionally kept open; `undefined` when it is gone. */
  readText(path: string, keepOpen: boolean): string | undefined {
    return this.#read(path, keepOpen);
  }

  /** Closes the kept files of one process (it left the target, or is gone). */
  forget(pid: number): void {
    const prefix = `${this.root}/${pid}/`;
    for (const [path, fd] of this.#open) {
      if (path.startsWith(prefix)) this.#close(path, fd);
    }
  }

  /** Closes every kept file; the reader stays usable (files reopen on demand). */
  close(): void {
    for (const [path, fd] of this.#open) this.#close(path, fd);
  }

  /** How many files are kept open now. */
  get openFiles(): number {
    return this.#open.size;
  }

  #read(path: string, keepOpen: boolean): string | undefined {
    const bytes = this.#readBytes(path, keepOpen);
    return bytes === undefined ? undefined : bytes.toString('latin1');
  }

  /** The file's bytes (a view of the shared buffer, valid until the next read), or `undefined`. */
  #readBytes(path: string, keepOpen: boolean): Buffer | undefined {
    let fd = this.#open.get(path);
    const kept = fd !== undefined;
    try {
      if (fd === undefined) fd = openSync(path, 'r');
      let length = readSync(fd, this.#buffer, 0, this.#buffer.length, 0);
      // procfs answers one read with the whole (small) file; a full buffer may mean there is more.
      while (length === this.#buffer.length) {
        this.#buffer = Buffer.alloc(this.#buffer.length * 2);
        length = readSync(fd, this.#buffer, 0, this.#buffer.length, 0);
      }
      if (!kept) {
        if (keepOpen && this.#open.size < this.#maxOpen) this.#open.set(path, fd);
        else closeSync(fd);
      }
      return this.#buffer.subarray(0, length);
    } catch (error) {
      if (fd !== undefined) {
        if (kept) this.#close(path, fd);
        else closeSafely(fd);
      }
      if (isGone(error)) return undefined;
      throw error;
    }
  }

  #close(path: string, fd: number): void {
    this.#open.delete(path);
    closeSafely(fd);
  }

  #selfPid(): number {
    return this.root === '/proc' ? process.pid : Number(this.#read(`${this.root}/self/stat`, false)?.split(' ')[0] ?? 0);
  }

  #readAuxv(): Map<number, number> | undefined {
    const bytes = this.#readBytes(`${this.root}/self/auxv`, false);
    if (bytes === undefined || bytes.length === 0) return undefined;
    return parseAuxv(bytes, WIDE_ARCHES.has(process.arch) ? 8 : 4, endianness() === 'LE');
  }
}

function closeSafely(fd: number): void {
  try {
    closeSync(fd);
  } catch {
    // already closed
  }
}

/** An explicit option, else the auxiliary vector, else `getconf`, else the usual Linux value. */
function resolveConstant(option: number | undefined, fromAuxv: number | undefined, getconfName: string, fallback: number): [number, ConstantSource] {
  if (option !== undefined) return [option, 'option'];
  if (fromAuxv !== undefined && fromAuxv > 0) return [fromAuxv, 'auxv'];
  try {
    const value = Number(execFileSync('getconf', [getconfName], { encoding: 'utf8', timeout: 2000, stdio: ['ignore', 'pipe', 'ignore'] }).trim());
    if (Number.isInteger(value) && value > 0) return [value, 'getconf'];
  } catch {
    // no getconf: fall through
  }
  return [fallback, 'default'];
}
