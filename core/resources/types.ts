/**
 * The data model of resource sampling: what to watch, what one sample holds, what a window
 * summary reports. Plain data only (no class instances), so samples and summaries can be sent to
 * a worker thread, written as JSON or kept in a report as they are.
 *
 * Units: times in epoch milliseconds (`performance.timeOrigin + performance.now()`, the clock the
 * run's level windows use), CPU in seconds (cumulative counters) or cores (CPU-seconds per
 * wall-second: 1 = one core busy), memory in bytes in samples and MiB ("MB", 2^20 bytes, as top
 * and ps count) in summaries.
 */

/**
 * Which processes make up the target.
 * - `group`: a process group and every descendant of its leader; what loadbench starts
 *   (`target.start.command` runs in a detached shell whose pid is the group id).
 * - `pids`: given processes (and, unless `descendants: false`, their descendants).
 * - `pattern`: processes whose command line (or, without one, kernel name) matches.
 * - `cgroup`: the processes of a cgroup (see `resolveCgroup` for the accepted forms); its
 *   whole-cgroup CPU and memory are reported too.
 */
export type TargetSelector =
  | { readonly kind: 'group'; readonly pgid: number }
  | { readonly kind: 'pids'; readonly pids: readonly number[]; readonly descendants?: boolean }
  | { readonly kind: 'pattern'; readonly pattern: RegExp | string; readonly descendants?: boolean }
  | { readonly kind: 'cgroup'; readonly path: string };

/** Figures that cannot be had here: not Linux, no procfs, … Never thrown, returned. */
export interface Unavailable {
  readonly available: false;
  readonly reason: string;
}

/** A process the sampler has seen: identity and naming, fixed for its lifetime. */
export interface TrackedProcess {
  /** Serial number within one sampler; unlike the pid, never reused. */
  readonly id: number;
  readonly pid: number;
  /** `generator` is loadbench's own process (its worker threads included). */
  readonly kind: 'target' | 'generator';
  /** Short name from the command line: `gateway`, `worker`, `postgres`, `sh`. */
  readonly role: string;
  /** 1, 2, … among processes of the same role, in the order they started; never reused. */
  readonly ordinal: number;
  /** A shell or launcher that only starts the real program (its CPU still counts for the target). */
  readonly wrapper: boolean;
  /** Command line, arguments joined by spaces, cut to 300 characters. */
  readonly command: string;
  /** When the process started (from its start ticks), epoch ms. */
  readonly startedMs: number;
  /** The first sample that saw it, epoch ms. */
  readonly firstSeenMs: number;
}

/** One process in one sample. CPU figures are cumulative since the process started. */
export interface ProcessPoint {
  /** {@link TrackedProcess.id}. */
  readonly id: number;
  /** User + system CPU of all its threads, in seconds. */
  readonly cpuSeconds: number;
  /** CPU of its children that exited and were waited for, in seconds (cutime + cstime). */
  readonly childCpuSeconds: number;
  readonly rssBytes: number;
  /** Resident memory not backed by files or shared memory (RssAnon): not double-counted across processes. */
  readonly anonBytes: number;
  /** The tracked target process that is its parent now, if any (for exited-children accounting). */
  readonly parentId?: number;
}

/** Whole-machine counters in one sample, cumulative, summed over all cores. */
export interface MachinePoint {
  readonly busySeconds: number;
  readonly idleSeconds: number;
  readonly stealSeconds: number;
  readonly cores: number;
  readonly memoryUsedBytes?: number;
  readonly memoryTotalBytes?: number;
}

/** One cgroup selector's whole-cgroup figures in one sample. */
export interface CgroupPoint {
  /** The selector's cgroup path as resolved. */
  readonly path: string;
  readonly cpuSeconds?: number;
  readonly memoryBytes?: number;
  readonly workingSetBytes?: number;
}

/** One sample: every figure read at (nearly) the same instant. */
export interface ResourceSample {
  readonly tMs: number;
  readonly target: readonly ProcessPoint[];
  readonly generator?: ProcessPoint;
  /** Other processes of loadbench's own that generate load (a bench process under Vitest), see `addGeneratorPid`. */
  readonly generatorProcesses?: readonly ProcessPoint[];
  readonly machine?: MachinePoint;
  readonly cgroups?: readonly CgroupPoint[];
  /** What taking this sample cost loadbench, µs: wall time (the event loop blocked) and process CPU (all threads). */
  readonly cost: { readonly wallUs: number; readonly cpuUs: number };
}

/** Everything sampled so far: the input of the pure summary functions. */
export interface ResourceHistory {
  /** Oldest first. */
  readonly samples: readonly ResourceSample[];
  readonly processes: ReadonlyMap<number, TrackedProcess>;
}

/** A time window, epoch ms (a level's measured phase, one second of a timeline). */
export interface TimeWindow {
  readonly startMs: number;
  readonly endMs: number;
}

/** Mean and peak CPU, and peak memory, of one process or a set of them over a window. */
export interface UsageFigures {
  /** CPU-seconds per wall-second over the window (1 = one core). */
  readonly meanCores: number;
  /** Highest rate over one sampling interval within the window. */
  readonly maxCores: number;
  /** Highest resident set size seen in the window, MiB. */
  readonly maxRssMb: number;
  /** Highest anonymous resident memory seen in the window, MiB. */
  readonly maxAnonMb: number;
}

/** One process over a window. */
export interface ProcessSummary extends UsageFigures {
  readonly id: number;
  readonly pid: number;
  /** `worker 2`: role, numbered when several processes have had this role. */
  readonly label: string;
  readonly role: string;
  readonly ordinal: number;
  readonly wrapper: boolean;
  readonly command: string;
  /** Whether it ran through the whole window, or started or exited within it. */
  readonly lifetime: 'whole' | 'started' | 'exited' | 'started-and-exited';
}

/** The whole target over a window. */
export interface TargetSummary extends UsageFigures {
  /** Processes seen in the window. */
  readonly processCount: number;
  /**
   * CPU of processes that exited between two samples and were waited for by a target process,
   * not seen by sampling (short-lived children, the last moments of exited ones); in meanCores.
   */
  readonly exitedChildrenCores: number;
  /**
   * Note that maxRssMb adds up each process's RSS, so pages shared between processes (the
   * runtime's binary, libraries) count once per process; maxAnonMb does not double-count those.
   */
  readonly note?: string;
}

/** One cgroup over a window, from its own counters (every process that ever ran in it). */
export interface CgroupSummary {
  readonly path: string;
  readonly meanCores?: number;
  readonly maxCores?: number;
  readonly maxMemoryMb?: number;
  readonly maxWorkingSetMb?: number;
}

/** The machine over a window. */
export interface MachineSummary {
  readonly cores: number;
  /** Busy share of all cores, 0–100. */
  readonly meanCpuPercent: number;
  /** Highest busy share over one sampling interval, 0–100. */
  readonly maxCpuPercent: number;
  /** Time the hypervisor gave these CPUs to others, share of all cores, 0–100. */
  readonly stealPercent: number;
  /** Busy cores that were neither the target nor loadbench: other load on the machine. */
  readonly otherCores: number;
  readonly maxMemoryUsedMb?: number;
  readonly memoryTotalMb?: number;
}

/** Resource figures of one window. */
export interface ResourceSummary {
  readonly available: true;
  readonly window: TimeWindow & {
    /** Part of the window between the first and the last sample, ms (the figures' span). */
    readonly coveredMs: number;
    readonly samples: number;
  };
  readonly target: TargetSummary;
  /** Target processes, by role then ordinal. */
  readonly processes: readonly ProcessSummary[];
  readonly generator?: UsageFigures;
  readonly machine?: MachineSummary;
  readonly cgroups?: readonly CgroupSummary[];
  /** The sampler's own cost in this window. */
  readonly sampler: {
    /** Time one sample blocked loadbench's event loop, µs. */
    readonly meanWallUs: number;
    readonly maxWallUs: number;
    /** Process CPU while sampling, µs: includes other threads running meanwhile (an upper bound). */
    readonly meanCpuUs: number;
    /**
     * Time spent sampling per wall-second: an upper bound of the sampler's CPU (it runs
     * synchronously on one thread), comparable with the cores figures.
     */
    readonly cores: number;
  };
}

/** One bucket of a timeline (a second, by default). */
export interface TimelinePoint {
  readonly startMs: number;
  readonly endMs: number;
  readonly targetCores: number;
  readonly targetRssMb: number;
  readonly generatorCores?: number;
  readonly machineCpuPercent?: number;
  /** Mean cores and peak RSS of each target process in the bucket, by label. */
  readonly processes: ReadonlyArray<{ readonly id: number; readonly label: string; readonly cores: number; readonly rssMb: number }>;
}
