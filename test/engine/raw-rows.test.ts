import { describe, expect, it } from 'vitest';
import { RAW_CHUNK_BYTES, RawRowEncoder } from '../../engine/raw-rows.ts';
import { ERROR_CATEGORIES } from '../../core/model/summary.ts';

describe('RawRowEncoder', () => {
  it('writes exactly what the string template would, for every latency shape', () => {
    const enc = new RawRowEncoder('submit', 64);
    const expected: string[] = [];
    const latencies = [1, 9, 10, 99, 100, 999, 1000, 1001, 1010, 1100, 1234, 20_050, 987_654, 120_000_000];
    // Timestamps around the nine-digit split, with zeros to keep.
    const stamps = [1_795_880_516_491, 1_795_000_000_001, 1_000_000_000, 999_999_999, 7, 0];
    latencies.forEach((us, i) => {
      const category = i % 3 === 0 ? ERROR_CATEGORIES[i % ERROR_CATEGORIES.length] : undefined;
      const status = category ? 503 : 200;
      const worker = [0, 9, 10, 63, 9999, 123_456][i % 6]!;
      const stamp = stamps[i % stamps.length]!;
      enc.row(worker, stamp, us, status, category);
      expected.push(`submit,64,${worker},${stamp},${us / 1000},${status},${category ? 0 : 1},${category ?? ''}\n`);
    });
    expect(enc.take()!.toString()).toBe(expected.join(''));
    expect(enc.take()).toBeNull();
  });

  it('quotes a scenario name that needs it, and writes status 0 for no response', () => {
    const enc = new RawRowEncoder('a "quoted", name', 3);
    enc.row(0, 5, 2500, 0, 'connect_refused');
    expect(enc.take()!.toString()).toBe('"a ""quoted"", name",3,0,5,2.5,0,0,connect_refused\n');
  });

  it('hands out chunks of about 64 KiB, each on its own memory', () => {
    const enc = new RawRowEncoder('s', 1);
    while (!enc.full) enc.row(1, 1_795_880_516_491, 1234, 200, undefined);
    const first = enc.take()!;
    expect(first.length).toBeGreaterThanOrEqual(RAW_CHUNK_BYTES);
    expect(first.length).toBeLessThan(RAW_CHUNK_BYTES + 200);
    enc.row(2, 1, 1, 200, undefined);
    const second = enc.take()!;
    expect(second.buffer).not.toBe(first.buffer);
    expect(first.toString().endsWith('\n')).toBe(true);
    expect(second.toString()).toBe('s,1,2,1,0.001,200,1,\n');
  });

  it('copies a chunk taken early into memory of its own size, and keeps writing after it', () => {
    const enc = new RawRowEncoder('s', 1);
    enc.row(1, 10, 1000, 200, undefined);
    const early = enc.take()!;
    // Its own ArrayBuffer (transferable to another thread), not a view on 64 KiB.
    expect(early.byteOffset).toBe(0);
    expect(early.buffer.byteLength).toBe(early.length);
    expect(early.toString()).toBe('s,1,1,10,1,200,1,\n');
    enc.row(2, 11, 2000, 503, 'http_5xx');
    expect(enc.size).toBeGreaterThan(0);
    // The copy is not overwritten by the rows that follow it.
    expect(early.toString()).toBe('s,1,1,10,1,200,1,\n');
    expect(enc.take()!.toString()).toBe('s,1,2,11,2,503,0,http_5xx\n');
  });
});
