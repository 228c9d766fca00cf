import { createHash } from 'node:crypto';
import { canonicalJson } from '../gates/fingerprint.ts';
import type { ScenarioSummary } from '../model/summary.ts';

/**
 * The hash every run shard of one run shares (issue 15): its scenarios in run order (name, bench
 * file, workload hash, repetitions, Poisson seed, SLO, baseline override), the shard count and the schedule's
 * gap. Shards of a different config, or of another count, never merge. 16 hex digits.
 */
export function shardConfigHash(scenarios: readonly Pick<ScenarioSummary, 'name' | 'file' | 'workload' | 'workload_hash' | 'slo' | 'baseline_override'>[], count: number, gapMs: number): string {
  const identity = {
    count,
    gap_ms: gapMs,
    scenarios: scenarios.map((s) => ({
      name: s.name,
      file: s.file,
      workload_hash: s.workload_hash ?? null,
      repetitions: s.workload.repetitions ?? 1,
      // Left out of the workload hash (a Poisson seed drawn anew gives the same load), but the
      // shards of an open level interleave arrivals of one schedule: they must share the seed.
      seed: s.workload.seed ?? null,
      slo: s.slo,
      baseline_override: s.baseline_override ?? null,
    })),
  };
  return createHash('sha256').update(canonicalJson(identity)).digest('hex').slice(0, 16);
}
