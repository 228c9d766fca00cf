import { median } from '../model/stats.ts';
import { judgeRepetitions, type ChangeUnit, type WorseDirection } from './noise-verdict.ts';
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
export { describeBaselineFailures, describeBaselineNotJudged, describeBaselineWarnings } from '../model/verdict-lines.ts';

/**
 * The measured repetitions of each scenario and level, keyed "scenario\0kind\0concurrency" (kind: c, or rate for open loop). Partial
 * levels (cut short by an interrupt) are kept apart: their figures cover only part of the level.
 */
function groups(summary: RunSummary): Map<string, { complete: MeasuredLevel[]; partial: number }> {
  const out = new Map<string, { complete: MeasuredLevel[]; partial: number }>();
  for (const s of summary.scenarios) {
    for (const l of s.levels) {
      if (!isMeasured(l)) continue;
      // An open-loop level at 200 req/s is not the closed level at concurrency 200: the kind is part of the key.
      const key = `${s.name}\u0000${l.target_rate_rps !== undefined ? 'rate' : 'c'}\u0000${l.concurrency}`;
      const g = out.get(key) ?? { complete: [], partial: 0 };
      if (l.status === 'partial') g.partial++;
      else g.complete.push(l);
      out.set(key, g);
    }
  }
  return out;
}

function medians(levels: MeasuredLevel[]): { requests: number; throughput_rps: number } {
  return {
    requests: median(levels.map((l) => l.requests)),
    throughput_rps: median(levels.map((l) => l.throughput_rps)),
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

/**
 * Cores that other processes (neither the target nor loadbench) may use during a repetition
 * before it counts as disturbed. Measured with `npm run gate-power` on a shared 2-core machine
 * (2026-12-02): repetitions with other processes at 0.6-1 core (a neighbour's test run) lost up
 * to half their throughput at concurrency 4, while quiet ones stayed at or below about 0.2 core.
 */
export const DISTURBED_OTHER_CORES = 0.25;

/**
 * The cores other processes used during a level, when that can be told: only when the target's
 * own processes were measured (`target.start` or `target.monitor`), since otherwise a target on
 * this machine is itself "other work".
 */
export function otherCores(level: MeasuredLevel): number | undefined {
  const r = level.resources;
  return r?.available && r.target && r.machine ? r.machine.other_cores : undefined;
}

/**
 * Drops the repetitions measured while other processes used more than
 * {@link DISTURBED_OTHER_CORES} cores: they measure a neighbour, not the system under test. When
 * every repetition was disturbed, returns none and the range of other cores, for the reason.
 */
function preferQuiet(levels: MeasuredLevel[]): { levels: MeasuredLevel[]; disturbed?: string } {
  const quiet = levels.filter((l) => !((otherCores(l) ?? 0) > DISTURBED_OTHER_CORES));
  if (quiet.length) return { levels: quiet };
  const others = levels.map((l) => otherCores(l)!);
  const lo = Math.min(...others).toFixed(2);
  const hi = Math.max(...others).toFixed(2);
  const r = levels[0]!.resources;
  const cores = r?.available ? r.machine?.cores : undefined;
  return { levels: [], disturbed: `${lo === hi ? lo : `${lo}-${hi}`} cores${cores ? ` of ${cores}` : ''}` };
}

const round = (x: number): number => Math.round(x * 1000) / 1000;

/**
 * Judges every level of a run against the same scenario and level of a baseline, by the
 * noise-aware rule of core/gates/noise-verdict.ts: a metric regresses when the median of this
 * run's repetitions is worse than the baseline's worst repetition by more than the tolerance
 * (with one repetition each, the plain comparison). A level with fewer than `min_requests` counted requests (in
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
    const [scenario, kind, c] = key.split('\u0000') as [string, string, string];
    const concurrency = Number(c);
    const rate = kind === 'rate' ? { target_rate_rps: concurrency } : {};
    const override = overrides.get(scenario);
    if (override === false) continue;
    const tolerances = { ...defaults, ...override };
    const skip = (status: 'skipped' | 'not_in_baseline', reason: string) => verdicts.push({ scenario, concurrency, ...rate, status, reason, checks: [] });
    const old = base.get(key);
    if (!old || old.complete.length === 0) {
      skip('not_in_baseline', 'the baseline has no such scenario and level');
      continue;
    }
    if (group.complete.length === 0) {
      skip('skipped', 'the level was cut short (interrupted): partial figures are not judged');
      continue;
    }
    // Issue 13: a repetition during which other processes took CPU is left out; a side with none left is not judged.
    const nowQuiet = preferQuiet(group.complete);
    const thenQuiet = preferQuiet(old.complete);
    if (nowQuiet.disturbed) {
      skip('skipped', `other processes used ${nowQuiet.disturbed} during every repetition of this level (over ${DISTURBED_OTHER_CORES} core): it measured the machine's other work, not the target; rerun when the machine is quieter`);
      continue;
    }
    if (thenQuiet.disturbed) {
      skip('skipped', `other processes used ${thenQuiet.disturbed} during every repetition of this level in the baseline (over ${DISTURBED_OTHER_CORES} core); record the baseline again on a quieter machine`);
      continue;
    }
    const nowReps = preferClean(nowQuiet.levels);
    const thenReps = preferClean(thenQuiet.levels);
    const now = medians(nowReps.levels);
    const then = medians(thenReps.levels);
    const left = { run: group.complete.length - nowQuiet.levels.length, baseline: old.complete.length - thenQuiet.levels.length };
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
    // Each metric by the noise-aware rule: the new median against the baseline's worst repetition.
    const check = (metric: BaselineCheck['metric'], pick: (l: MeasuredLevel) => number, worse: WorseDirection, unit: ChangeUnit, limit: number): BaselineCheck => {
      const v = judgeRepetitions({ base: thenReps.levels.map(pick), head: nowReps.levels.map(pick), worse, tolerance: limit, unit });
      return {
        metric,
        baseline: round(v.base_median),
        value: round(v.head_median),
        change: round(v.change),
        limit,
        pass: !v.regressed,
        baseline_worst: round(v.base_worst),
        beyond_worst: round(v.beyond_worst),
        noise: round(v.noise),
        repetitions: { baseline: v.repetitions.base, run: v.repetitions.head },
      };
    };
    const checks: BaselineCheck[] = [
      check('p95_ms', (l) => l.latency_ms.p95, 'higher', 'pct', tolerances.max_p95_increase_pct),
      check('throughput_rps', (l) => l.throughput_rps, 'lower', 'pct', tolerances.max_throughput_drop_pct),
      check('error_rate_pct', (l) => l.error_rate_pct, 'higher', 'points', tolerances.max_error_rate_increase_pct),
    ];
    verdicts.push({
      scenario,
      concurrency,
      ...rate,
      status: checks.every((x) => x.pass) ? 'pass' : 'fail',
      checks,
      ...(clientBound ? { client_bound: clientBound } : {}),
      ...(left.run || left.baseline ? { disturbed_left_out: left } : {}),
    });
  }
  return verdicts.sort((a, b) => (a.scenario < b.scenario ? -1 : a.scenario > b.scenario ? 1 : a.concurrency - b.concurrency));
}
