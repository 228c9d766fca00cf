import { describe, expect, it } from 'vitest';
import {
  ArrivalSchedule,
  arrivalPartitionProblem,
  composePartitions,
  firstArrivalAtOrAfter,
  splitPartition,
  type ArrivalPartition,
  type ArrivalProcess,
} from '../../engine/arrival-schedule.ts';

/** The first `n` arrivals (global index and due time) of a part, in order. */
function walk(rateRps: number, arrivals: ArrivalProcess, seed: number, partition: ArrivalPartition | undefined, n: number): [number, number][] {
  const s = new ArrivalSchedule({ rateRps, arrivals, seed, partition });
  return Array.from({ length: n }, () => {
    s.next();
    return [s.index, s.dueMs];
  });
}

describe('ArrivalSchedule', () => {
  it('puts arrival i of a constant level at i / rate, without drift', () => {
    const due = walk(400, 'constant', 0, undefined, 1_000_001);
    expect(due[0]).toEqual([0, 0]);
    expect(due[1]).toEqual([1, 2.5]);
    expect(due[1_000_000]![1]).toBe(2_500_000);
  });

  it('gives the same Poisson schedule for the same seed, another for another seed', () => {
    const a = walk(100, 'poisson', 42, undefined, 50);
    expect(walk(100, 'poisson', 42, undefined, 50)).toEqual(a);
    expect(walk(100, 'poisson', 43, undefined, 50)).not.toEqual(a);
    expect(a[0]).toEqual([0, 0]);
    for (let i = 1; i < a.length; i++) expect(a[i]![1]).toBeGreaterThanOrEqual(a[i - 1]![1]);
  });

  it('draws Poisson gaps with mean 1/rate and a coefficient of variation within 0.1 of 1', () => {
    const rate = 250;
    const due = walk(rate, 'poisson', 7, undefined, 20_001).map(([, d]) => d);
    const gaps = due.slice(1).map((d, i) => d - due[i]!);
    const mean = gaps.reduce((a, g) => a + g, 0) / gaps.length;
    const sd = Math.sqrt(gaps.reduce((a, g) => a + (g - mean) ** 2, 0) / (gaps.length - 1));
    expect(mean).toBeCloseTo(1000 / rate, 0);
    expect(Math.abs(sd / mean - 1)).toBeLessThan(0.1);
    // A constant schedule has no spread at all.
    const even = walk(rate, 'constant', 7, undefined, 1000).map(([, d]) => d);
    const evenGaps = even.slice(1).map((d, i) => d - even[i]!);
    expect(Math.max(...evenGaps) - Math.min(...evenGaps)).toBeLessThan(1e-9);
  });

  for (const arrivals of ['constant', 'poisson'] as const) {
    it(`splits a ${arrivals} schedule into parts whose union is the global schedule, each arrival once`, () => {
      const n = 3000;
      const global = walk(333, arrivals, 99, undefined, n);
      for (const count of [1, 2, 3, 7]) {
        const parts = Array.from({ length: count }, (_, k) => walk(333, arrivals, 99, { index: k + 1, count }, Math.ceil(n / count) + 1));
        for (const [k, part] of parts.entries()) for (const [i] of part) expect(i % count).toBe(k);
        const union = parts
          .flat()
          .filter(([i]) => i < n)
          .sort((a, b) => a[0] - b[0]);
        expect(union).toEqual(global);
      }
    });
  }

  it('composes a shard partition with a thread split into parts of the same global schedule', () => {
    // Shard 2 of 3, split over 2 threads: arrivals 1, 4, 7, 10 ... alternate between the threads.
    expect(composePartitions({ index: 2, count: 3 }, { index: 1, count: 2 })).toEqual({ index: 2, count: 6 });
    expect(composePartitions({ index: 2, count: 3 }, { index: 2, count: 2 })).toEqual({ index: 5, count: 6 });
    const n = 1200;
    const global = walk(500, 'poisson', 5, undefined, n);
    const all = [1, 2, 3].flatMap((shard) =>
      splitPartition({ index: shard, count: 3 }, 2).flatMap((p) => walk(500, 'poisson', 5, p, n / 6 + 1)),
    );
    expect(all.filter(([i]) => i < n).sort((a, b) => a[0] - b[0])).toEqual(global);
  });

  it('rejects bad partitions and rates with a message saying what is expected', () => {
    expect(arrivalPartitionProblem({ index: 1, count: 1 })).toBeUndefined();
    expect(arrivalPartitionProblem({ index: 0, count: 2 })).toMatch(/1-based/);
    expect(arrivalPartitionProblem({ index: 3, count: 2 })).toMatch(/from 1 to 2/);
    expect(arrivalPartitionProblem({ index: 1, count: 0 })).toMatch(/1 or more/);
    expect(() => new ArrivalSchedule({ rateRps: 0, arrivals: 'constant', seed: 0 })).toThrow(/positive number of requests per second/);
  });

  it('finds the first arrival due at or after a time, as the schedule itself walks them', () => {
    for (const arrivals of ['constant', 'poisson'] as const) {
      for (const [rate, ms] of [[3, 1000], [100, 1000], [7, 333.3], [1000, 0], [250, 12.5]] as const) {
        const i = firstArrivalAtOrAfter({ rateRps: rate, arrivals, seed: 1 }, ms);
        const due = walk(rate, arrivals, 1, undefined, i + 1);
        expect(due[i]![1]).toBeGreaterThanOrEqual(ms);
        if (i > 0) expect(due[i - 1]![1]).toBeLessThan(ms);
      }
    }
  });
});
