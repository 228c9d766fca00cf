/**
 * Run shards (issue 15): one generator's part of a run spread over several machines, each a
 * Kubernetes Indexed Job pod or a CI matrix job. Not to be confused with the engine's level
 * shards (engine/shard.ts), which spread one generator's connections over its threads: a run
 * shard is a whole loadbench process, and `loadbench merge` adds the run shards' results up.
 *
 * This file reads which run shard this process is (environment) and what it may not do.
 */
import { runShardEnvSchema, type RunShard } from '../config/schema.ts';
import { ConfigError } from '../errors.ts';

export type { RunShard };

/** Gap between two levels of the shared schedule: the time to close one level and set up the next (a bench file's process included). */
export const LEVEL_GAP_MS = 2000;

/** The environment variables that make a run a run shard. */
export const RUN_SHARD_ENV = ['LOADBENCH_SHARD', 'JOB_COMPLETION_INDEX', 'LOADBENCH_SHARDS', 'LOADBENCH_START_AT'] as const;

/**
 * This process's run shard from the environment, or undefined outside shard mode. A lone
 * `JOB_COMPLETION_INDEX` (an Indexed Job that does not shard loadbench) is not shard mode.
 * @throws ConfigError naming each bad variable and how to fix it
 */
export function runShardFromEnv(env: NodeJS.ProcessEnv, runLabel: string): RunShard | undefined {
  const input = Object.fromEntries(RUN_SHARD_ENV.filter((k) => env[k] !== undefined && env[k] !== '').map((k) => [k, env[k]]));
  const sharded = input.LOADBENCH_SHARD !== undefined || input.LOADBENCH_SHARDS !== undefined;
  if (!sharded) {
    if (input.LOADBENCH_START_AT !== undefined) {
      throw new ConfigError('environment', ['LOADBENCH_START_AT: is set, but this run is not a run shard: set LOADBENCH_SHARD=<i>/<n> (or LOADBENCH_SHARDS with JOB_COMPLETION_INDEX) too, or unset it']);
    }
    return undefined;
  }
  const parsed = runShardEnvSchema.safeParse(input);
  if (!parsed.success) {
    throw new ConfigError(
      'environment',
      parsed.error.issues.map((issue) => {
        const name = String(issue.path[0] ?? 'LOADBENCH_SHARD');
        const value = input[name];
        return `${name}${value !== undefined ? `=${JSON.stringify(value)}` : ''}: ${issue.message.replace(/^Invalid input: /, '')}`;
      }),
    );
  }
  const e = parsed.data;
  const [index, count] = e.LOADBENCH_SHARD ?? [e.JOB_COMPLETION_INDEX! + 1, e.LOADBENCH_SHARDS!];
  return {
    index,
    count,
    source: e.LOADBENCH_SHARD ? 'LOADBENCH_SHARD' : 'JOB_COMPLETION_INDEX',
    ...(e.LOADBENCH_START_AT !== undefined ? { startAtMs: e.LOADBENCH_START_AT } : {}),
    runLabel,
  };
}

/** The run label of a run shard's outputs: `<run_label>.shard-<i>-of-<n>`. */
export function runShardLabel(runLabel: string, shard: Pick<RunShard, 'index' | 'count'>): string {
  return `${runLabel}.shard-${shard.index}-of-${shard.count}`;
}

/** How a run shard is named in messages: `run shard 2 of 3`. */
export function runShardName(shard: Pick<RunShard, 'index' | 'count'>): string {
  return `run shard ${shard.index} of ${shard.count}`;
}

/** What the settings of a run (or a scenario) that shard mode refuses look like. */
export interface ShardModeSettings {
  requestsPerLevel?: number;
  stopOnSloFailure: boolean;
  scaling?: unknown;
  /** Open loop: how arrivals are spaced, and the seed given (undefined: none, one would be drawn per process). */
  arrivals?: 'constant' | 'poisson';
  seed?: number;
}

/**
 * Why these settings cannot run as a run shard: one line each, or none. Only duration-based
 * levels follow a schedule that every shard knows in advance without asking the others; an
 * open-loop level's shards send interleaved arrivals of one schedule, so a Poisson schedule must
 * be the same in every shard: its seed is given, not drawn by each process.
 */
export function shardModeProblems(s: ShardModeSettings, where = ''): string[] {
  const at = (key: string): string => (where ? `${where}: ${key}` : key);
  const problems: string[] = [];
  if (s.requestsPerLevel !== undefined) {
    problems.push(`${at('requests_per_level')}: is set (${s.requestsPerLevel}), but a run shard cannot know when the other shards reach their count: use duration_seconds, so that every level ends on a schedule all shards share`);
  }
  if (s.stopOnSloFailure) {
    problems.push(`${at('stop_on_slo_failure')}: is true, but an SLO holds only for the merged run, which no shard sees: set it to false for a sharded run (\`loadbench merge\` judges the SLOs)`);
  }
  if (s.scaling !== undefined) {
    problems.push(`${at('scaling')}: restarts the target for each replica count, which one shard cannot do for the others: remove it, and run one sharded run per replica count`);
  }
  if (s.arrivals === 'poisson' && s.seed === undefined) {
    problems.push(
      `${at('seed')}: is not set, but arrivals is poisson: each run shard would draw its own seed, and the shards' arrivals would not interleave into one schedule: set workload.seed (or the scenario option seed) to a whole number from 0 to 2147483647, the same for every shard`,
    );
  }
  return problems;
}
