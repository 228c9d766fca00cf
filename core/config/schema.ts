import { z } from 'zod';
import { ENGINE_FRAMED_HEADERS, HTTP_METHODS, HTTP_TOKEN, fieldValueProblem } from '../../engine/http-syntax.ts';
import { SAFE_LABEL } from '../model/outputs.ts';
import { baselineTolerancesSchema, sloThresholdsSchema } from '../model/summary.ts';

const positiveNumber = z.number().positive();
const nonNegativeNumber = z.number().nonnegative();

/** SLO thresholds; shared by config.yaml `slo:`, the scenario option `slo` and the summary. */
export const sloSchema = sloThresholdsSchema.default({});

/*
 * Upper bounds on times. Node's setTimeout holds at most 2^31-1 ms (about 24.8 days); a larger
 * delay fires at once (TimeoutOverflowWarning), so an unbounded `duration_seconds: 1e300` would end
 * every level immediately with 0 requests. The limits below are far inside that range, also summed.
 */
const ONE_DAY = 86_400;
const ONE_HOUR = 3_600;

/** Measured time per level, in seconds: above 0, at most one day. Shared with the scenario option. */
export const durationSeconds = positiveNumber.max(ONE_DAY, { message: `expected at most ${ONE_DAY} (one day)` });
/** Warm-up time before each level, in seconds: 0 or more, at most one day. Shared with the scenario option. */
export const warmupSeconds = nonNegativeNumber.max(ONE_DAY, { message: `expected at most ${ONE_DAY} (one day)` });
/** Per-request time limit, in seconds: above 0, at most one hour. Shared with the scenario option. */
export const requestTimeoutSeconds = positiveNumber.max(ONE_HOUR, { message: `expected at most ${ONE_HOUR} (one hour)` });
/** How long `target.start` may take to become ready, in seconds: above 0, at most one hour. */
export const startTimeoutSeconds = positiveNumber.max(ONE_HOUR, { message: `expected at most ${ONE_HOUR} (one hour)` });

/** A value from the user as JSON on one short line (at most 60 characters, then "…"); used in every config message. */
export const quoted = (value: unknown): string => {
  const json = JSON.stringify(value);
  return json.length > 60 ? `${json.slice(0, 60)}…` : json;
};

/**
 * Request headers, shared by config.yaml `target.headers` and the scenario option `headers`:
 * names must be HTTP tokens, each name once (case-insensitively), values single-line Latin-1.
 * Numbers are accepted as values and sent as text.
 */
export const headersSchema = z
  .record(z.string(), z.union([z.string(), z.number()]).transform(String))
  .superRefine((headers, ctx) => {
    const seen = new Map<string, string>();
    for (const [name, value] of Object.entries(headers)) {
      // `found` in params: the message says what was found itself, without quoting the value.
      const problem = (message: string): void => {
        ctx.addIssue({ code: 'custom', path: [name], message, params: { found: true } });
      };
      const lower = name.toLowerCase();
      if (!HTTP_TOKEN.test(name)) {
        problem(
          name === ''
            ? 'found an empty header name, expected a name such as x-request-id'
            : `found the header name ${quoted(name)}, expected an HTTP token: letters, digits and !#$%&'*+-.^_\`|~ only (no spaces, no ":")`,
        );
        continue;
      }
      const engine = ENGINE_FRAMED_HEADERS[lower];
      if (engine) {
        problem(`found a ${lower} header, expected none: ${engine}`);
        continue;
      }
      const earlier = seen.get(lower);
      if (earlier !== undefined) {
        problem(`found the header name ${quoted(earlier)} as well, expected each header once (names are case-insensitive)`);
        continue;
      }
      seen.set(lower, name);
      const valueProblem = fieldValueProblem(value, 'header value');
      if (valueProblem) problem(valueProblem);
      else if (lower === 'host' && value.trim() === '') {
        problem('found an empty host header, expected a host such as example.test:8080, or no host header');
      }
    }
  });

/** The bearer token: sent as `authorization: Bearer <token>`, so the same rules as a header value apply. */
export const tokenSchema = z.string().superRefine((token, ctx) => {
  const problem = fieldValueProblem(token, 'token');
  if (problem) ctx.addIssue({ code: 'custom', message: problem, params: { found: true } });
});

export const urlSchema = z.string().refine(
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
  timeout_seconds: startTimeoutSeconds.default(30),
  env: z.record(z.string(), z.union([z.string(), z.number()]).transform(String)).default({}),
});

// --- target.monitor and scaling (issue 16) ---

/** `{{replicas}}`: where a scaling sweep puts the replica count (target.start.command, its env, report.num_nodes, baseline.file). */
export const REPLICAS_PLACEHOLDER = '{{replicas}}';

/**
 * `target.monitor`: processes of a target loadbench did not start, sampled like the ones it did:
 * pids, a regular expression over command lines, a cgroup (`docker:<id>`, `systemd:<unit>`, a path).
 */
export const monitorSchema = z
  .strictObject({
    pids: z.union([z.number().int().positive(), z.array(z.number().int().positive()).min(1)]).transform((p) => (Array.isArray(p) ? p : [p])).optional(),
    pattern: z
      .string()
      .min(1)
      .refine(
        (p) => {
          try {
            new RegExp(p);
            return true;
          } catch {
            return false;
          }
        },
        { message: 'expected a regular expression over command lines, e.g. "gateway\\.ts|worker\\.ts"' },
      )
      .optional(),
    cgroup: z.string().min(1).optional(),
    /** Whether the children of the given pids and pattern matches count too (default true). */
    descendants: z.boolean().default(true),
  })
  .refine((m) => m.pids !== undefined || m.pattern !== undefined || m.cgroup !== undefined, {
    message: 'expected at least one of pids, pattern or cgroup, e.g. pattern: "gateway"',
  });

/** `scaling:`: run the whole sweep once per replica count, the target restarted for each. */
export const scalingSchema = z.strictObject({
  replicas: z
    .array(z.number().int().positive().max(1000))
    .min(1, { message: 'expected at least one replica count, e.g. [1, 2, 4]' })
    .refine((r) => new Set(r).size === r.length, { message: 'expected each replica count once, e.g. [1, 2, 4]' }),
  /** The environment variable the target reads its replica count from, e.g. WORKERS. */
  env: z
    .string()
    .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, { message: 'expected an environment variable name such as WORKERS' })
    .optional(),
});

export const targetSchema = z.strictObject({
  url: urlSchema,
  method: z
    .string()
    .transform((m) => m.toUpperCase())
    .pipe(z.enum(HTTP_METHODS)),
  token: tokenSchema.optional(),
  headers: headersSchema.default({}),
  start: targetStartSchema.optional(),
  /** Resource sampling of a target loadbench did not start (issue 16). */
  monitor: monitorSchema.optional(),
  // --- A/B gate (`loadbench ab`): the port `{{port}}` stands for outside ab (core/config/port-template.ts).
  port: z.number().int().min(1).max(65_535).optional(),
});

const concurrencyLevels = z
  .array(z.number().int().positive().max(10_000))
  .min(1, { message: 'expected at least one concurrency level, e.g. [1, 2, 4, 8]' })
  .superRefine((levels, ctx) => {
    // A level listed twice would give two rows for one level; `repetitions` is the way to repeat one.
    const twice = [...new Set(levels.filter((l, i) => levels.indexOf(l) !== i))];
    if (twice.length) {
      ctx.addIssue({
        code: 'custom',
        message: `level${twice.length > 1 ? 's' : ''} ${twice.join(', ')} listed more than once: expected each level once (use repetitions to repeat levels)`,
      });
    }
  });

/** Open loop: arrival rates in requests per second, whole numbers (they key the levels as concurrencies do). */
const arrivalRates = z
  .array(z.number().int({ message: 'expected whole requests per second, e.g. 50' }).positive().max(1_000_000))
  .min(1, { message: 'expected at least one arrival rate in requests per second, e.g. [50, 100, 200, 400]' })
  .superRefine((rates, ctx) => {
    const twice = [...new Set(rates.filter((r, i) => rates.indexOf(r) !== i))];
    if (twice.length) {
      ctx.addIssue({ code: 'custom', message: `rate${twice.length > 1 ? 's' : ''} ${twice.join(', ')} listed more than once: expected each rate once (use repetitions to repeat levels)` });
    }
  });

/** The workload fields that scenarios may override. Exactly one of duration/requests is required after merging. */
export const workloadSchema = z.strictObject({
  challenge_id: z.string().default('demo-challenge'),
  payload: z.unknown().optional(),
  /** Closed loop: one level per concurrency. Exactly one of this and `arrival_rates`. */
  concurrency_levels: concurrencyLevels.optional(),
  /** Open loop: one level per arrival rate (req/s); requests leave on schedule whatever the answers do. */
  arrival_rates: arrivalRates.optional(),
  /** How open-loop arrivals are spaced: constant (evenly) or poisson (seeded exponential gaps). */
  arrivals: z.enum(['constant', 'poisson']).default('constant'),
  /** Seed of a Poisson schedule (default: a random one, recorded in the summary). */
  seed: z.number().int().min(0).max(0x7fff_ffff).optional(),
  /** Open loop: requests outstanding at most; an arrival beyond them is dropped (counted in the error rate). */
  max_in_flight: z.number().int().min(1).max(100_000).default(1000),
  duration_seconds: durationSeconds.optional(),
  requests_per_level: z.number().int().positive().optional(),
  warmup_seconds: warmupSeconds.default(0),
  timeout_seconds: requestTimeoutSeconds.default(10),
  max_body_bytes: z.number().int().positive().default(1024 * 1024),
  raw_csv: z.boolean().default(true),
  repetitions: z.number().int().min(1).max(20).default(1),
  /** Worker threads sharing each level's connections: 1, N or "auto" (perf/README.md). */
  generator_threads: z.union([z.number().int().min(1).max(64), z.literal('auto')]).default(1),
});

const tolerance = baselineTolerancesSchema.shape;

/** The regression gate against a committed baseline summary. */
export const baselineSchema = z.strictObject({
  file: z.string().min(1),
  max_p95_increase_pct: tolerance.max_p95_increase_pct.default(20),
  max_throughput_drop_pct: tolerance.max_throughput_drop_pct.default(15),
  max_error_rate_increase_pct: tolerance.max_error_rate_increase_pct.default(1),
  min_requests: tolerance.min_requests.default(200),
  // Issue 13: when a baseline applies (core/gates/baseline-applicability.ts).
  /** A baseline whose calibration score differs from this machine's by more than this (in %) is not judged. */
  calibration_margin_pct: z.number().min(0).max(1000).default(25),
  /** Also require the same CPU model, logical CPUs, memory, OS and Node version (by default: the same logical CPU count). */
  require_same_machine: z.boolean().default(false),
  /** A baseline that cannot be judged here (another machine, another workload, no fingerprint) fails the run (exit 1). */
  strict: z.boolean().default(false),
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

// --- A/B gate (`loadbench ab`, core/ab/): how the base build is prepared, repetitions, tolerances over `baseline:`.
/** config.yaml `ab:`: settings of `loadbench ab --base <ref>`. */
export const abSchema = z.strictObject({
  /** A command run in the base build's folder before its target starts, e.g. `npm ci` or `npm ci && npm run build`. */
  setup: z.string().min(1).optional(),
  /** Link the working tree's node_modules into the base build when the lockfile did not change (default: when there is no `setup`). */
  share_node_modules: z.boolean().optional(),
  /** Repetitions per side of every level (ABBA-interleaved). */
  repetitions: z.number().int().min(1).max(20).default(3),
  max_p95_increase_pct: tolerance.max_p95_increase_pct.optional(),
  max_throughput_drop_pct: tolerance.max_throughput_drop_pct.optional(),
  max_error_rate_increase_pct: tolerance.max_error_rate_increase_pct.optional(),
  min_requests: tolerance.min_requests.optional(),
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
    /** The scaling sweep (issue 16). */
    scaling: scalingSchema.optional(),
    ab: abSchema.optional(), // A/B gate
  })
  .superRefine((config, ctx) => {
    // The scaling sweep restarts the target for each count: loadbench must start it, and tell it the count.
    if (config.scaling) {
      if (!config.target.start) {
        ctx.addIssue({
          code: 'custom',
          path: ['scaling'],
          message: 'needs target.start: loadbench restarts the target for each replica count, so it must be the one that starts it',
        });
      } else if (config.scaling.env === undefined && !config.target.start.command.includes(REPLICAS_PLACEHOLDER)) {
        ctx.addIssue({
          code: 'custom',
          path: ['scaling'],
          message: `neither scaling.env nor ${REPLICAS_PLACEHOLDER} in target.start.command: expected one, e.g. env: WORKERS, so that the target learns its replica count`,
        });
      }
    }
    const w = config.workload;
    if ((w.concurrency_levels === undefined) === (w.arrival_rates === undefined)) {
      ctx.addIssue({
        code: 'custom',
        path: ['workload'],
        message:
          w.concurrency_levels === undefined
            ? 'neither concurrency_levels nor arrival_rates is set: expected exactly one of them, e.g. concurrency_levels: [1, 2, 4, 8] (closed loop) or arrival_rates: [50, 100, 200] (open loop, req/s)'
            : 'both concurrency_levels and arrival_rates are set: expected exactly one of them (closed loop or open loop)',
      });
    }
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

/** Which run shard of a distributed run this process is (issue 15, core/shards/); set from the environment, never from config.yaml. */
export interface RunShard {
  /** 1-based. */
  index: number;
  count: number;
  /** Where the index came from. */
  source: 'LOADBENCH_SHARD' | 'JOB_COMPLETION_INDEX';
  /** The shared start (epoch ms), from LOADBENCH_START_AT; without it, each shard's schedule starts when it starts. */
  startAtMs?: number;
  /** The run label of the whole run (the config's `run_label` is this shard's, `<label>.shard-<i>-of-<n>`). */
  runLabel: string;
}

/** A validated, defaults-filled config; `run_shard` is set in shard mode (LOADBENCH_SHARD, issue 15). */
export type LoadbenchConfig = z.output<typeof configSchema> & { run_shard?: RunShard };
/** The workload part of a validated config. */
export type WorkloadConfig = LoadbenchConfig['workload'];
/** The target part of a validated config. */
export type TargetConfig = LoadbenchConfig['target'];

// --- Run shards: one part of a distributed run (issue 15, core/shards/) ---

/** Most run shards of one run: far more generators than any cluster runs for one test. */
export const MAX_RUN_SHARDS = 1000;


/**
 * The environment a run shard reads: `LOADBENCH_SHARD=<i>/<n>` (1-based), or Kubernetes'
 * `JOB_COMPLETION_INDEX` (0-based) with `LOADBENCH_SHARDS=<n>`, and `LOADBENCH_START_AT`
 * (an ISO time or epoch milliseconds). Each value is a string as the environment holds it.
 */
export const runShardEnvSchema = z
  .object({
    LOADBENCH_SHARD: z
      .string()
      .regex(/^\s*\d+\s*\/\s*\d+\s*$/, { message: 'expected <index>/<count> with a 1-based index, e.g. 2/3' })
      .transform((v) => v.split('/').map((x) => Number(x.trim())) as [number, number])
      .refine(([, n]) => n >= 1 && n <= MAX_RUN_SHARDS, { message: `expected a count from 1 to ${MAX_RUN_SHARDS}, e.g. 2/3` })
      .refine(([i, n]) => i >= 1 && i <= n, { message: 'expected an index from 1 to the count (1-based), e.g. 1/3, 2/3 or 3/3' })
      .optional(),
    JOB_COMPLETION_INDEX: z.string().regex(/^\s*\d+\s*$/, { message: 'expected a whole number (0-based), as a Kubernetes Indexed Job sets it' }).transform(Number).optional(),
    LOADBENCH_SHARDS: z
      .string()
      .regex(/^\s*\d+\s*$/, { message: 'expected the number of shards, a whole number such as 3' })
      .transform(Number)
      .pipe(z.number().int().min(1, { message: 'expected at least 1 shard' }).max(MAX_RUN_SHARDS, { message: `expected at most ${MAX_RUN_SHARDS} shards` }))
      .optional(),
    LOADBENCH_START_AT: z
      .string()
      .transform((v, ctx) => {
        const text = v.trim();
        const ms = /^\d+$/.test(text) ? Number(text) : /^\d{4}-\d{2}-\d{2}T/.test(text) ? Date.parse(text) : Number.NaN;
        if (!Number.isFinite(ms)) {
          ctx.addIssue({ code: 'custom', message: 'expected an ISO time such as 2026-12-02T16:00:00Z or epoch milliseconds such as 1796227200000' });
          return z.NEVER;
        }
        return ms;
      })
      .optional(),
  })
  .superRefine((e, ctx) => {
    if (!e.LOADBENCH_SHARD && e.LOADBENCH_SHARDS !== undefined && e.JOB_COMPLETION_INDEX === undefined) {
      ctx.addIssue({ code: 'custom', path: ['LOADBENCH_SHARDS'], message: 'is set without JOB_COMPLETION_INDEX: set LOADBENCH_SHARD=<i>/<n> instead, or run in a Kubernetes Indexed Job (which sets JOB_COMPLETION_INDEX)' });
    }
    if (!e.LOADBENCH_SHARD && e.LOADBENCH_SHARDS !== undefined && e.JOB_COMPLETION_INDEX !== undefined && e.JOB_COMPLETION_INDEX >= e.LOADBENCH_SHARDS) {
      ctx.addIssue({ code: 'custom', path: ['JOB_COMPLETION_INDEX'], message: `is ${e.JOB_COMPLETION_INDEX}, expected 0 to ${e.LOADBENCH_SHARDS - 1} (0-based) with LOADBENCH_SHARDS=${e.LOADBENCH_SHARDS}: completions must equal LOADBENCH_SHARDS` });
    }
    if (e.LOADBENCH_SHARD && e.LOADBENCH_SHARDS !== undefined && e.LOADBENCH_SHARD[1] !== e.LOADBENCH_SHARDS) {
      ctx.addIssue({ code: 'custom', path: ['LOADBENCH_SHARDS'], message: `is ${e.LOADBENCH_SHARDS} but LOADBENCH_SHARD says ${e.LOADBENCH_SHARD.join('/')}: set one of them, or the same count in both` });
    }
  });
