import { describe, expect, it } from 'vitest';
import { validateConfig } from '../../../core/config/load-config.ts';
import { ConfigError } from '../../../core/errors.ts';
import { resolveScenario } from '../../../core/scenario/resolve.ts';
import { runShardFromEnv, runShardLabel } from '../../../core/shards/run-shard.ts';
import { LevelSchedule, levelStarts, waitUntil } from '../../../core/shards/schedule.ts';

const problems = (f: () => unknown): string[] => {
  try {
    f();
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
};

describe('runShardFromEnv', () => {
  it('reads LOADBENCH_SHARD=i/n (1-based) and LOADBENCH_START_AT as ISO or epoch ms', () => {
    expect(runShardFromEnv({ LOADBENCH_SHARD: '2/3', LOADBENCH_START_AT: '2026-12-02T16:00:00Z' }, 'b')).toEqual({
      index: 2,
      count: 3,
      source: 'LOADBENCH_SHARD',
      startAtMs: Date.UTC(2026, 11, 2, 16, 0, 0),
      runLabel: 'b',
    });
    expect(runShardFromEnv({ LOADBENCH_SHARD: '1/1', LOADBENCH_START_AT: '1796227200000' }, 'b')?.startAtMs).toBe(1796227200000);
  });

  it("reads Kubernetes' 0-based JOB_COMPLETION_INDEX with LOADBENCH_SHARDS", () => {
    expect(runShardFromEnv({ JOB_COMPLETION_INDEX: '0', LOADBENCH_SHARDS: '3' }, 'b')).toEqual({ index: 1, count: 3, source: 'JOB_COMPLETION_INDEX', runLabel: 'b' });
    expect(runShardFromEnv({ JOB_COMPLETION_INDEX: '2', LOADBENCH_SHARDS: '3' }, 'b')?.index).toBe(3);
  });

  it('is not shard mode without LOADBENCH_SHARD(S), even inside an Indexed Job', () => {
    expect(runShardFromEnv({}, 'b')).toBeUndefined();
    expect(runShardFromEnv({ JOB_COMPLETION_INDEX: '4' }, 'b')).toBeUndefined();
  });

  it('refuses bad values, each with the variable, the value and what to set', () => {
    expect(problems(() => runShardFromEnv({ LOADBENCH_SHARD: '3' }, 'b'))).toEqual(['LOADBENCH_SHARD="3": expected <index>/<count> with a 1-based index, e.g. 2/3']);
    expect(problems(() => runShardFromEnv({ LOADBENCH_SHARD: '0/3' }, 'b'))).toEqual(['LOADBENCH_SHARD="0/3": expected an index from 1 to the count (1-based), e.g. 1/3, 2/3 or 3/3']);
    expect(problems(() => runShardFromEnv({ LOADBENCH_SHARD: '4/3' }, 'b'))[0]).toContain('expected an index from 1 to the count');
    expect(problems(() => runShardFromEnv({ JOB_COMPLETION_INDEX: '3', LOADBENCH_SHARDS: '3' }, 'b'))).toEqual([
      'JOB_COMPLETION_INDEX="3": is 3, expected 0 to 2 (0-based) with LOADBENCH_SHARDS=3: completions must equal LOADBENCH_SHARDS',
    ]);
    expect(problems(() => runShardFromEnv({ LOADBENCH_SHARDS: '3' }, 'b'))[0]).toContain('LOADBENCH_SHARDS="3": is set without JOB_COMPLETION_INDEX');
    expect(problems(() => runShardFromEnv({ LOADBENCH_SHARDS: 'three', JOB_COMPLETION_INDEX: '0' }, 'b'))[0]).toBe('LOADBENCH_SHARDS="three": expected the number of shards, a whole number such as 3');
    expect(problems(() => runShardFromEnv({ LOADBENCH_SHARD: '1/2', LOADBENCH_SHARDS: '3' }, 'b'))[0]).toContain('LOADBENCH_SHARDS="3": is 3 but LOADBENCH_SHARD says 1/2');
    expect(problems(() => runShardFromEnv({ LOADBENCH_SHARD: '1/2', LOADBENCH_START_AT: 'tomorrow' }, 'b'))[0]).toContain('LOADBENCH_START_AT="tomorrow": expected an ISO time such as');
    expect(problems(() => runShardFromEnv({ LOADBENCH_START_AT: '1796227200000' }, 'b'))[0]).toContain('this run is not a run shard');
  });
});

describe('shard mode in the config', () => {
  const base = { target: { url: 'http://127.0.0.1:1/x', method: 'GET' }, workload: { concurrency_levels: [2, 12], duration_seconds: 5 } };

  it("gives the shard's outputs their own label and keeps the run's", () => {
    const config = validateConfig({ ...base, run_label: 'nightly' }, 'config.yaml', { LOADBENCH_SHARD: '2/3' });
    expect(config.run_label).toBe('nightly.shard-2-of-3');
    expect(config.run_label).toBe(runShardLabel('nightly', { index: 2, count: 3 }));
    expect(config.run_shard).toMatchObject({ index: 2, count: 3, runLabel: 'nightly' });
    expect(validateConfig(base, 'config.yaml', {}).run_shard).toBeUndefined();
  });

  it('refuses requests_per_level, stop_on_slo_failure and scaling, each with its own line', () => {
    const env = { LOADBENCH_SHARD: '1/2' };
    const lines = problems(() =>
      validateConfig({ ...base, workload: { concurrency_levels: [4], requests_per_level: 100 }, stop_on_slo_failure: true }, 'config.yaml', env),
    );
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^workload\.requests_per_level: is set \(100\), but a run shard cannot know when the other shards reach their count: use duration_seconds.*\(shard mode: LOADBENCH_SHARD=1\/2\)$/);
    expect(lines[1]).toMatch(/^stop_on_slo_failure: is true, but an SLO holds only for the merged run/);
    const config = validateConfig(base, 'config.yaml', env);
    expect(problems(() => resolveScenario('s', { requests_per_level: 10 }, config))[0]).toContain('requests_per_level: is set (10)');
    expect(problems(() => resolveScenario('s', { stop_on_slo_failure: true }, config))[0]).toContain('stop_on_slo_failure: is true');
    expect(resolveScenario('s', {}, config).runShard?.index).toBe(1);
  });

  it('runs open-loop levels, but refuses poisson arrivals without a seed (config.yaml and scenario options)', () => {
    const env = { LOADBENCH_SHARD: '2/3' };
    const open = { concurrency_levels: undefined, arrival_rates: [300], duration_seconds: 5 };
    // Constant arrivals need no seed: every shard has the same schedule.
    const config = validateConfig({ ...base, workload: open }, 'config.yaml', env);
    expect(resolveScenario('s', {}, config).open).toMatchObject({ arrivals: 'constant' });
    const lines = problems(() => validateConfig({ ...base, workload: { ...open, arrivals: 'poisson' } }, 'config.yaml', env));
    expect(lines).toEqual([
      'workload.seed: is not set, but arrivals is poisson: each run shard would draw its own seed, and the shards\' arrivals would not interleave into one schedule: set workload.seed (or the scenario option seed) to a whole number from 0 to 2147483647, the same for every shard (shard mode: LOADBENCH_SHARD=2/3)',
    ]);
    expect(validateConfig({ ...base, workload: { ...open, arrivals: 'poisson', seed: 42 } }, 'config.yaml', env).run_shard?.index).toBe(2);
    // A scenario that brings poisson (or its own arrival rates) back without a seed.
    expect(problems(() => resolveScenario('s', { arrivals: 'poisson' }, config))[0]).toMatch(/^seed: is not set, but arrivals is poisson: .*set workload\.seed \(or the scenario option seed\)/);
    const closed = validateConfig(base, 'config.yaml', env);
    expect(problems(() => resolveScenario('s', { arrival_rates: [100], arrivals: 'poisson' }, closed))[0]).toMatch(/^seed: is not set/);
    expect(resolveScenario('s', { arrival_rates: [100], arrivals: 'poisson', seed: 9 }, closed).open).toMatchObject({ arrivals: 'poisson', seed: 9 });
    // Outside shard mode a seed is drawn as before.
    expect(resolveScenario('s', { arrival_rates: [100], arrivals: 'poisson' }, validateConfig(base, 'config.yaml', {})).open?.seed).toEqual(expect.any(Number));
  });
});

describe('the shared level schedule', () => {
  it('starts level k at start_at + the earlier warm-ups and durations + a fixed gap after each', () => {
    expect(levelStarts(1_000_000, [[1, 5], [1, 5], [0, 10]], 2000)).toEqual([1_000_000, 1_008_000, 1_016_000]);
    const s = new LevelSchedule(0, 500);
    expect([s.next(0.5, 2), s.next(0.5, 2)]).toEqual([{ ordinal: 0, scheduledAtMs: 0 }, { ordinal: 1, scheduledAtMs: 3000 }]);
  });

  it('waits until a time, not at all for one that has passed', async () => {
    const t0 = Date.now();
    await waitUntil(t0 + 120);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(115);
    const t1 = Date.now();
    await waitUntil(t1 - 5000);
    expect(Date.now() - t1).toBeLessThan(50);
  });
});
