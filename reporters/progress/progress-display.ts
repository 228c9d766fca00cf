import type { ProgressEvent } from '../../core/model/summary.ts';
import { formatProgressLine } from './progress-format.ts';

/** Where the display writes; a TTY gets one line updated in place. */
export interface DisplayStream {
  write(text: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

/**
 * Shows the running level: on a terminal one line rewritten in place, otherwise (CI) one
 * plain line every `plainEveryMs` and at each new level or phase, as soon as it has figures
 * (a measure phase is announced with its first second of data, not with zeros).
 * The default interval is shorter than a typical 5 s level, so CI logs show each level moving.
 * `clear()` removes the live line before other output.
 */
export class ProgressDisplay {
  private shown = false;
  private lastPlain = 0;
  private lastKey = '';

  constructor(
    private readonly stream: DisplayStream,
    private readonly plainEveryMs = 2000,
    private readonly now: () => number = Date.now,
  ) {}

  update(event: ProgressEvent): void {
    const line = formatProgressLine(event);
    if (this.stream.isTTY) {
      const width = Math.max(20, (this.stream.columns ?? 120) - 1);
      this.stream.write(`\r\x1b[2K${line.length > width ? `${line.slice(0, width - 1)}…` : line}`);
      this.shown = true;
      return;
    }
    const key = `${event.scenario}\u0000${event.concurrency}\u0000${event.phase}`;
    const t = this.now();
    // The first event of a measure phase has no figures yet; a target that stalls still gets lines after it.
    if (event.phase === 'measure' && event.requests === 0 && event.elapsed_s < 1) return;
    if (key !== this.lastKey || t - this.lastPlain >= this.plainEveryMs) {
      this.stream.write(`${line}\n`);
      this.lastPlain = t;
      this.lastKey = key;
    }
  }

  clear(): void {
    if (this.shown && this.stream.isTTY) this.stream.write('\r\x1b[2K');
    this.shown = false;
  }
}
