import { createWriteStream, statSync, type WriteStream } from 'node:fs';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { RawSink } from './types.ts';

/** Header of `runs/<run_label>_raw.csv`. */
export const RAW_CSV_HEADER = 'scenario,concurrency,worker,timestamp_ms,latency_ms,status,ok,error\n';

/**
 * Appends raw rows to the run's raw CSV as they come, so memory does not grow with the number
 * of requests and a killed process leaves every row written so far. Writes the header when the
 * file is new or empty (a previous run's file with the same label was moved aside when the run started).
 */
export class RawCsvWriter implements RawSink {
  private readonly stream: WriteStream;

  constructor(readonly path: string) {
    mkdirSync(dirname(path), { recursive: true });
    let size = 0;
    try {
      size = statSync(path).size;
    } catch {
      size = 0;
    }
    this.stream = createWriteStream(path, { flags: 'a' });
    if (size === 0) this.stream.write(RAW_CSV_HEADER);
  }

  write(chunk: string | Uint8Array): boolean {
    return this.stream.write(chunk);
  }

  waitDrain(): Promise<void> {
    return new Promise((resolve) => this.stream.once('drain', resolve));
  }

  /** Flushes and closes the file. */
  close(): Promise<void> {
    return new Promise((resolve, reject) => this.stream.end((err?: Error | null) => (err ? reject(err) : resolve())));
  }
}
