import type { Histogram } from 'hdr-histogram-js';
import type { ErrorCategory, ErrorCounts, TimelinePoint } from './types.ts';
import { ERROR_CATEGORIES } from './types.ts';
import { emptyErrorCounts } from './stats.ts';
import { createLatencyHistogram, encodeHistogram } from './histogram.ts';
import type { SecondReport, ShardResult } from './shard-types.ts';

const MAX_ERROR_SAMPLES_PER_CATEGORY = 3;

/** The counts of several shards, added up. */
export interface MergedCounts {
  requests: number;
  successes: number;
  warmupRequests: number;
  errors: ErrorCounts;
  statusCodes: Record<string, number>;
  errorSamples: { category: ErrorCategory; message: string }[];
  /** Latest end of a measured phase, ms since the epoch (0 when none measured). */
  endEpochMs: number;
}

/** Adds up shard results: counters, error categories, status codes; error samples stay distinct and few. Pure. */
export function mergeShardCounts(results: ShardResult[]): MergedCounts {
  const errors = emptyErrorCounts();
  const status = new Map<number, number>();
  const samples = new Map<ErrorCategory, Set<string>>();
  let requests = 0;
  let successes = 0;
  let warmupRequests = 0;
  let endEpochMs = 0;
  for (const r of results) {
    requests += r.requests;
    successes += r.successes;
    warmupRequests += r.warmupRequests;
    endEpochMs = Math.max(endEpochMs, r.endEpochMs);
    ERROR_CATEGORIES.forEach((c, i) => (errors[c] += r.errors[i] ?? 0));
    for (const [code, n] of r.statusCodes) status.set(code, (status.get(code) ?? 0) + n);
    for (const [category, message] of r.errorSamples) {
      let set = samples.get(category);
      if (!set) samples.set(category, (set = new Set()));
      if (set.size < MAX_ERROR_SAMPLES_PER_CATEGORY) set.add(message);
    }
  }
  return {
    requests,
    successes,
    warmupRequests,
    errors,
    statusCodes: Object.fromEntries([...status].sort((a, b) => a[0] - b[0]).map(([k, v]) => [String(k), v])),
    errorSamples: ERROR_CATEGORIES.flatMap((category) => [...(samples.get(category) ?? [])].map((message) => ({ category, message }))),
    endEpochMs,
  };
}

interface PendingSecond {
  requests: number;
  successes: number;
  failures: number;
  sent: number;
  histogram: Histogram | null;
  reports: number;
}

/**
 * Builds one timeline from the per-second reports of several shards. A second is final once
 * every shard reported it (shards report seconds in order); its p95 comes from the shards'
 * histograms added together, so it is exact. Every final second's histogram is also added to
 * `cumulative`, which progress events read.
 */
export class TimelineMerger {
  readonly points: TimelinePoint[] = [];
  readonly cumulative: Histogram = createLatencyHistogram();
  private readonly pending = new Map<number, PendingSecond>();

  constructor(
    private readonly shards: number,
    private readonly measureStartEpochMs: () => number,
    /** Keep each second's histogram, encoded, in its point (for an exact merge of several generators' timelines). */
    private readonly keepHistograms = false,
    /** Open loop: the points carry the arrivals sent per second. */
    private readonly open = false,
  ) {}

  /** One shard's second; `histogram` is only read during the call. */
  add(report: SecondReport, histogram: Histogram): void {
    if (this.shards === 1) {
      // One shard: nothing to wait for or add up.
      this.finalize(report.index, report, histogram);
      return;
    }
    let p = this.pending.get(report.index);
    if (!p) this.pending.set(report.index, (p = { requests: 0, successes: 0, failures: 0, sent: 0, histogram: null, reports: 0 }));
    p.requests += report.requests;
    p.successes += report.successes;
    p.failures += report.failures;
    p.sent += report.sent;
    if (histogram.totalCount > 0) (p.histogram ??= createLatencyHistogram()).add(histogram);
    p.reports++;
    if (p.reports === this.shards) this.flushUpTo(report.index);
  }

  /** Finalizes every second up to `index` (all of them when omitted): the level ended. */
  flushUpTo(index = Infinity): void {
    const ready = [...this.pending.keys()].filter((i) => i <= index).sort((a, b) => a - b);
    for (const i of ready) {
      const p = this.pending.get(i)!;
      this.pending.delete(i);
      const empty = createLatencyHistogram();
      this.finalize(i, p, p.histogram ?? empty);
      p.histogram?.destroy();
      empty.destroy();
    }
  }

  private finalize(index: number, counts: { requests: number; successes: number; failures: number; sent: number }, histogram: Histogram): void {
    // A second with no answer at all still gets its point; only a trailing partial second without requests is left out.
    this.points.push({
      t_ms: Math.round(this.measureStartEpochMs() + index * 1000),
      requests: counts.requests,
      successes: counts.successes,
      failures: counts.failures,
      p95_ms: counts.successes > 0 ? histogram.getValueAtPercentile(95) / 1000 : 0,
      ...(this.keepHistograms ? { histogram: encodeHistogram(histogram) } : {}),
      ...(this.open ? { sent: counts.sent } : {}),
    });
    if (histogram.totalCount > 0) this.cumulative.add(histogram);
  }

  /** The timeline in time order. */
  timeline(): TimelinePoint[] {
    this.flushUpTo();
    return [...this.points].sort((a, b) => a.t_ms - b.t_ms);
  }

  dispose(): void {
    for (const p of this.pending.values()) p.histogram?.destroy();
    this.pending.clear();
    this.cumulative.destroy();
  }
}
