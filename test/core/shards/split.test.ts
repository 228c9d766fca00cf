import { describe, expect, it } from 'vitest';
import { arrivalPart, arrivalsOfPart, connectionPart } from '../../../core/shards/split.ts';

describe('connectionPart: closed-loop concurrency over run shards', () => {
  it('splits 64 over 3 as 22 + 21 + 21, worker numbers following on', () => {
    expect([1, 2, 3].map((i) => connectionPart(64, i, 3))).toEqual([
      { connections: 22, firstWorker: 0, parts: [22, 21, 21] },
      { connections: 21, firstWorker: 22, parts: [22, 21, 21] },
      { connections: 21, firstWorker: 43, parts: [22, 21, 21] },
    ]);
  });

  it('leaves a shard no connection when the level is smaller than the shard count', () => {
    expect(connectionPart(2, 3, 3)).toEqual({ connections: 0, firstWorker: 2, parts: [1, 1, 0] });
  });

  it('always adds up to the level, parts differing by at most one', () => {
    for (let total = 1; total <= 70; total++) {
      for (let count = 1; count <= 9; count++) {
        const parts = Array.from({ length: count }, (_, i) => connectionPart(total, i + 1, count).connections);
        expect(parts.reduce((a, b) => a + b, 0)).toBe(total);
        expect(Math.max(...parts) - Math.min(...parts)).toBeLessThanOrEqual(1);
      }
    }
  });
});

describe('arrivalPart: open-loop rate over run shards', () => {
  it('interleaves: shard i takes arrivals i-1, i-1+n, ... of the one schedule', () => {
    expect(arrivalPart(300, 2, 3)).toEqual({ partition: { index: 2, count: 3 }, rate: 100, firstOffsetS: 1 / 300, intervalS: 0.01 });
    // The shards' arrival times together are exactly the schedule k / rate.
    const rate = 7;
    const times = [1, 2, 3].flatMap((i) => {
      const p = arrivalPart(rate, i, 3);
      return Array.from({ length: 5 }, (_, j) => p.firstOffsetS + j * p.intervalS);
    });
    const expected = Array.from({ length: 15 }, (_, k) => k / rate);
    expect(times.sort((a, b) => a - b).map((t) => t.toFixed(9))).toEqual(expected.map((t) => t.toFixed(9)));
  });

  it('gives every arrival of a level to exactly one shard: 100/s for 2.5 s over 3 is 84 + 83 + 83', () => {
    expect([1, 2, 3].map((i) => arrivalsOfPart(100, 2.5, i, 3))).toEqual([84, 83, 83]);
    for (const [rate, d, n] of [[1, 1, 4], [13, 3.3, 5], [1000, 0.01, 3]] as const) {
      const parts = Array.from({ length: n }, (_, i) => arrivalsOfPart(rate, d, i + 1, n));
      expect(parts.reduce((a, b) => a + b, 0)).toBe(Math.ceil(rate * d - 1e-9));
    }
  });
});
