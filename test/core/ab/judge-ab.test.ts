import { describe, expect, it } from 'vitest';
import { describeAbRegressions, judgeAb } from '../../../core/ab/judge-ab.ts';
import { abTolerances } from '../../../core/ab/run-ab.ts';
import { validateConfig } from '../../../core/config/load-config.ts';
import { SUMMARY_FORMAT, SUMMARY_FORMAT_VERSION, type LevelResult, type RunSummary } from '../../../core/model/summary.ts';
import { fixtureLevel, openLoopLevel } from '../../fixtures/summaries.ts';

const TOL = { max_p95_increase_pct: 20, max_throughput_drop_pct: 15, max_error_rate_increase_pct: 1, min_requests: 100 };

/** A run of one scenario: per level, the (throughput, p95) of each repetition. */
function run(label: string, levels: Record<number, [number, number][]>, extra: LevelResult[] = [], override?: false): RunSummary {
  const results: LevelResult[] = Object.entries(levels).flatMap(([c, reps]) =>
    reps.map(([tp, p95], i) => ({ ...fixtureLevel('submit', Number(c), tp, p95), repetition: i + 1 })),
  );
  return {
    format: SUMMARY_FORMAT,
    version: SUMMARY_FORMAT_VERSION,
    run_label: label,
    started_at: '2026-12-01T10:00:00.000Z',
    finished_at: '2026-12-01T10:01:00.000Z',
    interrupted: false,
    report: { hardware_env: 'auto', software_env: 'auto', num_nodes: '1' },
    scenarios: [
      {
        name: 'submit',
        file: 'benches/submit.bench.ts',
        workload: { url: 'http://127.0.0.1:1/submit', method: 'POST', header_names: [], payload_shape: null, concurrency_levels: [1, 4], duration_seconds: 5, warmup_seconds: 0, timeout_seconds: 10, challenge_id: 'x', repetitions: 3 },
        slo: {},
        ...(override === false ? { baseline_override: false as const } : {}),
        levels: [...results, ...extra],
      },
    ],
  };
}

describe('judgeAb', () => {
  const base = run('base', { 1: [[100, 10], [104, 10.5], [97, 10.2]], 4: [[400, 12], [380, 12.5], [410, 11.8]] });

  it('flags the levels where the median of the back-to-back pairs is worse than the tolerance and every pair is worse', () => {
    // Level 1, throughput pairs: 76/100 = -24 %, 75/104 = -27.885 %, 74/97 = -23.711 %: median -24 %, over 15 %.
    // Level 4: -7.5 %, +1.3 %, -8.5 %: within the tolerance.
    const head = run('head', { 1: [[76, 13], [75, 13.2], [74, 13.1]], 4: [[370, 12.6], [385, 12.4], [375, 12.9]] });
    const verdicts = judgeAb(base, head, TOL);
    expect(verdicts.map((v) => [v.concurrency, v.status])).toEqual([
      [1, 'fail'],
      [4, 'pass'],
    ]);
    const tp1 = verdicts[0]!.checks.find((c) => c.metric === 'throughput_rps')!;
    // base and head are the sides' medians; the change is the pairs' median.
    expect(tp1).toMatchObject({ base: 100, head: 75, regressed: true, outcome: 'regressed', unit: '%', tolerance: 15 });
    expect(tp1.change).toBeCloseTo(-24, 5);
    expect(tp1.pair_changes.map((x) => Number(x.toFixed(3)))).toEqual([-24, -27.885, -23.711]);
    expect(tp1.pair_noise).toBeCloseTo(3.885, 3);
    // Spread: the largest distance of a repetition from its side's median.
    expect(tp1.base_noise).toBeCloseTo(4, 5);
    const p95 = verdicts[0]!.checks.find((c) => c.metric === 'p95_ms')!;
    expect(p95.regressed).toBe(true); // pairs +30 %, +25.7 %, +28.4 %
    const tp4 = verdicts[1]!.checks.find((c) => c.metric === 'throughput_rps')!;
    expect(tp4).toMatchObject({ regressed: false, outcome: 'within_tolerance' });
    const lines = describeAbRegressions(verdicts);
    expect(lines).toHaveLength(2);
    expect(lines[0]).toBe(
      'A/B regression: submit, concurrency 1: throughput base 100.0 req/s, head 75.0 req/s, paired change -24.0 % (pairs -24.0, -27.9, -23.7; noise ±3.9 %), ' +
        'sides ±4.0 % base / ±1.3 % head (3/3 repetitions); REGRESSED: beyond the tolerance 15 % and worse in all 3 pairs',
    );
  });

  it('a median change beyond the tolerance passes when one pair saw no slowdown (within the noise)', () => {
    // Level 4 throughput pairs: 336/400 = -16 %, 390/380 = +2.6 %, 330/410 = -19.5 %: median -16 %, but pair 2 is better.
    const head = run('head', { 1: [[100, 10], [101, 10.1], [99, 10.3]], 4: [[336, 12], [390, 12], [330, 12]] });
    const v = judgeAb(base, head, TOL).find((x) => x.concurrency === 4)!;
    expect(v.status).toBe('pass');
    expect(v.checks[0]).toMatchObject({ metric: 'throughput_rps', regressed: false, outcome: 'within_noise' });
    expect(v.checks[0]!.change).toBeCloseTo(-16, 5);
  });

  it('catches a slowdown that the drift of the machine hides from the sides\' medians', () => {
    // The machine speeds up over the run: base 300, 400, 500 req/s; the head 20 % below its partner every time.
    // Its median (320) is above the base's worst repetition (300): side against side, within the noise.
    const drifting = run('base', { 1: [[300, 10], [400, 10], [500, 10]] });
    const slower = run('head', { 1: [[240, 10], [320, 10], [400, 10]] });
    const tp = judgeAb(drifting, slower, TOL)[0]!.checks[0]!;
    expect(tp).toMatchObject({ metric: 'throughput_rps', base: 400, head: 320, regressed: true });
    expect(tp.pair_changes.map((x) => Number(x.toFixed(6)))).toEqual([-20, -20, -20]);
    expect(tp.pair_noise).toBeCloseTo(0, 9);
    expect(tp.base_noise).toBe(25);
  });

  it('pairs the k-th repetitions and leaves out one whose partner did not complete', () => {
    // The head's repetition 2 was cut short: pairs 1 and 3 only.
    const head = run('head', { 1: [[80, 10], [1, 10], [78, 10]] });
    head.scenarios[0]!.levels[1]!.status = 'partial';
    const v = judgeAb(base, head, TOL)[0]!;
    expect(v.repetitions).toEqual({ base: 3, head: 2 });
    const tp = v.checks[0]!;
    expect(tp.pair_changes.map((x) => Number(x.toFixed(3)))).toEqual([-20, -19.588]); // 80/100, 78/97
    expect(tp.regressed).toBe(true);
  });

  it('does not judge levels with too few requests, a missing side, or a scenario with baseline: false', () => {
    const head = run('head', { 1: [[10, 10], [10, 10], [10, 10]] });
    const v = judgeAb(base, head, TOL);
    expect(v).toHaveLength(1);
    expect(v[0]).toMatchObject({ status: 'not_judged' });
    expect(v[0]!.reason).toMatch(/only 50 requests per repetition \(min_requests 100\)/);
    const headOnly4 = run('head', { 4: [[400, 12]] });
    const noBase = judgeAb(run('base', { 1: [[100, 10]] }), headOnly4, TOL);
    expect(noBase[0]!.reason).toMatch(/no complete repetition on the base side/);
    expect(judgeAb(base, run('head', { 1: [[50, 30]] }, [], false), TOL)[0]!.status).toBe('not_judged');
    // Each side completed a repetition, but not the same one: no pair ran back to back.
    const onlySecond = run('head', { 1: [[1, 10], [100, 10]] });
    onlySecond.scenarios[0]!.levels[0]!.status = 'partial';
    const unpaired = judgeAb(run('base', { 1: [[100, 10]] }), onlySecond, TOL);
    expect(unpaired[0]).toMatchObject({ status: 'not_judged', repetitions: { base: 1, head: 1 } });
    expect(unpaired[0]!.reason).toMatch(/no repetition completed on both sides/);
  });

  it('judges the error rate in percentage points', () => {
    const failing = { ...fixtureLevel('submit', 1, 100, 10), repetition: 1, error_rate_pct: 3 };
    const head = run('head', {}, [failing, { ...failing, repetition: 2 }, { ...failing, repetition: 3 }]);
    const err = judgeAb(base, head, TOL)[0]!.checks.find((c) => c.metric === 'error_rate_pct')!;
    expect(err).toMatchObject({ unit: 'pp', change: 3, regressed: true });
  });
});

describe('judgeAb, open loop', () => {
  /** An open-loop run of "ingest": per offered rate, the (throughput, p95) of each repetition. */
  function openRun(label: string, levels: Record<number, [number, number][]>): RunSummary {
    const summary = run(label, {});
    const s = summary.scenarios[0]!;
    s.name = 'ingest';
    s.workload = { ...s.workload, concurrency_levels: [], arrival_rates: Object.keys(levels).map(Number), arrivals: 'constant', max_in_flight: 1000 };
    s.levels = Object.entries(levels).flatMap(([rate, reps]) => reps.map(([tp, p95], i) => ({ ...openLoopLevel('ingest', Number(rate), tp, p95), repetition: i + 1 })));
    return summary;
  }

  it('marks open-loop verdicts with their rate and names them by it', () => {
    const base = openRun('base', { 200: [[200, 10], [199, 10.4], [198, 10.2]], 400: [[400, 12], [398, 12.2], [399, 12.1]] });
    const head = openRun('head', { 200: [[150, 10], [151, 10.1], [149, 10.3]], 400: [[399, 12], [400, 12.1], [398, 12.2]] });
    const verdicts = judgeAb(base, head, TOL);
    expect(verdicts.map((v) => [v.concurrency, v.target_rate_rps, v.status])).toEqual([
      [200, 200, 'fail'],
      [400, 400, 'pass'],
    ]);
    expect(describeAbRegressions(verdicts)[0]).toMatch(/^A\/B regression: ingest, 200 req\/s: throughput base 199\.0 req\/s, head 150\.0 req\/s, /);
    // Not judged levels keep their rate too.
    const few = judgeAb(base, openRun('head', { 200: [[10, 10]] }), TOL);
    expect(few[0]).toMatchObject({ concurrency: 200, target_rate_rps: 200, status: 'not_judged' });
  });

  it('leaves closed-loop verdicts without a rate', () => {
    const v = judgeAb(run('base', { 1: [[100, 10]] }), run('head', { 1: [[100, 10]] }), TOL);
    expect(v[0]!.status).toBe('pass');
    expect('target_rate_rps' in v[0]!).toBe(false);
  });
});

describe('abTolerances', () => {
  const raw = (extra: Record<string, unknown>) => validateConfig({ target: { url: 'http://127.0.0.1:1/x', method: 'GET' }, workload: { concurrency_levels: [1], duration_seconds: 1 }, ...extra }, 'c', {});

  it('takes baseline:, with ab: over it', () => {
    expect(abTolerances(raw({ baseline: { file: 'b.json', max_p95_increase_pct: 75 }, ab: { max_throughput_drop_pct: 10 } }))).toEqual({
      max_p95_increase_pct: 75,
      max_throughput_drop_pct: 10,
      max_error_rate_increase_pct: 1,
      min_requests: 200,
    });
  });

  it("uses baseline:'s defaults without a baseline: block", () => {
    expect(abTolerances(raw({}))).toEqual({ max_p95_increase_pct: 20, max_throughput_drop_pct: 15, max_error_rate_increase_pct: 1, min_requests: 200 });
  });
});
