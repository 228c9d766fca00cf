/**
 * The resource sampler of one run (issue 16): which processes make up the target (the process
 * group loadbench started, or `target.monitor`), and each level's figures in the summary's terms.
 * The sampler itself (core/resources) knows nothing of loadbench; this is where the two meet.
 */
import type { LoadbenchConfig } from '../config/schema.ts';
import { ResourceSampler } from '../resources/sampler.ts';
import type { ResourceSummary, TargetSelector } from '../resources/types.ts';
import type { LevelResources, RunResources } from '../model/resources.ts';
import type { MeasuredLevel } from '../model/summary.ts';

/** Time between samples, ms (issue 16: every 250 ms). */
export const RESOURCE_INTERVAL_MS = 250;

/** What to watch: the group of the target loadbench started, and `target.monitor`. */
export function targetSelectors(config: LoadbenchConfig, targetPid: number | undefined): { selectors: TargetSelector[]; monitored: string[] } {
  const selectors: TargetSelector[] = [];
  const monitored: string[] = [];
  if (targetPid !== undefined) {
    selectors.push({ kind: 'group', pgid: targetPid });
    monitored.push(`process group of target.start (pid ${targetPid}) and its children`);
  }
  const m = config.target.monitor;
  if (m?.pids) {
    selectors.push({ kind: 'pids', pids: m.pids, descendants: m.descendants });
    monitored.push(`target.monitor pids ${m.pids.join(', ')}${m.descendants ? ' and their children' : ''}`);
  }
  if (m?.pattern) {
    selectors.push({ kind: 'pattern', pattern: m.pattern, descendants: m.descendants });
    monitored.push(`target.monitor pattern /${m.pattern}/${m.descendants ? ' and the children of its matches' : ''}`);
  }
  if (m?.cgroup) {
    selectors.push({ kind: 'cgroup', path: m.cgroup });
    monitored.push(`target.monitor cgroup ${m.cgroup}`);
  }
  return { selectors, monitored };
}

const round = (x: number, digits: number): number => Math.round(x * 10 ** digits) / 10 ** digits;

/** A window summary in the summary model's terms, with a per-second timeline of the target's CPU. Pure. */
export function toLevelResources(s: ResourceSummary, perSecond: ResourceSummary[], watchesTarget: boolean): LevelResources {
  return {
    available: true,
    samples: s.window.samples,
    covered_s: round(s.window.coveredMs / 1000, 3),
    ...(watchesTarget && {
      target: {
        mean_cores: s.target.meanCores,
        max_cores: s.target.maxCores,
        max_rss_mb: s.target.maxRssMb,
        max_anon_mb: s.target.maxAnonMb,
        process_count: s.target.processCount,
      },
    }),
    processes: s.processes.map((p) => ({
      label: p.label,
      role: p.role,
      pid: p.pid,
      ...(p.wrapper && { wrapper: true }),
      ...(p.lifetime !== 'whole' && { lifetime: p.lifetime }),
      mean_cores: p.meanCores,
      max_cores: p.maxCores,
      max_rss_mb: p.maxRssMb,
      max_anon_mb: p.maxAnonMb,
    })),
    ...(s.generator && {
      generator: { mean_cores: s.generator.meanCores, max_cores: s.generator.maxCores, max_rss_mb: s.generator.maxRssMb, max_anon_mb: s.generator.maxAnonMb },
    }),
    ...(s.machine && {
      machine: {
        cores: s.machine.cores,
        mean_cpu_pct: s.machine.meanCpuPercent,
        max_cpu_pct: s.machine.maxCpuPercent,
        steal_pct: s.machine.stealPercent,
        other_cores: s.machine.otherCores,
        ...(s.machine.maxMemoryUsedMb !== undefined && { max_memory_used_mb: s.machine.maxMemoryUsedMb }),
        ...(s.machine.memoryTotalMb !== undefined && { memory_total_mb: s.machine.memoryTotalMb }),
      },
    }),
    ...(s.cgroups && {
      cgroups: s.cgroups.map((c) => ({
        path: c.path,
        ...(c.meanCores !== undefined && { mean_cores: c.meanCores }),
        ...(c.maxCores !== undefined && { max_cores: c.maxCores }),
        ...(c.maxMemoryMb !== undefined && { max_memory_mb: c.maxMemoryMb }),
        ...(c.maxWorkingSetMb !== undefined && { max_working_set_mb: c.maxWorkingSetMb }),
      })),
    }),
    sampler_cores: s.sampler.cores,
    timeline: perSecond.map((b) => ({
      t_ms: Math.round(b.window.startMs),
      target_cores: b.target.meanCores,
      ...(b.generator && { generator_cores: b.generator.meanCores }),
      ...(b.machine && { machine_cpu_pct: b.machine.meanCpuPercent }),
    })),
  };
}

/**
 * Samples the target, loadbench and the machine for the length of one run (or of one replica
 * count of a scaling sweep: one target), and gives each level its figures. Never throws for
 * lack of procfs: the figures say "unavailable" and why.
 */
export class ResourceWatch {
  readonly #sampler: ResourceSampler;
  readonly #monitored: string[];
  readonly #watchesTarget: boolean;

  constructor(config: LoadbenchConfig, targetPid: number | undefined, options: { intervalMs?: number; platform?: NodeJS.Platform } = {}) {
    const { selectors, monitored } = targetSelectors(config, targetPid);
    this.#monitored = monitored;
    this.#watchesTarget = selectors.length > 0;
    this.#sampler = new ResourceSampler({
      target: selectors,
      intervalMs: options.intervalMs ?? RESOURCE_INTERVAL_MS,
      ...(options.platform !== undefined && { platform: options.platform }),
    });
    this.#sampler.start();
  }

  /** Counts a bench process (where Vitest runs the levels) as part of the load generator. */
  addGeneratorPid(pid: number): void {
    this.#sampler.addGeneratorPid(pid);
  }

  /** The figures of a level's measured window (warm-up excluded), or why there are none. */
  levelResources(level: Pick<MeasuredLevel, 'started_at_ms' | 'duration_s'>): LevelResources {
    const startMs = level.started_at_ms;
    const endMs = startMs + level.duration_s * 1000;
    const whole = this.#sampler.summarize({ startMs, endMs });
    if (!whole.available) return { available: false, reason: whole.reason };
    const perSecond: ResourceSummary[] = [];
    // Whole seconds; a tail under half a second is too short to be a rate worth drawing.
    for (let t = startMs; t + 500 <= endMs; t += 1000) {
      const bucket = this.#sampler.summarize({ startMs: t, endMs: Math.min(t + 1000, endMs) });
      if (bucket.available) perSecond.push(bucket);
    }
    return toLevelResources(whole, perSecond, this.#watchesTarget);
  }

  /** What the run's summary says about sampling. */
  runInfo(): RunResources {
    const a = this.#sampler.availability;
    return {
      available: a.available,
      ...(!a.available && { reason: a.reason }),
      monitored: this.#monitored,
      interval_ms: RESOURCE_INTERVAL_MS,
    };
  }

  /** Stops sampling (idempotent); the samples stay for the levels still to be summarised. */
  stop(): void {
    // A last sample first: a level that ended just before can still be summarised to its end.
    this.#sampler.sampleNow();
    this.#sampler.stop();
  }
}
