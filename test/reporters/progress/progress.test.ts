import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ProgressEvent } from '../../../core/model/summary.ts';
import { ProgressDisplay } from '../../../reporters/progress/progress-display.ts';
import { formatProgressLine } from '../../../reporters/progress/progress-format.ts';

const event = (over: Partial<ProgressEvent> = {}): ProgressEvent => ({
  scenario: 'submit',
  concurrency: 16,
  phase: 'measure',
  elapsed_s: 2.04,
  total_s: 5,
  requests: 12345,
  failures: 3,
  current_rps: 2345.4,
  p95_ms: 12.345,
  ...over,
});

describe('formatProgressLine', () => {
  it('shows level, elapsed/total, requests, rate, p95 and errors', () => {
    expect(formatProgressLine(event())).toBe(
      'loadbench ▸ submit @ 16 conc [2.0/5.0 s] 12,345 req, 2,345 req/s, p95 12.35 ms, 3 errors',
    );
    expect(formatProgressLine(event({ phase: 'warmup', elapsed_s: 0.5, total_s: 1 }))).toContain('[warm-up 0.5/1.0 s]');
    expect(formatProgressLine(event({ total_s: undefined, total_requests: 50000 }))).toContain('[2.0 s, 12,345/50,000 req]');
  });
});

describe('ProgressDisplay', () => {
  it('rewrites one line in place on a terminal and clears it', () => {
    const out: string[] = [];
    const d = new ProgressDisplay({ isTTY: true, columns: 200, write: (t: string) => out.push(t) });
    d.update(event());
    d.update(event({ requests: 20000 }));
    d.clear();
    expect(out).toHaveLength(3);
    expect(out.every((t) => t.startsWith('\r\x1b[2K'))).toBe(true);
    expect(out.join('')).not.toContain('\n');
    expect(out[2]).toBe('\r\x1b[2K');
  });

  it('prints a plain line every few seconds without a terminal, and at each new level', () => {
    let now = 0;
    const out: string[] = [];
    const d = new ProgressDisplay({ isTTY: false, write: (t: string) => out.push(t) }, 5000, () => now);
    d.update(event());
    now = 1000;
    d.update(event());
    now = 5000;
    d.update(event());
    now = 5500;
    d.update(event({ concurrency: 32 }));
    d.clear();
    expect(out).toHaveLength(3);
    expect(out.every((t) => t.endsWith('\n') && !t.includes('\r'))).toBe(true);
  });

  it('in CI, prints every 2 s by default and announces a measure phase with its first figures, not with zeros', () => {
    let now = 0;
    const out: string[] = [];
    const d = new ProgressDisplay({ isTTY: false, write: (t: string) => out.push(t) }, undefined, () => now);
    d.update(event({ phase: 'warmup', elapsed_s: 0, total_s: 1, requests: 0, current_rps: 0, p95_ms: 0 }));
    now = 1000;
    d.update(event({ elapsed_s: 0, requests: 0, current_rps: 0, p95_ms: 0 }));
    now = 2000;
    d.update(event({ elapsed_s: 1, requests: 700 }));
    now = 3000;
    d.update(event({ elapsed_s: 2, requests: 1400 }));
    now = 4000;
    d.update(event({ elapsed_s: 3, requests: 2100 }));
    expect(out.map((l) => l.match(/\[(.*?)\]/)![1])).toEqual(['warm-up 0.0/1.0 s', '1.0/5.0 s', '3.0/5.0 s']);
    expect(out.some((l) => l.includes(' 0 req,') && !l.includes('warm-up'))).toBe(false);
    // A stalled target (still no request done after a second) is shown, not hidden.
    now = 5000;
    d.update(event({ concurrency: 32, elapsed_s: 1, requests: 0 }));
    expect(out.at(-1)).toContain('@ 32 conc [1.0/5.0 s] 0 req');
  });
});
