import type {
  BaselineCheck,
  BaselineLevelVerdict,
  BaselineReport,
  LevelSummary,
  RunSummary,
} from '../types.ts';

/** Median of numbers (mean of the two middle values for an even count). */
export function median(values: number[]): number {
  if (values.length === 0) return 0;
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** The measured repetitions of each scenario and level, keyed "scenario\0concurrency". */
function groups(summary: RunSummary): Map<string, LevelSummary[]> {
  const out = new Map<string, LevelSummary[]>();
  for (const s of summary.scenarios) {
    for (const l of s.levels) {
      if (l.skipped) continue;
      const key = `${s.name}\u0000${l.concurrency}`;
      out.set(key, [...(out.get(key) ?? []), l]);
    }
  }
  return out;
}

interface Medians {
  requests: number;
  p95_ms: number;
  throughput_rps: number;
  error_rate_pct: number;
}

function medians(levels: LevelSummary[]): Medians {
  return {
    requests: median(levels.map((l) => l.requests)),
    p95_ms: median(levels.map((l) => l.latency_ms.p95)),
    throughput_rps: median(levels.map((l) => l.throughput_rps)),
    error_rate_pct: median(levels.map((l) => l.error_rate_pct)),
  };
}

const round = (x: number): number => Math.round(x * 1000) / 1000;

/**
 * Judges every level of a run against the same scenario and level of a baseline, on the
 * medians of their repetitions. A level with fewer than `min_requests` counted requests (in
 * either run) is skipped: too few samples to tell a regression from noise. Pure.
 */
export function judgeAgainstBaseline(
  current: RunSummary,
  baseline: RunSummary,
  tolerances: BaselineReport['tolerances'],
): BaselineLevelVerdict[] {
  const base = groups(baseline);
  const verdicts: BaselineLevelVerdict[] = [];
  for (const [key, levels] of groups(current)) {
    const [scenario, c] = key.split('\u0000') as [string, string];
    const concurrency = Number(c);
    const old = base.get(key);
    if (!old) {
      verdicts.push({ scenario, concurrency, status: 'not_in_baseline', reason: 'the baseline has no such scenario and level', checks: [] });
      continue;
    }
    const now = medians(levels);
    const then = medians(old);
    const fewest = Math.min(now.requests, then.requests);
    if (fewest < tolerances.min_requests) {
      verdicts.push({
        scenario,
        concurrency,
        status: 'skipped',
        reason: `only ${fewest} requests (min_requests ${tolerances.min_requests}): too few to judge; run the level longer`,
        checks: [],
      });
      continue;
    }
    const pctChange = (from: number, to: number): number => (from > 0 ? ((to - from) / from) * 100 : to > 0 ? Infinity : 0);
    const p95Change = pctChange(then.p95_ms, now.p95_ms);
    const tpDrop = -pctChange(then.throughput_rps, now.throughput_rps);
    const errChange = now.error_rate_pct - then.error_rate_pct;
    const checks: BaselineCheck[] = [
      { metric: 'p95_ms', baseline: round(then.p95_ms), value: round(now.p95_ms), change: round(p95Change), limit: tolerances.max_p95_increase_pct, pass: p95Change <= tolerances.max_p95_increase_pct },
      { metric: 'throughput_rps', baseline: round(then.throughput_rps), value: round(now.throughput_rps), change: round(-tpDrop), limit: tolerances.max_throughput_drop_pct, pass: tpDrop <= tolerances.max_throughput_drop_pct },
      { metric: 'error_rate_pct', baseline: round(then.error_rate_pct), value: round(now.error_rate_pct), change: round(errChange), limit: tolerances.max_error_rate_increase_pct, pass: errChange <= tolerances.max_error_rate_increase_pct },
    ];
    verdicts.push({ scenario, concurrency, status: checks.every((x) => x.pass) ? 'pass' : 'fail', checks });
  }
  return verdicts.sort((a, b) => (a.scenario < b.scenario ? -1 : a.scenario > b.scenario ? 1 : a.concurrency - b.concurrency));
}

const DESCRIBE: Record<BaselineCheck['metric'], (x: BaselineCheck) => string> = {
  p95_ms: (x) => `p95 ${x.baseline} ms -> ${x.value} ms (${x.change >= 0 ? '+' : ''}${x.change} %, allowed +${x.limit} %)`,
  throughput_rps: (x) => `throughput ${x.baseline} -> ${x.value} req/s (${x.change >= 0 ? '+' : ''}${x.change} %, allowed -${x.limit} %)`,
  error_rate_pct: (x) => `error rate ${x.baseline} % -> ${x.value} % (${x.change >= 0 ? '+' : ''}${x.change} points, allowed +${x.limit})`,
};

/** One line per exceeded tolerance: scenario, level, metric, baseline value, new value, change. */
export function describeBaselineFailures(verdicts: BaselineLevelVerdict[]): string[] {
  return verdicts.flatMap((v) =>
    v.checks
      .filter((x) => !x.pass)
      .map((x) => `Baseline regression: scenario "${v.scenario}" at concurrency ${v.concurrency}: ${x.metric}: ${DESCRIBE[x.metric](x)}`),
  );
}

/** One line per level that could not be judged. */
export function describeBaselineWarnings(verdicts: BaselineLevelVerdict[]): string[] {
  return verdicts
    .filter((v) => v.status === 'skipped' || v.status === 'not_in_baseline')
    .map((v) => `Baseline check skipped: scenario "${v.scenario}" at concurrency ${v.concurrency}: ${v.reason}`);
}
