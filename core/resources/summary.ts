/**
 * Pure summaries of sampled resource figures: any time window (a level's measured phase) and a
 * per-second timeline. No I/O and no clock: the input is a {@link ResourceHistory}.
 *
 * Method. Every figure is a cumulative counter (CPU seconds), so the CPU used in a window is the
 * counter's growth between the window's edges. The edges rarely fall on a sample; the counter is
 * interpolated linearly between the two samples around each edge, so back-to-back windows add up
 * exactly and no interval is counted twice or lost. A process absent from a sample counts 0 CPU
 * there if it had not started yet (a worker forked between two samples is counted from its
 * start), and holds its last value after it exited. Peaks (max cores) are rates over one sampling
 * interval; peaks of memory are the highest sample.
 */
import { processLabel } from './roles.ts';
import type {
  CgroupSummary,
  MachineSummary,
  ProcessPoint,
  ProcessSummary,
  ResourceHistory,
  ResourceSample,
  ResourceSummary,
  TimelinePoint,
  TimeWindow,
  TrackedProcess,
  Unavailable,
  UsageFigures,
} from './types.ts';

const MIB = 1024 * 1024;
const SHARED_RSS_NOTE =
  'maxRssMb adds up the RSS of every process, so pages they share (runtime binary, libraries) count once per process; maxAnonMb does not';

/** Rounds for output: figures carry the precision their inputs have, not float noise. */
function round(value: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

/** Index of the last sample at or before `t` (0 when all are later). */
function lastAtOrBefore(samples: readonly ResourceSample[], t: number): number {
  let lo = 0;
  let hi = samples.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (samples[mid]!.tMs <= t) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/** A cumulative counter's value at each sample of a range. */
type Series = Float64Array;

/** The samples of a window and the edge positions within them. */
interface Range {
  readonly samples: readonly ResourceSample[];
  /** Window edges clipped to the sampled span. */
  readonly start: number;
  readonly end: number;
  /** Samples whose time lies within [start, end]; the edge samples when none does. */
  readonly inside: readonly number[];
  /** Intervals (index of their first sample) whose middle lies in the window; all when none does. */
  readonly intervals: readonly number[];
}

function makeRange(all: readonly ResourceSample[], window: TimeWindow): Range | Unavailable {
  if (all.length < 2) return { available: false, reason: 'fewer than two samples taken' };
  const start = Math.max(window.startMs, all[0]!.tMs);
  const end = Math.min(window.endMs, all[all.length - 1]!.tMs);
  if (!(end > start)) return { available: false, reason: 'no samples cover the window' };
  const first = lastAtOrBefore(all, start);
  let last = lastAtOrBefore(all, end);
  if (all[last]!.tMs < end) last++;
  const samples = all.slice(first, last + 1);
  const inside: number[] = [];
  const intervals: number[] = [];
  for (let k = 0; k < samples.length; k++) {
    const t = samples[k]!.tMs;
    if (t >= start && t <= end) inside.push(k);
    if (k + 1 < samples.length) {
      const middle = (t + samples[k + 1]!.tMs) / 2;
      if (middle >= start && middle <= end) intervals.push(k);
    }
  }
  return {
    samples,
    start,
    end,
    inside: inside.length > 0 ? inside : [0, samples.length - 1],
    intervals: intervals.length > 0 ? intervals : samples.slice(1).map((_, k) => k),
  };
}

/** The counter's value at time t, interpolated between the samples around it. */
function at(range: Range, series: Series, t: number): number {
  const { samples } = range;
    for (let k = 0; k + 1 < samples.length; k++) {
    const t0 = samples[k]!.tMs;
    const t1 = samples[k + 1]!.tMs;
    if (t <= t1) return t1 > t0 ? series[k]! + ((series[k + 1]! - series[k]!) * Math.max(0, t - t0)) / (t1 - t0) : series[k + 1]!;
  }
  return series[samples.length - 1]!;
}

function meanRate(range: Range, series: Series): number {
  return (at(range, series, range.end) - at(range, series, range.start)) / ((range.end - range.start) / 1000);
}

function intervalRate(range: Range, series: Series, k: number): number {
  const dt = (range.samples[k + 1]!.tMs - range.samples[k]!.tMs) / 1000;
  return dt > 0 ? (series[k + 1]! - series[k]!) / dt : 0;
}

function maxRate(range: Range, series: Series): number {
  let max = 0;
  for (const k of range.intervals) max = Math.max(max, intervalRate(range, series, k));
  return max;
}

/** One process's points over the range: undefined where it is absent. */
function pointsOf(range: Range, pick: (sample: ResourceSample) => ProcessPoint | undefined): (ProcessPoint | undefined)[] {
  return range.samples.map(pick);
}

/**
 * The process's cumulative CPU at each sample of the range: before its first point 0 if it had not
 * started yet, else its first value (CPU before it was first seen is not known, so not counted);
 * after its last point, its last value.
 */
function cpuSeries(range: Range, points: readonly (ProcessPoint | undefined)[], startedMs: number): Series {
  const series = new Float64Array(points.length);
  const firstIndex = points.findIndex((p) => p !== undefined);
  if (firstIndex < 0) return series;
  let last = points[firstIndex]!.cpuSeconds;
  for (let k = 0; k < points.length; k++) {
    const point = points[k];
    if (point !== undefined) last = point.cpuSeconds;
    series[k] = k < firstIndex && startedMs > range.samples[k]!.tMs ? 0 : last;
  }
  return series;
}

function memoryPeaks(range: Range, points: readonly (ProcessPoint | undefined)[]): { rss: number; anon: number } {
  let rss = 0;
  let anon = 0;
  for (const k of range.inside) {
    const point = points[k];
    if (point === undefined) continue;
    rss = Math.max(rss, point.rssBytes);
    anon = Math.max(anon, point.anonBytes);
  }
  return { rss, anon };
}

function usage(meanCores: number, maxCores: number, rssBytes: number, anonBytes: number): UsageFigures {
  return { meanCores: round(meanCores, 3), maxCores: round(maxCores, 3), maxRssMb: round(rssBytes / MIB, 1), maxAnonMb: round(anonBytes / MIB, 1) };
}

/**
 * CPU of target processes that exited between two samples, as their waiting parents' children
 * counters show it, minus what sampling had already seen of them. Cumulative over the range.
 */
function exitedChildrenSeries(range: Range): Series {
  const series = new Float64Array(range.samples.length);
  for (let k = 0; k + 1 < range.samples.length; k++) {
    const before = new Map(range.samples[k]!.target.map((p) => [p.id, p]));
    const after = new Map(range.samples[k + 1]!.target.map((p) => [p.id, p]));
    let reaped = 0;
    for (const [id, p] of before) {
      const q = after.get(id);
      if (q !== undefined) reaped += Math.max(0, q.childCpuSeconds - p.childCpuSeconds);
    }
    // An exited process's CPU reaches a parent's children counter only when that parent (or, if
    // the parent exited too, the one that waited for the parent) is still a target process.
    const waited = (p: ProcessPoint, depth: number): boolean => {
      if (p.parentId === undefined || depth > 64) return false;
      if (after.has(p.parentId)) return true;
      const parent = before.get(p.parentId);
      return parent !== undefined && waited(parent, depth + 1);
    };
    for (const [id, p] of before) {
      if (!after.has(id) && waited(p, 0)) reaped -= p.cpuSeconds + p.childCpuSeconds;
    }
    series[k + 1] = series[k]! + Math.max(0, reaped);
  }
  return series;
}

function counterSeries(range: Range, pick: (sample: ResourceSample) => number | undefined): Series | undefined {
  const series = new Float64Array(range.samples.length);
  let last: number | undefined;
  for (let k = 0; k < range.samples.length; k++) {
    last = pick(range.samples[k]!) ?? last;
    if (last === undefined) return undefined;
    series[k] = last;
  }
  return series;
}

function sumSeries(parts: readonly Series[], length: number): Series {
  const total = new Float64Array(length);
  for (const part of parts) for (let k = 0; k < length; k++) total[k]! += part[k]!;
  return total;
}

function machineSummary(range: Range, targetMean: number, generatorMean: number): MachineSummary | undefined {
  const busy = counterSeries(range, (s) => s.machine?.busySeconds);
  const idle = counterSeries(range, (s) => s.machine?.idleSeconds);
  const steal = counterSeries(range, (s) => s.machine?.stealSeconds);
  if (busy === undefined || idle === undefined || steal === undefined) return undefined;
  const delta = (s: Series): number => at(range, s, range.end) - at(range, s, range.start);
  const total = delta(busy) + delta(idle) + delta(steal);
  let maxPercent = 0;
  for (const k of range.intervals) {
    const b = busy[k + 1]! - busy[k]!;
    const all = b + idle[k + 1]! - idle[k]! + steal[k + 1]! - steal[k]!;
    if (all > 0) maxPercent = Math.max(maxPercent, (100 * b) / all);
  }
  const busyCores = meanRate(range, busy);
  let maxUsed: number | undefined;
  for (const k of range.inside) {
    const used = range.samples[k]!.machine?.memoryUsedBytes;
    if (used !== undefined) maxUsed = Math.max(maxUsed ?? 0, used);
  }
  const last = range.samples[range.samples.length - 1]!.machine!;
  return {
    cores: last.cores,
    meanCpuPercent: round(total > 0 ? (100 * delta(busy)) / total : 0, 1),
    maxCpuPercent: round(maxPercent, 1),
    stealPercent: round(total > 0 ? (100 * delta(steal)) / total : 0, 1),
    otherCores: round(Math.max(0, busyCores - targetMean - generatorMean), 3),
    ...(maxUsed !== undefined && { maxMemoryUsedMb: round(maxUsed / MIB, 1) }),
    ...(last.memoryTotalBytes !== undefined && { memoryTotalMb: round(last.memoryTotalBytes / MIB, 1) }),
  };
}

function cgroupSummaries(range: Range): CgroupSummary[] | undefined {
  const paths = new Set<string>();
  for (const s of range.samples) for (const c of s.cgroups ?? []) paths.add(c.path);
  if (paths.size === 0) return undefined;
  return [...paths].map((path) => {
    const find = (s: ResourceSample) => s.cgroups?.find((c) => c.path === path);
    const cpu = counterSeries(range, (s) => find(s)?.cpuSeconds);
    let memory: number | undefined;
    let workingSet: number | undefined;
    for (const k of range.inside) {
      const c = find(range.samples[k]!);
      if (c?.memoryBytes !== undefined) memory = Math.max(memory ?? 0, c.memoryBytes);
      if (c?.workingSetBytes !== undefined) workingSet = Math.max(workingSet ?? 0, c.workingSetBytes);
    }
    return {
      path,
      ...(cpu !== undefined && { meanCores: round(meanRate(range, cpu), 3), maxCores: round(maxRate(range, cpu), 3) }),
      ...(memory !== undefined && { maxMemoryMb: round(memory / MIB, 1) }),
      ...(workingSet !== undefined && { maxWorkingSetMb: round(workingSet / MIB, 1) }),
    };
  });
}

/** How many processes have had each role (for numbering labels). */
export function roleCounts(processes: Iterable<TrackedProcess>): Map<string, number> {
  const counts = new Map<string, number>();
  for (const p of processes) if (p.kind === 'target') counts.set(p.role, (counts.get(p.role) ?? 0) + 1);
  return counts;
}

/**
 * Summarises the target, its processes, loadbench itself and the machine over a window. Returns
 * {@link Unavailable} when fewer than two samples cover the window.
 */
export function summarizeWindow(history: ResourceHistory, window: TimeWindow): ResourceSummary | Unavailable {
  const range = makeRange(history.samples, window);
  if ('available' in range) return range;
  const counts = roleCounts(history.processes.values());
  const length = range.samples.length;
  const last = range.samples[length - 1]!;

  const ids = new Set<number>();
  for (const s of range.samples) for (const p of s.target) ids.add(p.id);
  const processes: ProcessSummary[] = [];
  const cpuParts: Series[] = [];
  const pointsById = new Map<number, (ProcessPoint | undefined)[]>();
  for (const id of ids) {
    const info = history.processes.get(id);
    if (info === undefined) continue;
    const points = pointsOf(range, (s) => s.target.find((p) => p.id === id));
    pointsById.set(id, points);
    const cpu = cpuSeries(range, points, info.startedMs);
    cpuParts.push(cpu);
    const memory = memoryPeaks(range, points);
    const started = info.startedMs > range.start;
    const exited = points[length - 1] === undefined;
    processes.push({
      id,
      pid: info.pid,
      label: processLabel(info, counts),
      role: info.role,
      ordinal: info.ordinal,
      wrapper: info.wrapper,
      command: info.command,
      lifetime: started && exited ? 'started-and-exited' : started ? 'started' : exited ? 'exited' : 'whole',
      ...usage(meanRate(range, cpu), maxRate(range, cpu), memory.rss, memory.anon),
    });
  }
  processes.sort((a, b) => Number(a.wrapper) - Number(b.wrapper) || history.processes.get(a.id)!.startedMs - history.processes.get(b.id)!.startedMs || a.id - b.id);

  const exited = exitedChildrenSeries(range);
  const targetCpu = sumSeries([...cpuParts, exited], length);
  let targetRss = 0;
  let targetAnon = 0;
  for (const k of range.inside) {
    let rss = 0;
    let anon = 0;
    for (const p of range.samples[k]!.target) {
      rss += p.rssBytes;
      anon += p.anonBytes;
    }
    targetRss = Math.max(targetRss, rss);
    targetAnon = Math.max(targetAnon, anon);
  }
  const targetMean = meanRate(range, targetCpu);

  // loadbench's own processes: this one and any bench process added with addGeneratorPid, each
  // counted from its own series (a bench process may start or end within the window), then summed.
  let generator: UsageFigures | undefined;
  const generatorIds = new Set<number>();
  for (const s of range.samples) {
    if (s.generator !== undefined) generatorIds.add(s.generator.id);
    for (const p of s.generatorProcesses ?? []) generatorIds.add(p.id);
  }
  const generatorParts: Series[] = [];
  for (const id of generatorIds) {
    const info = history.processes.get(id);
    if (info === undefined) continue;
    const points = pointsOf(range, (s) => (s.generator?.id === id ? s.generator : s.generatorProcesses?.find((p) => p.id === id)));
    generatorParts.push(cpuSeries(range, points, info.startedMs));
  }
  if (generatorParts.length > 0) {
    const cpu = sumSeries(generatorParts, length);
    let rss = 0;
    let anon = 0;
    for (const k of range.inside) {
      const s = range.samples[k]!;
      const all = [...(s.generator !== undefined ? [s.generator] : []), ...(s.generatorProcesses ?? [])];
      rss = Math.max(rss, all.reduce((sum, p) => sum + p.rssBytes, 0));
      anon = Math.max(anon, all.reduce((sum, p) => sum + p.anonBytes, 0));
    }
    generator = usage(meanRate(range, cpu), maxRate(range, cpu), rss, anon);
  }

  const machine = machineSummary(range, targetMean, generator?.meanCores ?? 0);
  const cgroups = cgroupSummaries(range);

  const costSamples = range.inside.map((k) => range.samples[k]!.cost);
  const wall = costSamples.map((c) => c.wallUs);
  const wallUs = wall.reduce((sum, w) => sum + w, 0);
  const cpuUs = costSamples.reduce((sum, c) => sum + c.cpuUs, 0);
  // Samples in the window stand for the whole window: the span between them, one interval each.
  const spanSeconds = costSamples.length > 1 ? ((range.end - range.start) / 1000) * (costSamples.length / (costSamples.length - 1)) : (range.end - range.start) / 1000;

  return {
    available: true,
    window: { startMs: window.startMs, endMs: window.endMs, coveredMs: round(range.end - range.start, 1), samples: range.inside.length },
    target: {
      ...usage(targetMean, maxRate(range, targetCpu), targetRss, targetAnon),
      processCount: processes.length,
      exitedChildrenCores: round(meanRate(range, exited), 3),
      ...(processes.length > 1 && { note: SHARED_RSS_NOTE }),
    },
    processes,
    ...(generator !== undefined && { generator }),
    ...(machine !== undefined && { machine }),
    ...(cgroups !== undefined && { cgroups }),
    sampler: {
      meanWallUs: round(wall.length > 0 ? wallUs / wall.length : 0, 1),
      maxWallUs: round(Math.max(0, ...wall), 1),
      meanCpuUs: round(costSamples.length > 0 ? cpuUs / costSamples.length : 0, 1),
      cores: round(spanSeconds > 0 ? wallUs / 1e6 / spanSeconds : 0, 5),
    },
  };
}

/** Settings of {@link resourceTimeline}. */
export interface TimelineOptions extends TimeWindow {
  /** Bucket length, ms; default 1000. */
  readonly bucketMs?: number;
}

/** Per-bucket (per-second by default) figures over a window, for charts; buckets without samples are left out. */
export function resourceTimeline(history: ResourceHistory, options: TimelineOptions): TimelinePoint[] {
  const bucketMs = options.bucketMs ?? 1000;
  const points: TimelinePoint[] = [];
  if (!(bucketMs > 0)) return points;
  for (let start = options.startMs; start < options.endMs; start += bucketMs) {
    const end = Math.min(start + bucketMs, options.endMs);
    const summary = summarizeWindow(history, { startMs: start, endMs: end });
    if (!summary.available) continue;
    points.push({
      startMs: start,
      endMs: end,
      targetCores: summary.target.meanCores,
      targetRssMb: summary.target.maxRssMb,
      ...(summary.generator !== undefined && { generatorCores: summary.generator.meanCores }),
      ...(summary.machine !== undefined && { machineCpuPercent: summary.machine.meanCpuPercent }),
      processes: summary.processes.map((p) => ({ id: p.id, label: p.label, cores: p.meanCores, rssMb: p.maxRssMb })),
    });
  }
  return points;
}
