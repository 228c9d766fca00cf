import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { levelsOf } from '../../fixtures/summaries.ts';
import { DISTURBED_OTHER_CORES, describeBaselineFailures, judgeAgainstBaseline, otherCores } from '../../../core/gates/baseline.ts';
import { median } from '../../../core/model/stats.ts';
import { formatBaselineTable } from '../../../reporters/console/baseline-table.ts';
import { ConfigError } from '../../../core/errors.ts';
import { configSchema } from '../../../core/config/schema.ts';
import { resolveScenario } from '../../../core/scenario/resolve.ts';
import { fixtureLevel, kneeSummary } from '../../fixtures/summaries.ts';
import { fixtureProject } from '../../helpers/fixture-project.ts';
import { runLoadbench } from '../../helpers/cli.ts';
import { startServer, type TestServer } from '../../helpers/servers.ts';

const tolerances = { max_p95_increase_pct: 20, max_throughput_drop_pct: 15, max_error_rate_increase_pct: 1, min_requests: 200 };

describe('judgeAgainstBaseline', () => {
  it('takes medians of repetitions', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
  });

  it('passes within tolerance and names metric, baseline, new value and change when exceeded', () => {
    const base = kneeSummary();
    const now = kneeSummary();
    const lv = now.scenarios[0]!.levels;
    lv[2] = fixtureLevel('submit', 4, 700 * 0.8, 12 * 1.1); // throughput -20 %: over the 15 % allowed
    lv[3] = fixtureLevel('submit', 8, 1100, 20 * 1.3); // p95 +30 %: over the 20 % allowed
    const v = judgeAgainstBaseline(now, base, tolerances);
    expect(v.map((x) => [x.concurrency, x.status])).toEqual([
      [1, 'pass'],
      [2, 'pass'],
      [4, 'fail'],
      [8, 'fail'],
      [16, 'pass'],
      [32, 'pass'],
    ]);
    expect(describeBaselineFailures(v)).toEqual([
      'Baseline regression: scenario "submit" at concurrency 4: throughput_rps: throughput 700 -> 560 req/s (-20 %, allowed -15 %)',
      'Baseline regression: scenario "submit" at concurrency 8: p95_ms: p95 20 ms -> 26 ms (+30 %, allowed +20 %)',
    ]);
  });

  it('skips levels with too few requests and levels missing from the baseline', () => {
    const base = kneeSummary();
    base.scenarios[0]!.levels = base.scenarios[0]!.levels.filter((l) => l.concurrency !== 32);
    const now = kneeSummary();
    now.scenarios[0]!.levels[0] = fixtureLevel('submit', 1, 30, 8); // 150 requests < 200
    const v = judgeAgainstBaseline(now, base, tolerances);
    expect(v[0]).toMatchObject({ concurrency: 1, status: 'skipped' });
    expect(v[0]!.reason).toMatch(/only 150 requests \(min_requests 200\)/);
    expect(v.at(-1)).toMatchObject({ concurrency: 32, status: 'not_in_baseline' });
  });

  it('judges the median of repetitions, so one noisy repetition does not fail the gate', () => {
    const base = kneeSummary();
    const now = kneeSummary();
    const slowOnce = { ...fixtureLevel('submit', 2, 380, 40), repetition: 2 };
    now.scenarios[0]!.levels.push({ ...fixtureLevel('submit', 2, 380, 9.5), repetition: 3 }, slowOnce);
    const v = judgeAgainstBaseline(now, base, tolerances).find((x) => x.concurrency === 2)!;
    expect(v.status).toBe('pass');
    expect(v.checks[0]!.value).toBe(9.5);
  });

  it('words a regression with repetitions readably: figures rounded, the noise and the distance beyond the worst repetition', () => {
    const base = kneeSummary();
    const now = kneeSummary();
    const reps = (s: typeof base, c: number, tps: number[], p95s: number[]) => {
      const lv = s.scenarios[0]!.levels;
      lv.splice(lv.findIndex((l) => l.concurrency === c), 1, ...tps.map((tp, k) => ({ ...fixtureLevel('submit', c, tp, p95s[k]!), repetition: k + 1 })));
    };
    reps(base, 4, [820.418, 790.123, 822.5], [11.679, 12.631, 11.7]);
    reps(now, 4, [650.421, 640.2, 661.1], [14.5, 15.039, 15.2]);
    const v = judgeAgainstBaseline(now, base, { ...tolerances, max_p95_increase_pct: 10, max_throughput_drop_pct: 10 }).find((x) => x.concurrency === 4)!;
    expect(v.status).toBe('fail');
    // The JSON keeps three decimals; the line shows ms to 0.01, req/s to 0.1 and % to 0.1.
    expect(v.checks.find((c) => c.metric === 'throughput_rps')).toMatchObject({ baseline: 820.418, value: 650.421 });
    expect(describeBaselineFailures([v])).toEqual([
      'Baseline regression: scenario "submit" at concurrency 4: p95_ms: p95 11.7 ms -> 15.04 ms (+28.5 %, noise ±8 %; 19.1 % worse than the baseline\'s worst repetition (12.63 ms), allowed +10 %)',
      'Baseline regression: scenario "submit" at concurrency 4: throughput_rps: throughput 820.4 -> 650.4 req/s (-20.7 %, noise ±3.7 %; 17.7 % worse than the baseline\'s worst repetition (790.1 req/s), allowed -10 %)',
    ]);
  });
});

describe('judgeAgainstBaseline: per-scenario tolerances, partial levels, empty baselines', () => {
  it("applies a scenario's own tolerances, and leaves out a scenario with baseline: false", () => {
    const base = kneeSummary();
    const now = kneeSummary();
    now.scenarios[0]!.levels[3] = fixtureLevel('submit', 8, 1100, 20 * 1.3); // p95 +30 %
    now.scenarios[0]!.baseline_override = { max_p95_increase_pct: 40 };
    expect(judgeAgainstBaseline(now, base, tolerances).find((v) => v.concurrency === 8)).toMatchObject({
      status: 'pass',
      checks: [{ metric: 'p95_ms', change: 30, limit: 40, pass: true }, { limit: 15 }, { limit: 1 }],
    });
    now.scenarios[0]!.baseline_override = false;
    expect(judgeAgainstBaseline(now, base, tolerances)).toEqual([]);
  });

  it('does not judge a partial level, nor a level the baseline never served', () => {
    const base = kneeSummary();
    const served = levelsOf(base.scenarios[0]!)[1]!;
    base.scenarios[0]!.levels[1] = { ...served, throughput_rps: 0, successes: 0, failures: served.requests, error_rate_pct: 100 };
    const now = kneeSummary();
    now.scenarios[0]!.levels[0] = { ...levelsOf(now.scenarios[0]!)[0]!, status: 'partial', throughput_rps: 1 };
    const v = judgeAgainstBaseline(now, base, tolerances);
    expect(v[0]).toMatchObject({ concurrency: 1, status: 'skipped', reason: expect.stringMatching(/cut short/) });
    expect(v[1]).toMatchObject({ concurrency: 2, status: 'skipped', reason: expect.stringMatching(/no successful request/) });
    expect(JSON.stringify(v)).not.toContain('null');
  });

  it('drops client-bound repetitions from the median, and flags a verdict where every repetition was client-bound', () => {
    const base = kneeSummary();
    const now = kneeSummary();
    const busy = { cpu_pct: 20, event_loop_delay_p99_ms: 30, client_bound: true };
    const lv = now.scenarios[0]!.levels;
    // Level 4: one disturbed repetition out of three; the two clean ones decide.
    lv.splice(2, 1, ...[700, 300, 690].map((tp, k) => ({ ...fixtureLevel('submit', 4, tp, 12), repetition: k + 1, ...(tp === 300 ? { generator: busy } : {}) })));
    // Level 8: the only repetition was disturbed and is much slower: still judged, but flagged.
    lv[lv.findIndex((l) => l.concurrency === 8)] = fixtureLevel('submit', 8, 500, 40, { generator: busy });
    const v = judgeAgainstBaseline(now, base, tolerances);
    const at = (c: number) => v.find((x) => x.concurrency === c)!;
    expect(at(4)).toMatchObject({ status: 'pass', checks: [{}, { value: 695 }, {}] });
    expect(at(4).client_bound).toBeUndefined();
    expect(at(8)).toMatchObject({ status: 'fail', client_bound: 'run' });
    expect(at(32).client_bound).toBe('both');
    const lines = describeBaselineFailures(v);
    expect(lines[0]).toMatch(/concurrency 8: p95_ms: .* \[the load generator was saturated or delayed in this run at this level: the machine may be the cause; rerun on a quiet machine to confirm\]$/);
    expect(formatBaselineTable({ file: 'b.json', tolerances, verdicts: v })).toMatch(/\nsubmit\s+8\s+REGRESSED \(client-bound\)\s+20\.00 -> 40\.00/);
  });

  it('leaves out repetitions during which other processes took CPU, and does not judge a level where every one was disturbed', () => {
    // Resource figures as the sampler writes them, with the target's processes known and `other` cores of other work.
    const withOther = (l: ReturnType<typeof fixtureLevel>, other: number, target = true) => ({
      ...l,
      resources: {
        available: true as const,
        samples: 5,
        covered_s: 5,
        ...(target ? { target: { mean_cores: 1, max_cores: 1.2, max_rss_mb: 300, process_count: 3 } } : {}),
        processes: [],
        machine: { cores: 2, mean_cpu_pct: 90, max_cpu_pct: 100, steal_pct: 0, other_cores: other },
        sampler_cores: 0,
        timeline: [],
      },
    });
    const reps = (s: ReturnType<typeof kneeSummary>, c: number, rows: [number, number, number][], target = true) => {
      const lv = s.scenarios[0]!.levels;
      const at = lv.findIndex((l) => l.concurrency === c);
      lv.splice(at, lv.filter((l) => l.concurrency === c).length, ...rows.map(([tp, p95, other], k) => ({ ...withOther(fixtureLevel('submit', c, tp, p95), other, target), repetition: k + 1 })));
    };
    const base = kneeSummary();
    const now = kneeSummary();
    // As measured on 2026-12-02: two repetitions beside a neighbour's test run (0.9 core) lost half their throughput.
    reps(base, 4, [[735, 13.9, 0.1], [775, 13.1, 0.18], [620, 17.4, 0.63]]);
    reps(now, 4, [[417, 24, 0.93], [406, 25, 0.99], [846, 12, 0.01]]);
    reps(base, 8, [[1100, 20, 0]]);
    reps(now, 8, [[600, 40, 0.9], [620, 41, 0.95]]);
    // Without the target's processes, "other" CPU includes the target itself: nothing is left out.
    reps(base, 16, [[1000, 30, 0]], false);
    reps(now, 16, [[500, 60, 0.9]], false);
    const v = judgeAgainstBaseline(now, base, { ...tolerances, max_p95_increase_pct: 10, max_throughput_drop_pct: 10 });
    const at = (c: number) => v.find((x) => x.concurrency === c)!;
    expect(otherCores(withOther(fixtureLevel('submit', 1, 1, 1), 0.5, false))).toBeUndefined();
    expect(at(4)).toMatchObject({ status: 'pass', disturbed_left_out: { run: 2, baseline: 1 } });
    expect(at(4).checks.find((c) => c.metric === 'throughput_rps')).toMatchObject({ baseline: 755, value: 846, baseline_worst: 735, repetitions: { baseline: 2, run: 1 } });
    expect(at(8)).toMatchObject({ status: 'skipped', checks: [] });
    expect(at(8).reason).toBe(
      `other processes used 0.90-0.95 cores of 2 during every repetition of this level (over ${DISTURBED_OTHER_CORES} core): it measured the machine's other work, not the target; rerun when the machine is quieter`,
    );
    expect(at(16)).toMatchObject({ status: 'fail' });
    expect(at(16).disturbed_left_out).toBeUndefined();
    // A level judged on its quiet repetitions says what was left out.
    reps(now, 4, [[417, 24, 0.93], [406, 25, 0.99], [500, 30, 0.01]]);
    const failed = judgeAgainstBaseline(now, base, { ...tolerances, max_p95_increase_pct: 10, max_throughput_drop_pct: 10 }).find((x) => x.concurrency === 4)!;
    expect(describeBaselineFailures([failed])[0]).toMatch(/\[repetitions left out because other processes took CPU during them: 2 of this run, 1 of the baseline\]$/);
    expect(formatBaselineTable({ file: 'b.json', tolerances, verdicts: [failed] })).toMatch(/\nsubmit\s+4\s+REGRESSED \(3 disturbed rep\. left out\)/);
    expect(formatBaselineTable({ file: 'b.json', tolerances, verdicts: [failed] })).toMatch(/^baseline comparison with b\.json \(medians of repetitions; allowed: /);
  });

  it('formats the console table with baseline -> new values and marks exceeded tolerances', () => {
    const base = kneeSummary();
    const now = kneeSummary();
    now.scenarios[0]!.levels[2] = fixtureLevel('submit', 4, 700 * 0.8, 12 * 1.1);
    const text = formatBaselineTable({ file: 'baselines/b.json', tolerances, verdicts: judgeAgainstBaseline(now, base, tolerances) });
    const lines = text.split('\n');
    // One repetition per side: no "medians of repetitions" (there is one value each), no noise.
    expect(lines[0]).toBe('baseline comparison with baselines/b.json (allowed: p95 +20 %, throughput -15 %, errors +1 pts; "!" = over)');
    expect(lines[1]).toMatch(/^scenario\s+conc\s+baseline\s+p95 ms\s+req\/s\s+errors %$/);
    expect(lines.find((l) => /^submit\s+4 /.test(l))).toMatch(/REGRESSED\s+12\.00 -> 13\.20 \(\+10\.0 %\)\s+700\.0 -> 560\.0 \(-20\.0 %\) !\s+0\.00 -> 0\.00 \(\+0\.0 pts\)$/);
    expect(lines.find((l) => /^submit\s+8 /.test(l))).toMatch(/PASS/);
  });

  it('validates the scenario option at the edge', () => {
    const config = configSchema.parse({
      target: { url: 'http://127.0.0.1:1/submit', method: 'POST' },
      workload: { concurrency_levels: [1], requests_per_level: 10 },
      baseline: { file: 'b.json' },
    });
    expect(resolveScenario('s', { baseline: { min_requests: 50 } }, config).baselineOverride).toEqual({ min_requests: 50 });
    expect(resolveScenario('s', { baseline: false }, config).baselineOverride).toBe(false);
    expect(() => resolveScenario('s', { baseline: { max_p95_increase: 5 } as never }, config)).toThrow(ConfigError);
    expect(() => resolveScenario('s', { baseline: { max_throughput_drop_pct: 150 } }, config)).toThrow(/max_throughput_drop_pct/);
  });
});

describe('the regression gate end to end', () => {
  let server: TestServer;
  let delayMs = 10;
  beforeAll(async () => {
    server = await startServer((_n, _req, res) => setTimeout(() => res.end('{}'), delayMs));
  });
  afterAll(() => server.close());

  it('passes at baseline speed and fails, naming the metric, when the server is slower', async () => {
    // 10 ms -> 50 ms per request: p95 about +400 %, throughput about -80 %, far outside the
    // (deliberately wide) tolerances even when a busy 2-core machine inflates the baseline run,
    // while timer jitter between two runs at the same speed stays inside them.
    const yaml = (label: string, gate = '', repetitions = 3) => `run_label: ${label}
target: { url: "${server.url}", method: POST }
workload: { concurrency_levels: [4], requests_per_level: 210, repetitions: ${repetitions} }
${gate}
`;
    // The tolerances come from the scenario option; config.yaml names only the file.
    const bench = {
      'gate.bench.ts': `import { scenario } from SCENARIO;\nscenario('gate', { baseline: { max_p95_increase_pct: 100, max_throughput_drop_pct: 40 } });\n`,
    };
    const p = fixtureProject(yaml('base'), bench);
    const first = await p.runBench();
    expect(first.code, first.output).toBe(0);
    expect(first.output).toContain('concurrency 4 (rep 2/3)');
    const rows = parse(readFileSync(join(p.dir, 'runs/base_summary.csv'), 'utf8'), { columns: true }) as Record<string, string>[];
    expect(rows.map((r) => r.repetition)).toEqual(['1', '2', '3']);

    const made = runLoadbench(p.dir, ['baseline', 'base']);
    expect(made.code, made.stderr).toBe(0);
    expect(made.stdout).toContain('wrote baseline baselines/base.json');
    const again = runLoadbench(p.dir, ['baseline', 'base']);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toContain('replaced baseline baselines/base.json');

    // The machine is the same; the test machine's load moves the calibration score between runs, and
    // whether a baseline applies is tested on its own (baseline-applicability tests): here, the rule.
    const gate = 'baseline: { file: baselines/base.json, calibration_margin_pct: 1000 }';
    writeFileSync(join(p.dir, 'config.yaml'), yaml('same', gate));
    const same = await p.runBench();
    expect(same.code, same.output).toBe(0);
    expect(same.output).toMatch(/baseline comparison with baselines\/base\.json/);
    expect(same.output, same.output).toMatch(/\ngate\s+4\s+PASS\s+[\d.]+ -> [\d.]+/);
    expect(same.output).toMatch(/baseline baselines\/base\.json: 1 level\(s\) within tolerance, 0 regressed/);

    // Issue 13: the baseline knows where it was recorded. Recorded on a machine twice as fast, it is not judged.
    const written = JSON.parse(readFileSync(join(p.dir, 'baselines/base.json'), 'utf8'));
    expect(made.stdout).toMatch(/recorded on .+, \d+ logical CPUs, .+ GiB, .+, Node v\d+.+; calibration score [\d.]+ ms/);
    expect(written.machine.calibration.ms).toBeGreaterThan(0);
    expect(written.scenarios[0].workload_hash).toMatch(/^[0-9a-f]{16}$/);
    const ours = written.machine.calibration.ms as number;
    writeFileSync(join(p.dir, 'baselines/fast.json'), JSON.stringify({ ...written, machine: { ...written.machine, calibration: { ...written.machine.calibration, ms: ours / 20 } } }));
    delayMs = 50; // much slower: a regression, were the baseline judged
    writeFileSync(join(p.dir, 'config.yaml'), yaml('elsewhere', 'baseline: { file: baselines/fast.json }', 1));
    const elsewhere = await p.runBench();
    expect(elsewhere.code, elsewhere.output).toBe(0);
    expect(elsewhere.output).toMatch(/Baseline not judged: baselines\/fast\.json: this machine's calibration score is \d+ % slower than the baseline's \([\d.]+ ms against [\d.]+ ms for the same hashing loop; margin 25 %\), so its absolute figures do not apply here; record one on this machine: npx loadbench baseline elsewhere --out baselines\/fast\.json/);
    expect(elsewhere.output).not.toMatch(/REGRESSED|Baseline regression/);
    const elsewhereJson = JSON.parse(readFileSync(join(p.dir, 'runs/elsewhere_summary.json'), 'utf8'));
    expect(elsewhereJson.baseline.applicability.judged).toBe(false);
    expect(elsewhereJson.outcome.exit_code).toBe(0);
    expect(readFileSync(join(p.dir, 'runs/elsewhere_junit.xml'), 'utf8')).toMatch(/<testcase name="baseline" classname="loadbench"[^>]*>\s*<skipped message="Baseline not judged: baselines\/fast\.json: this machine/);
    expect(readFileSync(join(p.dir, 'runs/elsewhere_report.md'), 'utf8')).toMatch(/Against `baselines\/fast\.json`: \*\*not judged\*\*\. That alone does not fail the run \(with `baseline\.strict: true` it would\)\./);
    // With strict, that fails the run.
    writeFileSync(join(p.dir, 'config.yaml'), yaml('strict', 'baseline: { file: baselines/fast.json, strict: true }', 1));
    const strict = await p.runBench();
    expect(strict.code, strict.output).toBe(1);
    expect(strict.output).toMatch(/Baseline not judged: baselines\/fast\.json: .*npx loadbench baseline strict --out baselines\/fast\.json \(baseline\.strict: true\)/);
    expect(readFileSync(join(p.dir, 'runs/strict_report.md'), 'utf8')).toMatch(/Against `baselines\/fast\.json`: \*\*not judged\*\*\. With `baseline\.strict: true`, that fails the run\./);
    delayMs = 10;

    // One repetition against a baseline of three: the gate compares medians either way.
    delayMs = 50;
    writeFileSync(join(p.dir, 'config.yaml'), yaml('slower', gate, 1));
    const slower = await p.runBench();
    expect(slower.code, slower.output).toBe(1);
    expect(slower.output, slower.output).toMatch(/\ngate\s+4\s+REGRESSED\s+/);
    expect(slower.output, slower.output).toMatch(/Baseline regression: scenario "gate" at concurrency 4: p95_ms: p95 [\d.]+ ms -> [\d.]+ ms \(\+\d+[\d.]* %, noise ±[\d.]+ %; [\d.]+ % worse than the baseline's worst repetition \([\d.]+ ms\), allowed \+100 %\)/);
    expect(slower.output).toMatch(/Baseline regression: scenario "gate" at concurrency 4: throughput_rps: throughput [\d.]+ -> [\d.]+ req\/s \(-\d+[\d.]* %, noise ±[\d.]+ %; [\d.]+ % worse than the baseline's worst repetition \([\d.]+ req\/s\), allowed -40 %\)/);
    const report = readFileSync(join(p.dir, 'runs/slower_report.md'), 'utf8');
    expect(report).toContain('## Baseline comparison');
    expect(report).toContain('**regressed**');
    const json = JSON.parse(readFileSync(join(p.dir, 'runs/slower_summary.json'), 'utf8'));
    expect(json.baseline.verdicts[0].status).toBe('fail');
    expect(json.scenarios[0].baseline_override).toEqual({ max_p95_increase_pct: 100, max_throughput_drop_pct: 40 });
  });

  it('fails clearly when the configured baseline file does not exist', async () => {
    const p = fixtureProject(
      `target: { url: "${server.url}", method: POST }\nworkload: { concurrency_levels: [1], requests_per_level: 20 }\nbaseline: { file: baselines/missing.json }\n`,
      { 'gate.bench.ts': `import { scenario } from SCENARIO;\nscenario('gate');\n` },
    );
    const r = await p.runBench();
    expect(r.code).toBe(1);
    expect(r.output).toMatch(/Baseline check failed: .*baselines\/missing\.json: no such summary: write one with `npx loadbench baseline <run_label>`/);
  });
});
