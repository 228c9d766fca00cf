import { z } from 'zod';
import type { PayloadContext, ResponseCheck } from '../../engine/types.ts';
import { targetSchema, workloadSchema } from '../config/schema.ts';
import { baselineTolerancesSchema, sloThresholdsSchema } from '../model/summary.ts';

/** The schema inside its `.default()` / `.optional()` wrappers: an option left out takes config.yaml's value, not a default of its own. */
function bare(schema: z.ZodType): z.ZodType {
  let s = schema;
  while (s instanceof z.ZodDefault || s instanceof z.ZodOptional) s = s.unwrap() as z.ZodType;
  return s;
}

/** Every field of `shape` as an optional field with the same rules and no default. */
function optionalFields<S extends Record<string, z.ZodType>, const K extends keyof S & string>(shape: S, keys: readonly K[]): Record<K, z.ZodOptional<z.ZodType>> {
  return Object.fromEntries(keys.map((k) => [k, bare(shape[k]!).optional()])) as Record<K, z.ZodOptional<z.ZodType>>;
}

const fn = z.custom<(...args: never[]) => unknown>((v) => typeof v === 'function', { message: 'expected a function' });

/** The workload keys a scenario may override (all of config.yaml's `workload:`). */
export const WORKLOAD_OPTION_KEYS = Object.keys(workloadSchema.shape) as (keyof typeof workloadSchema.shape)[];

/**
 * The options of `scenario()` and of `runSweep()`'s scenarios, derived from the config schema so
 * that each option follows exactly the rules of the same key in config.yaml (bounds, header
 * syntax, token, URL). What only a scenario has: `slo: false`, `baseline` tolerances or `false`,
 * a payload function and `check`.
 */
export const scenarioOptionsSchema = z.strictObject({
  ...optionalFields(targetSchema.shape, ['url', 'method', 'token', 'headers']),
  ...optionalFields(workloadSchema.shape, WORKLOAD_OPTION_KEYS),
  baseline: z.union([z.literal(false), baselineTolerancesSchema.partial()]).optional(),
  slo: z.union([z.literal(false), sloThresholdsSchema]).optional(),
  stop_on_slo_failure: z.boolean().optional(),
  check: fn.optional(),
});

/** Options of `scenario()`; each one overrides the same key of config.yaml. */
export interface ScenarioOptions {
  url?: string;
  method?: string;
  token?: string;
  headers?: Record<string, string | number>;
  challenge_id?: string;
  /** A JSON body, or a function of the request context returning one (an object, or a string sent as is). */
  payload?: unknown | ((ctx: PayloadContext) => unknown);
  /** Closed loop: one level per concurrency (replaces config.yaml's `concurrency_levels` or `arrival_rates`). */
  concurrency_levels?: number[];
  /** Open loop: one level per arrival rate in req/s (replaces config.yaml's `concurrency_levels` or `arrival_rates`). */
  arrival_rates?: number[];
  /** Open loop: `constant` (default) or `poisson` spacing of the arrivals. */
  arrivals?: 'constant' | 'poisson';
  /** Seed of a Poisson schedule (default: random, recorded in the summary). */
  seed?: number;
  /** Open loop: requests outstanding at most (default 1000); an arrival beyond them is dropped. */
  max_in_flight?: number;
  duration_seconds?: number;
  requests_per_level?: number;
  warmup_seconds?: number;
  timeout_seconds?: number;
  max_body_bytes?: number;
  raw_csv?: boolean;
  /** Run each level this many times; the baseline gate judges the median (default 1). */
  repetitions?: number;
  /** Worker threads sharing each level's connections: 1 (default), N or "auto"; N > 1 needs a static payload and no check. */
  generator_threads?: number | 'auto';
  /** Baseline tolerances for this scenario (over config.yaml `baseline:`, whose `file` applies), or `false` to leave it out of the gate. */
  baseline?: false | Partial<z.input<typeof baselineTolerancesSchema>>;
  /** SLO thresholds for this scenario (merged over config.yaml `slo`), or `false` to judge nothing. */
  slo?: z.input<typeof sloThresholdsSchema> | false;
  stop_on_slo_failure?: boolean;
  /** A request succeeds when its status is 2xx and this returns anything but `false` (throwing fails it too). */
  check?: ResponseCheck;
}

/** A scenario as `runSweep()` takes it: its name and the options of `scenario()`. */
export interface ScenarioSpec extends ScenarioOptions {
  name: string;
}

// Every key of the interface is a key of the schema and the other way round.
type SchemaKeys = keyof z.infer<typeof scenarioOptionsSchema>;
const _sameKeys: [SchemaKeys, keyof ScenarioOptions] extends [keyof ScenarioOptions, SchemaKeys] ? true : never = true;
void _sameKeys;
