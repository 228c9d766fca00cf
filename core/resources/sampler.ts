/**
 * The resource sampler: every `intervalMs` (250 by default) it reads, from procfs, the CPU and
 * memory of every target process, of loadbench itself and of the machine, and keeps the samples
 * so that any window (a level's measured phase) can be summarised afterwards.
 *
 * Which processes are the target is decided anew at each sample: the watched processes' children
 * are read every sample (a worker forked or respawned is seen within one interval), and every
 * `rescanMs` all processes are scanned, which finds what the children files cannot show (members
 * of the process group that were re-parented, new matches of a name pattern, children forked by a
 * thread other than the main one). Once a process is part of the target it stays so until it exits.
 *
 * Cost: a sample reads two small kept-open files per process plus four machine files, all
 * synchronous; see the README of this folder for measured figures.
 */
import { ProcFs, type ProcessReading } from './proc-fs.ts';
import { readCgroup, resolveCgroup, type CgroupLocation } from './cgroup.ts';
import { deriveRole } from './roles.ts';
import { resourceTimeline, summarizeWindow, type TimelineOptions } from './summary.ts';
import type {
  CgroupPoint,
  MachinePoint,
  ProcessPoint,
  ResourceHistory,
  ResourceSample,
  ResourceSummary,
  TargetSelector,
  TimelinePoint,
  TimeWindow,
  TrackedProcess,
  Unavailable,
} from './types.ts';

/** Settings of a {@link ResourceSampler}. */
export interface ResourceSamplerOptions {
  /** The target's processes; several selectors add up (the gateway's group and a database's cgroup). None: machine and loadbench only. */
  readonly target?: TargetSelector | readonly TargetSelector[];
  /** Time between samples, ms; default 250. */
  readonly intervalMs?: number;
  /** Time between scans of every process, ms; default 2000. Without children files, every sample scans. */
  readonly rescanMs?: number;
  /** Samples kept at most, oldest dropped first; default 43 200 (3 hours at 4 per second). */
  readonly maxSamples?: number;
  /** Mount point of procfs; default `/proc`. Tests point it at a fake tree. */
  readonly procRoot?: string;
  /** Mount point of cgroupfs; default `/sys/fs/cgroup`. */
  readonly cgroupRoot?: string;
  /** Default `process.platform`; tests use it to take the path of a machine without procfs. */
  readonly platform?: NodeJS.Platform;
  /** Clock of sample times, epoch ms; default `performance.timeOrigin + performance.now()`. */
  readonly now?: () => number;
  /** loadbench's own pid (never part of the target); default `process.pid`. */
  readonly selfPid?: number;
  /** Clock ticks per second of procfs CPU times; found out (auxv, then getconf) when not given. */
  readonly ticksPerSecond?: number;
  /** Bytes per memory page; found out when not given. */
  readonly pageBytes?: number;
}

/** Whether the sampler can measure here. */
export type Availability = { readonly available: true } | Unavailable;

/** How the sampler is doing, for logs and the report's notes. */
export interface SamplerDiagnostics {
  readonly samples: number;
  /** Samples that failed (an unexpected error reading procfs); the sampler carries on. */
  readonly errors: number;
  readonly lastError?: string;
  readonly ticksPerSecond?: number;
  readonly ticksSource?: string;
  readonly pageBytes?: number;
  /** Whether children files exist (else every sample scans every process). */
  readonly childrenFiles?: boolean;
  readonly openFiles: number;
  /** Cgroup selectors that could not be resolved (retried at each scan). */
  readonly unresolvedCgroups: readonly string[];
}

/** A target process being watched. */
interface Member {
  info: TrackedProcess;
  readonly startTicks: number;
  comm: string;
  /** Whether its children belong to the target too. */
  readonly descendants: boolean;
}

interface CgroupWatch {
  readonly spec: string;
  location?: CgroupLocation;
  error?: string;
}

const DEFAULT_INTERVAL_MS = 250;
const DEFAULT_RESCAN_MS = 2000;
const DEFAULT_MAX_SAMPLES = 43_200;
const COMMAND_CHARS = 300;

function defaultNow(): number {
  return performance.timeOrigin + performance.now();
}

/**
 * Samples target, loadbench and machine resources in the background. Create it, `start()` it, ask
 * for `summarize(window)` after each level, `stop()` it at the end (idempotent). Never throws for
 * lack of procfs: {@link availability} and every summary say so instead.
 */
export class ResourceSampler {
  readonly #intervalMs: number;
  readonly #rescanMs: number;
  readonly #maxSamples: number;
  readonly #now: () => number;
  readonly #selfPid: number;
  readonly #cgroupRoot: string;
  readonly #availability: Availability;
  readonly #fs: ProcFs | undefined;

  readonly #groups = new Set<number>();
  /** Pids given by the user, with the start ticks of the process first seen there (a later process with the pid is another one). */
  readonly #roots = new Map<number, { descendants: boolean; startTicks?: number }>();
  readonly #patterns: { re: RegExp; descendants: boolean }[] = [];
  readonly #cgroups: CgroupWatch[] = [];

  readonly #members = new Map<number, Member>();
  /** Pattern verdicts of processes that are not members, by pid, valid while the start ticks match. */
  readonly #verdicts = new Map<number, { startTicks: number; matches: boolean }>();
  readonly #processes = new Map<number, TrackedProcess>();
  readonly #roleOrdinals = new Map<string, number>();
  #generator: { info: TrackedProcess } | undefined;
  /** Further loadbench processes (bench processes), by pid; never part of the target. */
  readonly #helpers = new Map<number, { info?: TrackedProcess; startTicks?: number }>();
  #samples: ResourceSample[] = [];
  #nextId = 1;
  #lastScanMs = -Infinity;
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;
  #sampleCount = 0;
  #errors = 0;
  #lastError: string | undefined;

  constructor(options: ResourceSamplerOptions = {}) {
    this.#intervalMs = Math.max(10, options.intervalMs ?? DEFAULT_INTERVAL_MS);
    this.#rescanMs = Math.max(0, options.rescanMs ?? DEFAULT_RESCAN_MS);
    this.#maxSamples = Math.max(2, options.maxSamples ?? DEFAULT_MAX_SAMPLES);
    this.#now = options.now ?? defaultNow;
    this.#selfPid = options.selfPid ?? process.pid;
    this.#cgroupRoot = options.cgroupRoot ?? '/sys/fs/cgroup';
    const procRoot = options.procRoot ?? '/proc';
    const platform = options.platform ?? process.platform;

    const problem = this.#compileSelectors(options.target);
    let fs: ProcFs | undefined;
    if (problem !== undefined) {
      this.#availability = { available: false, reason: problem };
    } else if (platform !== 'linux') {
      this.#availability = { available: false, reason: `resource figures need Linux's /proc; this is ${platform}` };
    } else if (!ProcFs.usable(procRoot)) {
      this.#availability = { available: false, reason: `no procfs at ${procRoot}` };
    } else {
      try {
        fs = new ProcFs({
          procRoot,
          ...(options.ticksPerSecond !== undefined && { ticksPerSecond: options.ticksPerSecond }),
          ...(options.pageBytes !== undefined && { pageBytes: options.pageBytes }),
        });
        this.#availability = { available: true };
      } catch (error) {
        this.#availability = { available: false, reason: `cannot read ${procRoot}: ${(error as Error).message}` };
      }
    }
    this.#fs = fs;
  }

  /** Whether figures can be had here, and why not. */
  get availability(): Availability {
    return this.#availability;
  }

  /** Takes a first sample and starts sampling every interval (the timer does not keep the process alive). */
  start(): Availability {
    if (!this.#availability.available || this.#stopped || this.#timer !== undefined) return this.#availability;
    this.sampleNow();
    this.#timer = setInterval(() => this.sampleNow(), this.#intervalMs);
    this.#timer.unref();
    return this.#availability;
  }

  /**
   * Counts another process as part of loadbench's load generator (with `selfPid`): under Vitest
   * the levels run in a bench process, not in the process that samples. It stays counted until
   * it exits; it is never part of the target.
   */
  addGeneratorPid(pid: number): void {
    if (!Number.isInteger(pid) || pid <= 0 || pid === this.#selfPid || this.#helpers.has(pid)) return;
    this.#helpers.set(pid, {});
    this.#members.delete(pid);
  }

  /** Stops sampling and closes kept files; the samples stay for summaries. Idempotent. */
  stop(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
    this.#fs?.close();
  }

  /** Takes one sample now (between timer ticks: at a level's edges). `undefined` when stopped or unavailable. */
  sampleNow(): ResourceSample | undefined {
    if (!this.#availability.available || this.#stopped) return undefined;
    try {
      const sample = this.#take(this.#fs!);
      this.#samples.push(sample);
      this.#sampleCount++;
      if (this.#samples.length > this.#maxSamples * 1.1) this.#samples.splice(0, this.#samples.length - this.#maxSamples);
      return sample;
    } catch (error) {
      this.#errors++;
      this.#lastError = (error as Error).message;
      return undefined;
    }
  }

  /**
   * Figures of one window (epoch ms, the run's clock). If the window ends after the latest sample
   * and the timer is running, a sample is taken first, so a level can be summarised right after
   * it ends.
   */
  summarize(window: TimeWindow): ResourceSummary | Unavailable {
    if (!this.#availability.available) return this.#availability;
    const latest = this.#samples[this.#samples.length - 1];
    if (this.#timer !== undefined && (latest === undefined || latest.tMs < window.endMs)) this.sampleNow();
    return summarizeWindow(this.#history(), window);
  }

  /** Per-bucket figures (a second by default) over a window, for charts. Empty when unavailable. */
  timeline(options: TimelineOptions): TimelinePoint[] {
    if (!this.#availability.available) return [];
    return resourceTimeline(this.#history(), options);
  }

  /** A copy of everything sampled so far, for export or the pure summary functions. */
  history(): ResourceHistory {
    return { samples: this.#samples.slice(), processes: new Map(this.#processes) };
  }

  get diagnostics(): SamplerDiagnostics {
    const fs = this.#fs;
    return {
      samples: this.#sampleCount,
      errors: this.#errors,
      ...(this.#lastError !== undefined && { lastError: this.#lastError }),
      ...(fs !== undefined && {
        ticksPerSecond: fs.ticksPerSecond,
        ticksSource: fs.ticksSource,
        pageBytes: fs.pageBytes,
        childrenFiles: fs.hasChildrenFiles,
      }),
      openFiles: fs?.openFiles ?? 0,
      unresolvedCgroups: this.#cgroups.filter((c) => c.location === undefined).map((c) => `${c.spec}: ${c.error ?? 'not resolved'}`),
    };
  }

  #history(): ResourceHistory {
    return { samples: this.#samples, processes: this.#processes };
  }

  /** Validates and stores the selectors; returns a reason when one cannot be used. */
  #compileSelectors(target: ResourceSamplerOptions['target']): string | undefined {
    const selectors: readonly TargetSelector[] = target === undefined ? [] : Array.isArray(target) ? target : [target as TargetSelector];
    for (const selector of selectors) {
      switch (selector.kind) {
        case 'group':
          if (!Number.isInteger(selector.pgid) || selector.pgid <= 0) return `invalid process group ${String(selector.pgid)}`;
          this.#groups.add(selector.pgid);
          break;
        case 'pids':
          for (const pid of selector.pids) {
            if (!Number.isInteger(pid) || pid <= 0) return `invalid pid ${String(pid)}`;
            this.#roots.set(pid, { descendants: selector.descendants ?? true });
          }
          break;
        case 'pattern':
          try {
            this.#patterns.push({ re: typeof selector.pattern === 'string' ? new RegExp(selector.pattern) : selector.pattern, descendants: selector.descendants ?? true });
          } catch (error) {
            return `invalid process pattern: ${(error as Error).message}`;
          }
          break;
        case 'cgroup':
          this.#cgroups.push({ spec: selector.path });
          break;
        default:
          return `unknown target selector ${JSON.stringify(selector)}`;
      }
    }
    return undefined;
  }

  #take(fs: ProcFs): ResourceSample {
    const wallStart = performance.now();
    const cpuStart = process.cpuUsage();
    const tMs = this.#now();
    const perSecond = fs.ticksPerSecond;

    const readings = new Map<number, ProcessReading>();
    const fresh: { pid: number; reading: ProcessReading; descendants: boolean }[] = [];
    const adopt = (pid: number, descendants: boolean, reading?: ProcessReading): void => {
      if (pid === this.#selfPid || readings.has(pid) || this.#helpers.has(pid)) return;
      const r = reading ?? fs.readProcess(pid, true);
      if (r === undefined) return;
      readings.set(pid, r);
      const member = this.#members.get(pid);
      if (member === undefined || member.startTicks !== r.stat.startTicks) fresh.push({ pid, reading: r, descendants });
    };

    // Known members first: the ones that exited leave the target now. A process now found under a
    // member's pid is another one (the pid was reused): it joins only if the rules below take it.
    for (const [pid, member] of this.#members) {
      const reading = fs.readProcess(pid, true);
      if (reading === undefined || reading.stat.startTicks !== member.startTicks) {
        this.#members.delete(pid);
        fs.forget(pid);
      } else {
        readings.set(pid, reading);
      }
    }
    // A group's leader, unless its pid now belongs to a process of another group (the group ended, the pid was reused).
    for (const pgid of this.#groups) {
      if (readings.has(pgid)) continue;
      const leader = fs.readProcess(pgid, false);
      if (leader !== undefined && leader.stat.pgid === pgid) adopt(pgid, true, leader);
    }
    for (const [pid, root] of this.#roots) {
      if (readings.has(pid)) continue;
      const reading = fs.readProcess(pid, false);
      if (reading === undefined || (root.startTicks !== undefined && root.startTicks !== reading.stat.startTicks)) continue;
      root.startTicks = reading.stat.startTicks;
      adopt(pid, root.descendants, reading);
    }

    const cgroupPoints: CgroupPoint[] = [];
    const scanDue = tMs - this.#lastScanMs >= this.#rescanMs || !fs.hasChildrenFiles;
    for (const watch of this.#cgroups) {
      if (watch.location === undefined && (scanDue || this.#sampleCount === 0)) {
        const resolved = resolveCgroup(watch.spec, this.#cgroupRoot);
        if ('error' in resolved) watch.error = resolved.error;
        else watch.location = resolved;
      }
      if (watch.location === undefined) continue;
      const reading = readCgroup(fs, watch.location);
      for (const pid of reading.pids) adopt(pid, false);
      cgroupPoints.push({
        path: watch.location.path,
        ...(reading.cpuSeconds !== undefined && { cpuSeconds: reading.cpuSeconds }),
        ...(reading.memoryBytes !== undefined && { memoryBytes: reading.memoryBytes }),
        ...(reading.workingSetBytes !== undefined && { workingSetBytes: reading.workingSetBytes }),
      });
    }

    // Children of every member whose descendants count, transitively (new ones are walked too).
    const descendantsOf = (pid: number): boolean => this.#members.get(pid)?.descendants ?? fresh.find((f) => f.pid === pid)?.descendants ?? false;
    if (fs.hasChildrenFiles) {
      const queue = [...readings.keys()];
      while (queue.length > 0) {
        const pid = queue.pop()!;
        if (!descendantsOf(pid)) continue;
        for (const child of fs.readChildren(pid, true)) {
          if (readings.has(child)) continue;
          adopt(child, true);
          if (readings.has(child)) queue.push(child);
        }
      }
    }

    if (scanDue) {
      this.#lastScanMs = tMs;
      this.#scan(fs, readings, adopt, descendantsOf);
    }

    // New members: name them, number their roles in the order they started.
    if (fresh.length > 0) {
      const uptime = fs.readUptimeSeconds();
      fresh.sort((a, b) => a.reading.stat.startTicks - b.reading.stat.startTicks || a.pid - b.pid);
      for (const { pid, reading, descendants } of fresh) {
        const startedMs = uptime === undefined ? tMs : Math.min(tMs, tMs - (uptime - reading.stat.startTicks / perSecond) * 1000);
        const info = this.#track(fs, pid, reading, 'target', startedMs, tMs);
        this.#members.set(pid, { info, startTicks: reading.stat.startTicks, comm: reading.stat.comm, descendants });
      }
    }

    const target: ProcessPoint[] = [];
    for (const [pid, reading] of readings) {
      const member = this.#members.get(pid);
      if (member === undefined) continue;
      // An exec keeps the pid and the CPU counters but changes the program (sh -c exec node …).
      if (member.comm !== reading.stat.comm) {
        member.comm = reading.stat.comm;
        member.info = this.#track(fs, pid, reading, 'target', member.info.startedMs, member.info.firstSeenMs, member.info.id);
      }
      target.push(this.#point(fs, member.info.id, reading, this.#members.get(reading.stat.ppid)?.info.id));
    }

    let generator: ProcessPoint | undefined;
    const self = fs.readProcess(this.#selfPid, true);
    if (self !== undefined) {
      if (this.#generator === undefined) {
        const uptime = fs.readUptimeSeconds();
        const startedMs = uptime === undefined ? tMs : tMs - (uptime - self.stat.startTicks / perSecond) * 1000;
        this.#generator = { info: this.#track(fs, this.#selfPid, self, 'generator', startedMs, tMs) };
      }
      generator = this.#point(fs, this.#generator.info.id, self, undefined);
    }
    const generatorProcesses: ProcessPoint[] = [];
    for (const [pid, helper] of this.#helpers) {
      const reading = fs.readProcess(pid, true);
      if (reading === undefined || (helper.startTicks !== undefined && helper.startTicks !== reading.stat.startTicks)) {
        // Exited (or its pid reused): its CPU up to the last sample stays in the history.
        this.#helpers.delete(pid);
        fs.forget(pid);
        continue;
      }
      if (helper.info === undefined) {
        const uptime = fs.readUptimeSeconds();
        const startedMs = uptime === undefined ? tMs : Math.min(tMs, tMs - (uptime - reading.stat.startTicks / perSecond) * 1000);
        helper.startTicks = reading.stat.startTicks;
        helper.info = this.#track(fs, pid, reading, 'generator', startedMs, tMs);
      }
      generatorProcesses.push(this.#point(fs, helper.info.id, reading, undefined));
    }

    let machine: MachinePoint | undefined;
    const cpu = fs.readMachineCpu();
    if (cpu !== undefined) {
      const memory = fs.readMachineMemory();
      machine = {
        busySeconds: cpu.busyTicks / perSecond,
        idleSeconds: cpu.idleTicks / perSecond,
        stealSeconds: cpu.stealTicks / perSecond,
        cores: cpu.cores,
        ...(memory !== undefined && { memoryUsedBytes: memory.usedBytes, memoryTotalBytes: memory.totalBytes }),
      };
    }

    const used = process.cpuUsage(cpuStart);
    return {
      tMs,
      target,
      ...(generator !== undefined && { generator }),
      ...(generatorProcesses.length > 0 && { generatorProcesses }),
      ...(machine !== undefined && { machine }),
      ...(cgroupPoints.length > 0 && { cgroups: cgroupPoints }),
      cost: { wallUs: Math.round((performance.now() - wallStart) * 1000), cpuUs: used.user + used.system },
    };
  }

  /** Reads every process once: group members that left the tree, pattern matches, children of other threads. */
  #scan(
    fs: ProcFs,
    readings: Map<number, ProcessReading>,
    adopt: (pid: number, descendants: boolean, reading?: ProcessReading) => void,
    descendantsOf: (pid: number) => boolean,
  ): void {
    const seen = new Set<number>();
    const byParent = new Map<number, number[]>();
    for (const pid of fs.listPids()) {
      seen.add(pid);
      if (pid === this.#selfPid || readings.has(pid)) continue;
      const stat = fs.readStat(pid);
      if (stat === undefined) continue;
      if (this.#groups.has(stat.pgid)) {
        adopt(pid, true);
        continue;
      }
      const match = this.#patternMatch(fs, pid, stat.startTicks, stat.comm);
      if (match !== undefined) {
        adopt(pid, match);
        continue;
      }
      const siblings = byParent.get(stat.ppid);
      if (siblings === undefined) byParent.set(stat.ppid, [pid]);
      else siblings.push(pid);
    }
    for (const pid of this.#verdicts.keys()) if (!seen.has(pid)) this.#verdicts.delete(pid);
    // Descendants of members, however deep, among the rest.
    const queue = [...readings.keys()];
    while (queue.length > 0) {
      const pid = queue.pop()!;
      if (!descendantsOf(pid)) continue;
      for (const child of byParent.get(pid) ?? []) {
        adopt(child, true);
        if (readings.has(child)) queue.push(child);
      }
    }
  }

  /** Whether a process matches a name pattern: `undefined` for no, else whether its descendants count. */
  #patternMatch(fs: ProcFs, pid: number, startTicks: number, comm: string): boolean | undefined {
    if (this.#patterns.length === 0) return undefined;
    // A command line is read once per process, not at every scan.
    const cached = this.#verdicts.get(pid);
    if (cached !== undefined && cached.startTicks === startTicks && !cached.matches) return undefined;
    const argv = fs.readCmdline(pid);
    const text = argv.length > 0 ? argv.join(' ') : comm;
    const matched = this.#patterns.find((p) => {
      p.re.lastIndex = 0;
      return p.re.test(text);
    });
    this.#verdicts.set(pid, { startTicks, matches: matched !== undefined });
    return matched?.descendants;
  }

  #track(fs: ProcFs, pid: number, reading: ProcessReading, kind: TrackedProcess['kind'], startedMs: number, firstSeenMs: number, id?: number): TrackedProcess {
    const argv = fs.readCmdline(pid);
    const named = kind === 'generator' ? { role: 'loadbench', wrapper: false } : deriveRole(argv, reading.stat.comm);
    const previous = id === undefined ? undefined : this.#processes.get(id);
    let ordinal = previous?.ordinal ?? 0;
    if (previous === undefined || previous.role !== named.role) {
      ordinal = (this.#roleOrdinals.get(`${kind}:${named.role}`) ?? 0) + 1;
      this.#roleOrdinals.set(`${kind}:${named.role}`, ordinal);
    }
    const command = (argv.length > 0 ? argv.join(' ') : `[${reading.stat.comm}]`).slice(0, COMMAND_CHARS);
    const info: TrackedProcess = { id: id ?? this.#nextId++, pid, kind, role: named.role, ordinal, wrapper: named.wrapper, command, startedMs, firstSeenMs };
    this.#processes.set(info.id, info);
    return info;
  }

  #point(fs: ProcFs, id: number, reading: ProcessReading, parentId: number | undefined): ProcessPoint {
    const { stat, memory } = reading;
    const perSecond = fs.ticksPerSecond;
    return {
      id,
      cpuSeconds: (stat.utimeTicks + stat.stimeTicks) / perSecond,
      childCpuSeconds: stat.childTicks / perSecond,
      rssBytes: memory.residentPages * fs.pageBytes,
      anonBytes: Math.max(0, memory.residentPages - memory.sharedPages) * fs.pageBytes,
      ...(parentId !== undefined && { parentId }),
    };
  }
}

/** Creates a sampler and starts it: the usual way to use one. */
export function startResourceSampler(options: ResourceSamplerOptions = {}): ResourceSampler {
  const sampler = new ResourceSampler(options);
  sampler.start();
  return sampler;
}
