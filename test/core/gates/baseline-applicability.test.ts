import { describe, expect, it } from 'vitest';
import { baselineApplicability, calibrationChangePct, machineDifferences, workloadDifferences } from '../../../core/gates/baseline-applicability.ts';
import { describeBaselineNotJudged } from '../../../core/model/verdict-lines.ts';
import { asBaseline, fixtureMachine, kneeSummary } from '../../fixtures/summaries.ts';

const settings = { calibration_margin_pct: 25, require_same_machine: false, strict: false };

/** This run: the knee fixture on a machine with the given calibration score. */
const run = (ms: number, over = {}) => ({ ...asBaseline(kneeSummary(), fixtureMachine(ms, over)) });

describe('calibrationChangePct', () => {
  it('is symmetric: the slower machine takes (1 + x / 100) times as long', () => {
    expect(calibrationChangePct(222, 150)).toBeCloseTo(48, 9);
    expect(calibrationChangePct(150, 222)).toBeCloseTo(-48, 9);
    expect(calibrationChangePct(150, 150)).toBe(0);
    expect(() => calibrationChangePct(0, 150)).toThrow(RangeError);
  });
});

describe('baselineApplicability', () => {
  it('judges a baseline of the same machine kind within the margin', () => {
    const a = baselineApplicability(run(180), asBaseline(kneeSummary(), fixtureMachine(150)), settings);
    expect(a).toMatchObject({ judged: true, reasons: [], calibration_change_pct: 20, calibration_margin_pct: 25 });
  });

  it('does not judge a baseline whose calibration is more than the margin off, and says how far', () => {
    const base = asBaseline(kneeSummary(), fixtureMachine(150));
    const slower = baselineApplicability(run(222), base, settings);
    expect(slower).toMatchObject({ judged: false, calibration_change_pct: 48 });
    expect(slower.reasons).toEqual([
      {
        reason:
          "this machine's calibration score is 48 % slower than the baseline's (222 ms against 150 ms for the same hashing loop; margin 25 %), so its absolute figures do not apply here",
      },
    ]);
    const faster = baselineApplicability(run(100), base, settings);
    expect(faster.calibration_change_pct).toBe(-50);
    expect(faster.reasons[0]!.reason).toMatch(/^this machine's calibration score is 50 % faster than the baseline's \(100 ms against 150 ms/);
    // The margin is a setting.
    expect(baselineApplicability(run(222), base, { ...settings, calibration_margin_pct: 50 }).judged).toBe(true);
  });

  it('does not judge an old baseline without a fingerprint', () => {
    const a = baselineApplicability(run(150), kneeSummary(), settings);
    expect(a.judged).toBe(false);
    expect(a.reasons[0]!.reason).toMatch(/^the baseline has no machine fingerprint/);
    expect(a.calibration_change_pct).toBeUndefined();
  });

  it('does not judge another logical CPU count; with require_same_machine, nor another CPU model, memory, OS or Node', () => {
    const base = asBaseline(kneeSummary(), fixtureMachine(150));
    expect(baselineApplicability(run(150, { logical_cpus: 4 }), base, settings).reasons[0]!.reason).toBe(
      'it was recorded on another machine (logical CPUs 2 -> 4)',
    );
    const other = run(150, { cpu_model: 'Other CPU', node: 'v22.1.0' });
    expect(baselineApplicability(other, base, settings).judged).toBe(true);
    expect(baselineApplicability(other, base, { ...settings, require_same_machine: true }).reasons[0]!.reason).toBe(
      'it was recorded on another machine (CPU model "Fixture CPU @ 3.0GHz" -> "Other CPU", Node v20.20.0 -> v22.1.0)',
    );
  });

  it('leaves out a scenario whose workload differs, naming what differs; repetitions do not count', () => {
    const base = asBaseline(kneeSummary(), fixtureMachine(150));
    const now = kneeSummary();
    now.scenarios[0]!.workload = { ...now.scenarios[0]!.workload, duration_seconds: 3, repetitions: 3 };
    const changed = asBaseline(now, fixtureMachine(150));
    const a = baselineApplicability(changed, base, settings);
    expect(a.judged).toBe(true);
    expect(a.reasons).toEqual([{ scenario: 'submit', reason: "its workload differs from the baseline's (duration_seconds 5 -> 3)" }]);
    const repeated = kneeSummary();
    repeated.scenarios[0]!.workload = { ...repeated.scenarios[0]!.workload, repetitions: 5 };
    expect(baselineApplicability(asBaseline(repeated, fixtureMachine(150)), base, settings).reasons).toEqual([]);
    // The target's start command is part of the workload, though not of the snapshot.
    const started = asBaseline(kneeSummary(), fixtureMachine(150), { command: 'node other.js', ready_url: 'http://127.0.0.1:1/', timeout_seconds: 30, env: {} });
    expect(baselineApplicability(started, base, settings).reasons[0]!.reason).toBe("its workload differs from the baseline's (the target.start command, ready_url or env)");
    // A baseline scenario without a hash (older loadbench) is not judged either.
    const old = { ...base, scenarios: base.scenarios.map(({ workload_hash: _h, ...s }) => s) };
    expect(baselineApplicability(run(150), old, settings).reasons[0]!.reason).toMatch(/no workload hash/);
  });

  it('words the not-judged line with the command that records a baseline here', () => {
    const base = asBaseline(kneeSummary(), fixtureMachine(150));
    const applicability = baselineApplicability(run(222), base, settings);
    expect(describeBaselineNotJudged({ file: 'baselines/submit-2x.json', applicability }, 'baseline')).toEqual([
      "Baseline not judged: baselines/submit-2x.json: this machine's calibration score is 48 % slower than the baseline's (222 ms against 150 ms for the same hashing loop; margin 25 %), so its absolute figures do not apply here; record one on this machine: npx loadbench baseline baseline --out baselines/submit-2x.json",
    ]);
  });
});

describe('helpers', () => {
  it('names memory only beyond 2 %, and workload fields by name', () => {
    const a = fixtureMachine(1);
    expect(machineDifferences(a, { ...a, memory_bytes: a.memory_bytes * 1.01 }, true)).toEqual([]);
    expect(machineDifferences(a, { ...a, memory_bytes: a.memory_bytes * 2 }, true)).toEqual(['memory 8.0 GiB -> 16.0 GiB']);
    const w = kneeSummary().scenarios[0]!.workload;
    expect(workloadDifferences(w, { ...w, concurrency_levels: [1, 2], warmup_seconds: 2 })).toEqual([
      `concurrency_levels ${JSON.stringify(w.concurrency_levels)} -> [1,2]`,
      `warmup_seconds ${w.warmup_seconds} -> 2`,
    ]);
  });
});
