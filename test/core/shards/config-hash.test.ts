import { describe, expect, it } from 'vitest';
import type { ScenarioSummary } from '../../../core/model/summary.ts';
import { shardConfigHash } from '../../../core/shards/config-hash.ts';

const scenario = (seed?: number): Pick<ScenarioSummary, 'name' | 'file' | 'workload' | 'workload_hash' | 'slo'> => ({
  name: 's',
  file: 'bench/s.bench.ts',
  workload: {
    url: 'http://h/x',
    method: 'GET',
    header_names: [],
    payload_shape: null,
    concurrency_levels: [],
    arrival_rates: [300],
    arrivals: 'poisson',
    ...(seed !== undefined ? { seed } : {}),
    max_in_flight: 1000,
    duration_seconds: 5,
    warmup_seconds: 1,
    timeout_seconds: 10,
    challenge_id: 'c',
  },
  // The workload hash leaves the seed out (core/gates/fingerprint.ts): the shards' hash must not.
  workload_hash: 'same',
  slo: {},
});

describe('shardConfigHash', () => {
  it('differs for shards of another Poisson seed, so that they never merge', () => {
    expect(shardConfigHash([scenario(7)], 2, 2000)).toBe(shardConfigHash([scenario(7)], 2, 2000));
    expect(shardConfigHash([scenario(7)], 2, 2000)).not.toBe(shardConfigHash([scenario(8)], 2, 2000));
    expect(shardConfigHash([scenario(7)], 2, 2000)).not.toBe(shardConfigHash([scenario()], 2, 2000));
    expect(shardConfigHash([scenario(7)], 2, 2000)).toMatch(/^[0-9a-f]{16}$/);
  });
});
