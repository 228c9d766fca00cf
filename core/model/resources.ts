/**
 * Resource figures in the run summary (issue 16): CPU and memory of every process of the system
 * under test, of the load generator and of the whole machine during each level, and which replica
 * count a run of a scaling sweep measured. Plain zod schemas, imported by the summary model, so
 * that reporters read them from the summary like any other figure.
 *
 * Units: cores = CPU-seconds per wall-second (1 = one core busy); memory in MiB ("MB", as top).
 */
import { z } from 'zod';

const cores = z.number().nonnegative();
const mb = z.number().nonnegative();
const pct = z.number().min(0).max(100);

/** CPU and memory of one process, or a set of them, over a level's measured window. */
const usageFields = {
  /** Mean over the level. */
  mean_cores: cores,
  /** Highest rate over one sampling interval. */
  max_cores: cores,
  /** Highest resident set size. */
  max_rss_mb: mb,
  /** Highest anonymous resident memory (not shared with other processes). */
  max_anon_mb: mb.optional(),
};

/** One process of the target during one level. */
export const processResourcesSchema = z.object({
  /** `gateway`, `worker 2`, `postgres`: the role from its command line, numbered when several had it. */
  label: z.string(),
  role: z.string(),
  pid: z.number().int().positive(),
  /** A shell or launcher that only starts the real program (its CPU still counts for the target). */
  wrapper: z.boolean().optional(),
  /** Absent when it ran through the whole level. */
  lifetime: z.enum(['started', 'exited', 'started-and-exited']).optional(),
  ...usageFields,
});

/** One second of a level: the target's CPU, for the timeline. */
export const resourceSecondSchema = z.object({
  /** Start of this second, ms since the Unix epoch. */
  t_ms: z.number(),
  target_cores: cores,
  generator_cores: cores.optional(),
  machine_cpu_pct: pct.optional(),
});

/** The whole machine during one level. */
export const machineResourcesSchema = z.object({
  cores: z.number().int().positive(),
  /** Busy share of all cores. */
  mean_cpu_pct: pct,
  max_cpu_pct: pct,
  /** Time the hypervisor gave these CPUs to others, share of all cores. */
  steal_pct: pct,
  /** Busy cores that were neither the target nor loadbench: other work on the machine. */
  other_cores: cores,
  max_memory_used_mb: mb.optional(),
  memory_total_mb: mb.optional(),
});

/** Resource figures of one level, or why there are none. */
export const levelResourcesSchema = z.union([
  z.object({
    available: z.literal(true),
    /** Samples taken within the level, and the span they cover (s). */
    samples: z.number().int().nonnegative(),
    covered_s: z.number().nonnegative(),
    /**
     * The whole target: CPU summed over its processes (and children that exited between samples),
     * RSS summed. Absent when nothing named the target's processes (no target.start, no target.monitor).
     */
    target: z.object({ ...usageFields, process_count: z.number().int().nonnegative() }).optional(),
    /** Target processes, real ones first, in the order they started. */
    processes: z.array(processResourcesSchema),
    /** loadbench's load generator process(es), their threads included. */
    generator: z.object(usageFields).optional(),
    machine: machineResourcesSchema.optional(),
    /** Whole-cgroup figures of `target.monitor.cgroup`. */
    cgroups: z
      .array(z.object({ path: z.string(), mean_cores: cores.optional(), max_cores: cores.optional(), max_memory_mb: mb.optional(), max_working_set_mb: mb.optional() }))
      .optional(),
    /** What sampling cost loadbench, in cores (an upper bound). */
    sampler_cores: cores.optional(),
    timeline: z.array(resourceSecondSchema),
  }),
  z.object({ available: z.literal(false), reason: z.string() }),
]);

/** What was sampled during the run. */
export const runResourcesSchema = z.object({
  available: z.boolean(),
  /** Why there are no figures (not Linux, no procfs, a bad selector). */
  reason: z.string().optional(),
  /** What made up the target: `process group of target.start (pid 1234)`, `target.monitor pattern /gateway/`, … */
  monitored: z.array(z.string()),
  interval_ms: z.number().positive(),
});

/** Which replica count a run of a scaling sweep measured (config.yaml `scaling:`). */
export const replicaRunSchema = z.object({
  replicas: z.number().int().positive(),
  /** Every replica count of the sweep, in order. */
  sweep: z.array(z.number().int().positive()),
  /** The run label of the whole sweep (this run's label is `<sweep_label>-<replicas>x`). */
  sweep_label: z.string(),
});

export type ProcessResources = z.infer<typeof processResourcesSchema>;
export type LevelResources = z.infer<typeof levelResourcesSchema>;
export type AvailableLevelResources = Extract<LevelResources, { available: true }>;
export type MachineResources = z.infer<typeof machineResourcesSchema>;
export type RunResources = z.infer<typeof runResourcesSchema>;
export type ReplicaRun = z.infer<typeof replicaRunSchema>;

/** The level's figures when there are some. */
export function availableResources(r: LevelResources | undefined): AvailableLevelResources | undefined {
  return r?.available ? r : undefined;
}
