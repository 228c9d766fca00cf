import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validateConfig } from '../../../core/config/load-config.ts';
import type { RunOutputs } from '../../../core/model/outputs.ts';
import type { RunSummary, ScenarioSnapshot } from '../../../core/model/summary.ts';
import { Sweep, outcomeOf } from '../../../core/run/sweep.ts';
import { asBaseline, fixtureLevel, fixtureMachine, kneeSummary, levelsOf } from '../../fixtures/summaries.ts';
import { startServer, type TestServer } from '../../helpers/servers.ts';

let server: TestServer;
beforeAll(async () => {
  server = await startServer((_n, _req, res) => res.end('ok'));
});
afterAll(() => server.close());

/** Outputs that record what the orchestrator asked for. */
function fakeOutputs(publishProblems: string[] = []) {
  const calls = { data: [] as RunSummary[], analysis: [] as RunSummary[], published: [] as RunSummary[], order: [] as string[] };
  const outputs: RunOutputs = {
    writeData: async (s) => (calls.order.push('data'), calls.data.push(structuredClone(s)), ['summary.json']),
    writeAnalysis: async (s) => (calls.order.push('analysis'), calls.analysis.push(structuredClone(s)), { written: ['report.md'], problems: [] }),
    endText: () => ['(table)'],
    publish: async (s) => (calls.order.push('publish'), calls.published.push(structuredClone(s)), { written: ['junit.xml'], problems: publishProblems }),
  };
  return { outputs, calls };
}

const snapshot = (repetitions?: number): ScenarioSnapshot => {
  const { levels: _levels, ...s } = kneeSummary().scenarios[0]!;
  return { ...s, workload: { ...s.workload, ...(repetitions ? { repetitions } : {}) } };
};

function sweep(over: Record<string, unknown> = {}, root = mkdtempSync(join(tmpdir(), 'loadbench-sweep-')), publishProblems: string[] = [], machine = fixtureMachine()) {
  const config = validateConfig({ run_label: 'sw', target: { url: server.url, method: 'GET' }, workload: { concurrency_levels: [1], duration_seconds: 1 }, ...over }, 'config', {});
  const { outputs, calls } = fakeOutputs(publishProblems);
  const lines: string[] = [];
  return { s: new Sweep({ config, root, outputs, log: (l) => lines.push(l), machine }), calls, lines, root };
}

describe('Sweep: the one owner of a run', () => {
  it('writes the data after every level and hands every repetition to the analysis (the timeline shows them all)', async () => {
    const { s, calls } = sweep();
    await s.start();
    for (const [i, k] of [0.9, 1.1, 1].entries()) s.record({ scenario: snapshot(3), level: fixtureLevel('submit', 4, 100 * k, 10, { repetition: i + 1 }) });
    const { outcome, summary } = await s.finish();
    // One write per level as it ends, then the final one.
    expect(calls.data.map((d) => d.scenarios[0]!.levels.length)).toEqual([1, 2, 3, 3]);
    expect(calls.data.at(-1)!.outcome).toEqual(outcome);
    expect(outcome).toEqual({ status: 'pass', exit_code: 0, failures: [] });
    expect(calls.analysis[0]!.scenarios[0]!.levels.map((l) => l.repetition)).toEqual([1, 2, 3]);
    expect(summary!.outcome).toEqual(outcome);
  });

  it("gives each level's SLO verdict at once, and its baseline verdict with its last repetition", async () => {
    const root = mkdtempSync(join(tmpdir(), 'loadbench-sweep-'));
    // Recorded on this (fixture) machine with this workload, as `loadbench baseline` writes it.
    const base = asBaseline(kneeSummary());
    writeFileSync(join(root, 'base.json'), JSON.stringify(base));
    const { s } = sweep({ baseline: { file: 'base.json', max_throughput_drop_pct: 10 } }, root);
    await s.start();
    const then = levelsOf(base.scenarios[0]!)[1]!;
    const slow = (rep: number) => ({ ...then, throughput_rps: then.throughput_rps / 2, repetition: rep });
    expect(s.record({ scenario: snapshot(2), level: slow(1) }).failures).toEqual([]);
    const last = s.record({ scenario: snapshot(2), level: slow(2) });
    expect(last.failures).toEqual([expect.stringMatching(/^Baseline regression: scenario "submit" at concurrency 2: throughput_rps: /)]);
    const broken = { ...levelsOf(base.scenarios[0]!)[5]!, slo: { judged: true, pass: false, checks: [{ metric: 'p95_ms' as const, limit: 50, value: 95, pass: false }] } };
    expect(s.record({ scenario: snapshot(), level: broken }).failures[0]).toMatch(/^SLO failed: scenario "submit" at concurrency 32: p95_ms = 95 ms, limit <= 50 ms$/);
    const { outcome } = await s.finish();
    expect(outcome.status).toBe('fail');
    expect(outcome.failures.some((f) => f.startsWith('SLO failed'))).toBe(true);
    expect(outcome.failures.some((f) => f.startsWith('Baseline regression'))).toBe(true);
  });

  it('does not judge a baseline from a machine whose calibration is off by more than the margin: exit 0, or 1 with strict', async () => {
    const root = mkdtempSync(join(tmpdir(), 'loadbench-sweep-'));
    // Recorded on a machine whose calibration loop took 150 ms; this one takes 222 ms (48 % slower).
    writeFileSync(join(root, 'base.json'), JSON.stringify(asBaseline(kneeSummary(), fixtureMachine(150))));
    const slowLevel = () => ({ ...levelsOf(kneeSummary().scenarios[0]!)[1]!, throughput_rps: 10 }); // -97 %: a regression if judged
    for (const strict of [false, true]) {
      const { s, lines } = sweep({ baseline: { file: 'base.json', strict } }, root, [], fixtureMachine(222));
      await s.start();
      const expected =
        "Baseline not judged: base.json: this machine's calibration score is 48 % slower than the baseline's (222 ms against 150 ms for the same hashing loop; margin 25 %), " +
        'so its absolute figures do not apply here; record one on this machine: npx loadbench baseline sw --out base.json';
      // Said before any load.
      expect(lines).toEqual(expect.arrayContaining([`loadbench: ${expected}`]));
      expect(s.record({ scenario: snapshot(), level: slowLevel() }).failures).toEqual([]);
      const { outcome, summary } = await s.finish();
      expect(summary!.baseline).toMatchObject({ verdicts: [], applicability: { judged: false, calibration_change_pct: 48, strict } });
      expect(summary!.machine).toEqual(fixtureMachine(222));
      if (strict) {
        expect(outcome).toEqual({ status: 'fail', exit_code: 1, failures: [`${expected} (baseline.strict: true)`] });
        expect(lines).toContain('loadbench: baseline base.json: not judged on this machine (baseline.strict: true: the run fails)');
      } else {
        expect(outcome).toEqual({ status: 'pass', exit_code: 0, failures: [] });
        expect(lines).toContain(expected);
        expect(lines).toContain('loadbench: baseline base.json: not judged on this machine');
      }
    }
  });

  it('does not judge a baseline without a fingerprint (an old one), nor a scenario whose workload changed', async () => {
    const root = mkdtempSync(join(tmpdir(), 'loadbench-sweep-'));
    writeFileSync(join(root, 'old.json'), JSON.stringify(kneeSummary()));
    const old = sweep({ baseline: { file: 'old.json' } }, root);
    await old.s.start();
    old.s.record({ scenario: snapshot(), level: levelsOf(kneeSummary().scenarios[0]!)[1]! });
    const r = await old.s.finish();
    expect(r.outcome.exit_code).toBe(0);
    expect(r.summary!.baseline!.applicability!.reasons[0]!.reason).toMatch(/^the baseline has no machine fingerprint/);

    writeFileSync(join(root, 'base.json'), JSON.stringify(asBaseline(kneeSummary(), fixtureMachine())));
    const changed = sweep({ baseline: { file: 'base.json' } }, root);
    await changed.s.start();
    const longer = { ...snapshot(), workload: { ...snapshot().workload, duration_seconds: 10 } };
    changed.s.record({ scenario: longer, level: { ...levelsOf(kneeSummary().scenarios[0]!)[1]!, throughput_rps: 10 } });
    const c = await changed.s.finish();
    expect(c.outcome.exit_code).toBe(0);
    expect(c.summary!.baseline).toMatchObject({ verdicts: [], applicability: { judged: true, reasons: [{ scenario: 'submit', reason: "its workload differs from the baseline's (duration_seconds 5 -> 10)" }] } });
    expect(changed.lines).toContain(
      `Baseline not judged: scenario "submit" against base.json: its workload differs from the baseline's (duration_seconds 5 -> 10); record one on this machine: npx loadbench baseline sw --out base.json`,
    );
    expect(changed.lines).toContain(`loadbench: baseline base.json: 0 level(s) within tolerance, 0 regressed, 0 not judged; scenario "submit" not judged (workload differs from the baseline's)`);
  });

  it('fails a run whose baseline file is missing: a gate that cannot be judged never passes silently', async () => {
    const { s, lines } = sweep({ baseline: { file: 'no/such.json' } });
    await s.start();
    s.record({ scenario: snapshot(), level: fixtureLevel('submit', 1, 100, 5) });
    const { outcome } = await s.finish();
    expect(outcome.exit_code).toBe(1);
    expect(outcome.failures).toEqual([expect.stringMatching(/^Baseline check failed: .*no\/such\.json: no such summary: .*npx loadbench baseline <run_label>/)]);
    expect(lines).toContain(outcome.failures[0]);
  });

  it('publishes the CI results last, with the final verdict; an output it could not write fails a passing run', async () => {
    const { s, calls } = sweep();
    await s.start();
    s.record({ scenario: snapshot(), level: fixtureLevel('submit', 1, 100, 5) });
    const { outcome, written } = await s.finish();
    expect(outcome.status).toBe('pass');
    expect(calls.order.slice(-2)).toEqual(['analysis', 'publish']);
    expect(calls.published).toHaveLength(1);
    expect(calls.published[0]!.outcome).toEqual(outcome);
    expect(written).toContain('junit.xml');

    const failing = sweep({}, undefined, ['sw_junit.xml: EACCES']);
    await failing.s.start();
    failing.s.record({ scenario: snapshot(), level: fixtureLevel('submit', 1, 100, 5) });
    const r = await failing.s.finish();
    expect(r.outcome).toEqual({ status: 'fail', exit_code: 1, failures: ['could not write sw_junit.xml: EACCES'] });
    expect(failing.lines).toContain('loadbench: could not write sw_junit.xml: EACCES');
    // The failure is in the summary on disk too.
    expect(failing.calls.data.at(-1)!.outcome).toEqual(r.outcome);
  });

  it('records a level that failed to run as skipped, with the error as a failure', async () => {
    const { s } = sweep();
    await s.start();
    const v = s.record({ scenario: snapshot(), level: { status: 'skipped', scenario: 'submit', concurrency: 8, reason: 'failed to run' } }, 'generator thread exited (code 1)');
    expect(v.failures).toEqual(['Level failed to run: scenario "submit" at concurrency 8: generator thread exited (code 1)']);
    const { summary, outcome } = await s.finish();
    expect(summary!.scenarios[0]!.levels[0]).toMatchObject({ status: 'skipped', reason: 'failed to run: generator thread exited (code 1)' });
    expect(outcome.exit_code).toBe(1);
  });

  it('ends an interrupted run with 130 or 143 and says so; finishing twice writes once', async () => {
    const { s, calls, lines } = sweep();
    await s.start();
    s.record({ scenario: snapshot(), level: { ...fixtureLevel('submit', 1, 100, 5), status: 'partial' } });
    const [a, b] = await Promise.all([s.finish('SIGTERM'), s.finish('SIGINT')]);
    expect(a).toBe(b);
    expect(a.outcome).toMatchObject({ status: 'interrupted', exit_code: 143 });
    expect(a.summary!.interrupted).toBe(true);
    expect(calls.analysis).toHaveLength(1);
    expect(lines.at(-1)).toMatch(/interrupted: the outputs hold the levels measured so far/);
  });

  it('writes nothing and says so when no level was measured', async () => {
    const { s, calls, lines } = sweep();
    await s.start();
    const { summary, outcome } = await s.finish();
    expect(summary).toBeUndefined();
    expect(outcome.exit_code).toBe(0);
    expect(calls.data).toEqual([]);
    expect(lines).toContain('loadbench: no level was measured, so no output was written.');
  });

  it('maps failures and signals to an outcome', () => {
    expect(outcomeOf([], undefined)).toEqual({ status: 'pass', exit_code: 0, failures: [] });
    expect(outcomeOf(['x'], undefined)).toEqual({ status: 'fail', exit_code: 1, failures: ['x'] });
    expect(outcomeOf(['x'], 'SIGINT')).toEqual({ status: 'interrupted', exit_code: 130, failures: ['x'] });
  });
});
