import { stringify } from 'csv-stringify/sync';
import { ERROR_CATEGORIES, type ErrorCategory } from './types.ts';

/** Raw rows are handed out in chunks of about this many bytes. */
export const RAW_CHUNK_BYTES = 64 * 1024;
// Below this, a taken chunk is copied out and the buffer kept: cheaper than a fresh 64 KiB one.
const SMALL_TAKE_BYTES = RAW_CHUNK_BYTES / 4;
// Longest row after the scenario prefix: worker, 16-digit timestamp, latency, status, ok, category.
const MAX_ROW_TAIL = 128;


const CATEGORY_BYTES = new Map<ErrorCategory, Buffer>(ERROR_CATEGORIES.map((c) => [c, Buffer.from(`,0,${c}\n`)] as const));
const OK_TAIL = Buffer.from(',1,\n');

/**
 * Encodes raw CSV rows (`scenario,concurrency,worker,timestamp_ms,latency_ms,status,ok,error`)
 * straight into a byte buffer: no string per row, one buffer per ~64 KiB of rows. The
 * latency is written as `µs / 1000` with trailing zeros dropped, as `String(us / 1000)` would.
 */
export class RawRowEncoder {
  private readonly prefix: Buffer;
  private buf: Buffer;
  private pos = 0;

  constructor(scenario: string, concurrency: number) {
    // Once per level, so csv-stringify quotes the scenario name; the rows themselves are digits and categories, written by hand.
    this.prefix = Buffer.from(stringify([[scenario, concurrency, '']], { record_delimiter: '' }));
    this.buf = this.fresh();
  }

  private fresh(): Buffer {
    // Not from the shared pool: a chunk is handed over whole (possibly to another thread).
    return Buffer.allocUnsafeSlow(RAW_CHUNK_BYTES + this.prefix.length + MAX_ROW_TAIL);
  }

  /** Bytes waiting to be taken. */
  get size(): number {
    return this.pos;
  }

  /** Whether a chunk is ready to be taken. */
  get full(): boolean {
    return this.pos >= RAW_CHUNK_BYTES;
  }

  /** Appends one row. `latencyUs` and `timestampMs` are non-negative integers. */
  row(worker: number, timestampMs: number, latencyUs: number, status: number, category: ErrorCategory | undefined): void {
    const buf = this.buf;
    let p = copySmall(this.prefix, buf, this.pos);
    p = writeUint(buf, p, worker);
    buf[p++] = 44;
    p = writeUint(buf, p, timestampMs);
    buf[p++] = 44;
    const whole = (latencyUs / 1000) | 0;
    p = writeUint(buf, p, whole);
    let frac = latencyUs - whole * 1000;
    if (frac > 0) {
      buf[p++] = 46;
      const d0 = (frac / 100) | 0;
      buf[p++] = 48 + d0;
      frac -= d0 * 100;
      if (frac > 0) {
        const d1 = (frac / 10) | 0;
        buf[p++] = 48 + d1;
        frac -= d1 * 10;
        if (frac > 0) buf[p++] = 48 + frac;
      }
    }
    buf[p++] = 44;
    p = writeUint(buf, p, status);
    this.pos = copySmall(category === undefined ? OK_TAIL : CATEGORY_BYTES.get(category)!, buf, p);
  }

  /**
   * Takes the rows so far (a view on its own memory, never the shared pool's), or null when
   * there are none. A chunk taken early (the timed flush of a slow level) is copied
   * out, so a few rows do not hold, or move to another thread, a whole 64 KiB buffer.
   */
  take(): Buffer | null {
    if (this.pos === 0) return null;
    let out: Buffer;
    if (this.pos < SMALL_TAKE_BYTES) {
      out = Buffer.allocUnsafeSlow(this.pos);
      this.buf.copy(out, 0, 0, this.pos);
    } else {
      out = this.buf.subarray(0, this.pos);
      this.buf = this.fresh();
    }
    this.pos = 0;
    return out;
  }
}

// Rows are short: a byte loop beats a native copy call for these few bytes.
function copySmall(from: Buffer, to: Buffer, p: number): number {
  for (let i = 0; i < from.length; i++) to[p + i] = from[i]!;
  return p + from.length;
}

/** Writes a non-negative integer in decimal; returns the new offset. Stays in 32-bit integer arithmetic. */
function writeUint(buf: Buffer, p: number, n: number): number {
  if (n >= 1e9) {
    // A millisecond timestamp: the high part, then the low nine digits zero-padded.
    const high = Math.floor(n / 1e9);
    p = writeUint(buf, p, high);
    let low = n - high * 1e9;
    for (let q = p + 8; q >= p; q--) {
      const next = (low / 10) | 0;
      buf[q] = 48 + low - next * 10;
      low = next;
    }
    return p + 9;
  }
  let x = n | 0;
  const digits = x < 10 ? 1 : x < 100 ? 2 : x < 1000 ? 3 : x < 1e4 ? 4 : x < 1e5 ? 5 : x < 1e6 ? 6 : x < 1e7 ? 7 : x < 1e8 ? 8 : 9;
  for (let q = p + digits - 1; q >= p; q--) {
    const next = (x / 10) | 0;
    buf[q] = 48 + x - next * 10;
    x = next;
  }
  return p + digits;
}
