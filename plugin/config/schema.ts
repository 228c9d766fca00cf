import { z } from 'zod';
import { SAFE_LABEL } from '../output-paths.ts';

const positiveNumber = z.number().positive();
const nonNegativeNumber = z.number().nonnegative();

/** SLO thresholds; shared by config.yaml `slo:` and the scenario option `slo`. */
export const sloSchema = z
  .strictObject({
    p50_ms: positiveNumber.optional(),
    p95_ms: positiveNumber.optional(),
    p99_ms: positiveNumber.optional(),
    error_rate_pct: z.number().min(0).max(100).optional(),
    min_throughput_rps: nonNegativeNumber.optional(),
    up_to_concurrency: z.number().int().positive().optional(),
  })
  .default({});

const urlSchema = z.string().refine(
  (value) => {
    try {
      const url = new URL(value);
      return url.protocol === 'http:' || url.protocol === 'https:';
    } catch {
      return false;
    }
  },
  { message: 'expected an absolute http:// or https:// URL, e.g. http://localhost:8080/submit' },
);

const targetStartSchema = z.strictObject({
  command: z.string().min(1),
  ready_url: urlSchema,
  timeout_seconds: positiveNumber.default(30),
  env: z.record(z.string(), z.union([z.string(), z.number()]).transform(String)).default({}),
});

const targetSchema = z.strictObject({
  url: urlSchema,
  method: z
    .string()
    .transform((m) => m.toUpperCase())
    .pipe(z.enum(['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'])),
  token: z.string().optional(),
  headers: z.record(z.string(), z.union([z.string(), z.number()]).transform(String)).default({}),
  start: targetStartSchema.optional(),
});

const concurrencyLevels = z
  .array(z.number().int().positive().max(10_000))
  .min(1, { message: 'expected at least one concurrency level, e.g. [1, 2, 4, 8]' });

/** The workload fields that scenarios may override. Exactly one of duration/requests is required after merging. */
export const workloadSchema = z.strictObject({
  challenge_id: z.string().default('demo-challenge'),
  payload: z.unknown().optional(),
  concurrency_levels: concurrencyLevels,
  duration_seconds: positiveNumber.optional(),
  requests_per_level: z.number().int().positive().optional(),
  warmup_seconds: nonNegativeNumber.default(0),
  timeout_seconds: positiveNumber.default(10),
  max_body_bytes: z.number().int().positive().default(1024 * 1024),
  raw_csv: z.boolean().default(true),
  repetitions: z.number().int().min(1).max(20).default(1),
  /** Worker threads sharing each level's connections: 1, N or "auto" (perf/README.md). */
  generator_threads: z.union([z.number().int().min(1).max(64), z.literal('auto')]).default(1),
});

/** The regression gate's tolerances; every key is also a scenario option (`baseline: { ... }`). */
export const baselineTolerancesSchema = z.strictObject({
  max_p95_increase_pct: z.number().nonnegative(),
  max_throughput_drop_pct: z.number().min(0).max(100),
  max_error_rate_increase_pct: z.number().nonnegative(),
  min_requests: z.number().int().nonnegative(),
});

const tolerance = baselineTolerancesSchema.shape;

/** The regression gate against a committed baseline summary. */
export const baselineSchema = z.strictObject({
  file: z.string().min(1),
  max_p95_increase_pct: tolerance.max_p95_increase_pct.default(20),
  max_throughput_drop_pct: tolerance.max_throughput_drop_pct.default(15),
  max_error_rate_increase_pct: tolerance.max_error_rate_increase_pct.default(1),
  min_requests: tolerance.min_requests.default(200),
});

const reportSchema = z
  .strictObject({
    hardware_env: z.string().default('auto'),
    software_env: z.string().default('auto'),
    num_nodes: z.union([z.string(), z.number()]).transform(String).default('1'),
    template: z.string().optional(),
  })
  .default({ hardware_env: 'auto', software_env: 'auto', num_nodes: '1' });

/** A run label / output folder segment: no path separators, no "..", safe on every file system. */
const safeName = z
  .string()
  .min(1)
  .regex(SAFE_LABEL, {
    message: 'expected letters, digits, ".", "_" or "-" only (no "/", "..", spaces), e.g. baseline or 2x-replicas',
  });

/** config.yaml, after `${VAR}` interpolation. */
export const configSchema = z
  .strictObject({
    run_label: safeName.default('baseline'),
    output_dir: z
      .string()
      .min(1)
      .default('runs')
      .refine((d) => !d.startsWith('/') && !d.split(/[\\/]/).includes('..'), {
        message: 'expected a relative folder inside the project (no absolute path, no ".."), e.g. runs',
      }),
    target: targetSchema,
    workload: workloadSchema,
    slo: sloSchema,
    stop_on_slo_failure: z.boolean().default(false),
    baseline: baselineSchema.optional(),
    report: reportSchema,
  })
  .superRefine((config, ctx) => {
    const w = config.workload;
    if ((w.duration_seconds === undefined) === (w.requests_per_level === undefined)) {
      ctx.addIssue({
        code: 'custom',
        path: ['workload'],
        message:
          w.duration_seconds === undefined
            ? 'neither duration_seconds nor requests_per_level is set: expected exactly one of them'
            : 'both duration_seconds and requests_per_level are set: expected exactly one of them',
      });
    }
  });

/** A validated, defaults-filled config. */
export type LoadbenchConfig = z.output<typeof configSchema>;
/** The workload part of a validated config. */
export type WorkloadConfig = LoadbenchConfig['workload'];
/** The target part of a validated config. */
export type TargetConfig = LoadbenchConfig['target'];
