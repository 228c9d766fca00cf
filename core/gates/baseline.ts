import { median, pctChange } from '../model/stats.ts';
import {
  isMeasured,
  type BaselineCheck,
  type BaselineLevelVerdict,
  type BaselineReport,
  type BaselineTolerances,
  type MeasuredLevel,
  type RunSummary,
} from '../model/summary.ts';

export type { BaselineTolerances };
// The wording of a regression is the summary model's, shared by every output that reports it.
export { describeBaselineFailures, describeBaselineWarnings } from '../model/verdict-lines.ts';

/**
 * The measured repetitions of each scenario and level, keyed "scenario\0concurrency". Partial
 * levels (cut short by an interrupt) are kept apart: their figures cover only part of the level.
 */
function groups(summary: RunSummary): Map<string, { complete: MeasuredLevel[]; partial: number }> {
  const out = new Map<string, { complete: MeasuredLevel[]; partial: number }>();
  for (const s of summary.scenarios) {
    for (const l of s.levels) {
      if (!isMeasured(l)) continue;
      const key = `${s.name}\u0000${l.concurrency}`;
      const g = out.get(key) ?? { complete: [], partial: 0 };
      if (l.status === 'partial') g.partial++;
      else g.complete.push(l);
      out.set(key, g);
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

function medians(levels: MeasuredLevel[]): Medians {
  return {
    requests: median(levels.map((l) => l.requests)),
    p95_ms: median(levels.map((l) => l.latency_ms.p95)),
    throughput_rps: median(levels.map((l) => l.throughput_rps)),
    error_rate_pct: median(levels.map((l) => l.error_rate_pct)),
  };
}

/**
 * The repetitions to judge: those where the load generator kept up. A repetition measured while
 * the generator was saturated or delayed (other work on the machine) measures the machine, so
 * with `repetitions` > 1 one disturbed repetition drops out. When every repetition is
 * client-bound they are all kept (a heavier target on shared cores can cause that too, and a
 * gate must not go blind) and the verdict says so.
 */
function preferClean(levels: MeasuredLevel[]): { levels: MeasuredLevel[]; clientBound: boolean } {
  const clean = levels.filter((l) => !l.generator.client_bound);
  return clean.length ? { levels: clean, clientBound: false } : { levels, clientBound: true };
}

const round = (x: number): number => Math.round(x * 1000) / 1000;

/**
 * Judges every level of a run against the same scenario and level of a baseline, on the
 * medians of their repetitions. A level with fewer than `min_requests` counted requests (in
 * either run) is skipped: too few samples to tell a regression from noise. A scenario's
 * `baseline_override` replaces some tolerances for that scenario, or (`false`) leaves it out. Pure.
 */
export function judgeAgainstBaseline(
  current: RunSummary,
  baseline: RunSummary,
  defaults: BaselineTolerances,
): BaselineLevelVerdict[] {
  const base = groups(baseline);
  const overrides = new Map(current.scenarios.map((s) => [s.name, s.baseline_override]));
  const verdicts: BaselineLevelVerdict[] = [];
  for (const [key, group] of groups(current)) {
    const [scenario, c] = key.split('\u0000') as [string, string];
    const concurrency = Number(c);
    const override = overrides.get(scenario);
    if (override === false) continue;
    const tolerances = { ...defaults, ...override };
    const skip = (status: 'skipped' | 'not_in_baseline', reason: string) => verdicts.push({ scenario, concurrency, status, reason, checks: [] });
    const old = base.get(key);
    if (!old || old.complete.length === 0) {
      skip('not_in_baseline', 'the baseline has no such scenario and level');
      continue;
    }
    if (group.complete.length === 0) {
      skip('skipped', 'the level was cut short (interrupted): partial figures are not judged');
      continue;
    }
    const nowReps = preferClean(group.complete);
    const thenReps = preferClean(old.complete);
    const now = medians(nowReps.levels);
    const then = medians(thenReps.levels);
    const clientBound = nowReps.clientBound ? (thenReps.clientBound ? 'both' : 'run') : thenReps.clientBound ? 'baseline' : undefined;
    const fewest = Math.min(now.requests, then.requests);
    if (fewest < tolerances.min_requests) {
      skip('skipped', `only ${fewest} requests (min_requests ${tolerances.min_requests}): too few to judge; run the level longer`);
      continue;
    }
    if (then.throughput_rps <= 0) {
      // No success in the baseline: no latency to compare with, and every change would be "infinite".
      skip('skipped', 'the baseline level has no successful request: nothing to compare with; write a new baseline');
      continue;
    }
    const p95Change = pctChange(then.p95_ms, now.p95_ms);
    const tpDrop = -pctChange(then.throughput_rps, now.throughput_rps);
    const errChange = now.error_rate_pct - then.error_rate_pct;
    const checks: BaselineCheck[] = [
      { metric: 'p95_ms', baseline: round(then.p95_ms), value: round(now.p95_ms), change: round(p95Change), limit: tolerances.max_p95_increase_pct, pass: p95Change <= tolerances.max_p95_increase_pct },
      { metric: 'throughput_rps', baseline: round(then.throughput_rps), value: round(now.throughput_rps), change: round(-tpDrop), limit: tolerances.max_throughput_drop_pct, pass: tpDrop <= tolerances.max_throughput_drop_pct },
      { metric: 'error_rate_pct', baseline: round(then.error_rate_pct), value: round(now.error_rate_pct), change: round(errChange), limit: tolerances.max_error_rate_increase_pct, pass: errChange <= tolerances.max_error_rate_increase_pct },
    ];
    verdicts.push({
      scenario,
      concurrency,
      status: checks.every((x) => x.pass) ? 'pass' : 'fail',
      checks,
      ...(clientBound ? { client_bound: clientBound } : {}),
    });
  }
  return verdicts.sort((a, b) => (a.scenario < b.scenario ? -1 : a.scenario > b.scenario ? 1 : a.concurrency - b.concurrency));
}
