/**
 * Whether a baseline's absolute figures apply to this run (issue 13): a baseline recorded on a
 * machine twice as fast fails every level of a healthy system, and one recorded with another
 * workload compares different things. Such a baseline is not judged: one line says why, how far
 * off this machine is, and how to record a baseline here. With `baseline.strict`, that fails the run.
 */
import type { BaselineApplicability, MachineFingerprint, RunSummary, ScenarioSummary, WorkloadSnapshot } from '../model/summary.ts';

/** The config.yaml `baseline:` keys that decide whether a baseline applies. */
export interface ApplicabilitySettings {
  calibration_margin_pct: number;
  require_same_machine: boolean;
  strict: boolean;
}

/**
 * How much slower (+) or faster (-) this machine's calibration is than the baseline's, in %: the
 * slower of the two takes (1 + |x| / 100) times as long as the faster. Symmetric, so that a margin
 * means the same both ways: +48 = this machine needs 1.48 times the baseline's time. Pure.
 */
export function calibrationChangePct(runMs: number, baselineMs: number): number {
  if (!(runMs > 0) || !(baselineMs > 0)) throw new RangeError(`calibration scores must be positive, got ${runMs} and ${baselineMs}`);
  return runMs >= baselineMs ? (runMs / baselineMs - 1) * 100 : -(baselineMs / runMs - 1) * 100;
}

const GIB = 1024 ** 3;
const gib = (bytes: number): string => `${(bytes / GIB).toFixed(1)} GiB`;
const pct = (x: number): string => `${Math.round(Math.abs(x))} %`;

/** The fingerprint fields that differ, as "field: baseline's -> this machine's". Memory counts as the same within 2 %. */
export function machineDifferences(baseline: MachineFingerprint, run: MachineFingerprint, sameMachine: boolean): string[] {
  const out: string[] = [];
  if (baseline.logical_cpus !== run.logical_cpus) out.push(`logical CPUs ${baseline.logical_cpus} -> ${run.logical_cpus}`);
  if (!sameMachine) return out;
  if (baseline.cpu_model !== run.cpu_model) out.push(`CPU model "${baseline.cpu_model}" -> "${run.cpu_model}"`);
  if (Math.abs(baseline.memory_bytes - run.memory_bytes) > 0.02 * Math.max(baseline.memory_bytes, run.memory_bytes)) {
    out.push(`memory ${gib(baseline.memory_bytes)} -> ${gib(run.memory_bytes)}`);
  }
  if (baseline.os !== run.os) out.push(`OS "${baseline.os}" -> "${run.os}"`);
  if (baseline.node !== run.node) out.push(`Node ${baseline.node} -> ${run.node}`);
  return out;
}

/** The workload fields that differ between two snapshots, named, e.g. `duration_seconds 5 -> 3`. */
export function workloadDifferences(baseline: WorkloadSnapshot, run: WorkloadSnapshot): string[] {
  const keys = [...new Set([...Object.keys(baseline), ...Object.keys(run)])].filter((k) => k !== 'repetitions').sort();
  const text = (v: unknown): string => (v === undefined ? 'unset' : JSON.stringify(v));
  return keys
    .filter((k) => text((baseline as Record<string, unknown>)[k]) !== text((run as Record<string, unknown>)[k]))
    .map((k) => `${k} ${text((baseline as Record<string, unknown>)[k])} -> ${text((run as Record<string, unknown>)[k])}`);
}

/**
 * Decides whether `baseline` applies to this run, as a whole (the machine) and per scenario (the
 * workload). The machine applies when the baseline has a fingerprint with the same calibration
 * loop and logical CPU count (with `require_same_machine`, also the same CPU model, memory, OS
 * and Node), and a calibration score within `calibration_margin_pct`. A scenario applies when its
 * workload hash equals the baseline's; scenarios missing from the baseline or left out of the
 * gate (`baseline: false`) are not listed. Pure.
 */
export function baselineApplicability(
  run: { machine?: MachineFingerprint; scenarios: Pick<ScenarioSummary, 'name' | 'workload' | 'workload_hash' | 'baseline_override'>[] },
  baseline: RunSummary,
  settings: ApplicabilitySettings,
): BaselineApplicability {
  const base = {
    calibration_margin_pct: settings.calibration_margin_pct,
    require_same_machine: settings.require_same_machine,
    strict: settings.strict,
    ...(baseline.machine ? { baseline_machine: baseline.machine } : {}),
  };
  const notJudged = (reason: string, change?: number): BaselineApplicability => ({
    judged: false,
    reasons: [{ reason }],
    ...(change !== undefined ? { calibration_change_pct: Math.round(change * 10) / 10 } : {}),
    ...base,
  });
  const then = baseline.machine;
  const now = run.machine;
  if (!then) {
    return notJudged('the baseline has no machine fingerprint (it was written before loadbench recorded one), so nothing says its figures apply to this machine');
  }
  if (!now) return notJudged('this run has no machine fingerprint to compare with the baseline');
  if (then.calibration.loop !== now.calibration.loop) {
    return notJudged(`the baseline's calibration loop ("${then.calibration.loop}") is not this version's ("${now.calibration.loop}")`);
  }
  const change = calibrationChangePct(now.calibration.ms, then.calibration.ms);
  const differences = machineDifferences(then, now, settings.require_same_machine);
  if (differences.length) {
    return notJudged(`it was recorded on another machine (${differences.join(', ')})`, change);
  }
  if (Math.abs(change) > settings.calibration_margin_pct) {
    return notJudged(
      `this machine's calibration score is ${pct(change)} ${change > 0 ? 'slower' : 'faster'} than the baseline's ` +
        `(${now.calibration.ms} ms against ${then.calibration.ms} ms for the same hashing loop; margin ${settings.calibration_margin_pct} %), ` +
        `so its absolute figures do not apply here`,
      change,
    );
  }
  const baseScenarios = new Map(baseline.scenarios.map((s) => [s.name, s]));
  const reasons: BaselineApplicability['reasons'] = [];
  for (const s of run.scenarios) {
    const old = baseScenarios.get(s.name);
    if (!old || s.baseline_override === false) continue;
    if (!old.workload_hash) {
      reasons.push({ scenario: s.name, reason: 'the baseline has no workload hash for this scenario (it was written before loadbench recorded one)' });
    } else if (old.workload_hash !== s.workload_hash) {
      const diff = workloadDifferences(old.workload, s.workload);
      reasons.push({
        scenario: s.name,
        reason: `its workload differs from the baseline's (${diff.length ? diff.join('; ') : 'the target.start command, ready_url or env'})`,
      });
    }
  }
  return { judged: true, reasons, calibration_change_pct: Math.round(change * 10) / 10, ...base };
}
