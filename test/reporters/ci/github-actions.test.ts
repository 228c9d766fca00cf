import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { XMLValidator } from 'fast-xml-parser';
import { describe, expect, it } from 'vitest';
import type { RunSummary } from '../../../core/model/summary.ts';
import { describeSloFailures } from '../../../core/model/verdict-lines.ts';
import { escapeCommandData, escapeCommandProperty, formatAnnotations, formatStepSummary } from '../../../reporters/ci/github-actions.ts';
import { buildReportView } from '../../../reporters/report/report-model.ts';
import { createRunOutputs } from '../../../reporters/write/run-outputs.ts';
import { PLANTED_TOKEN, fixtureLevel, hostileSummary, kneeSummary, levelsOf } from '../../fixtures/summaries.ts';

const SLO_32 = 'SLO failed: scenario "submit" at concurrency 32: p95_ms = 95 ms, limit <= 50 ms';

/** The knee sweep, finished, with its scenario() call on line 6: concurrency 32 breaks p95. */
function finished(): RunSummary {
  const s = kneeSummary();
  s.scenarios[0]!.line = 6;
  s.outcome = { status: 'fail', exit_code: 1, failures: [SLO_32] };
  return s;
}

const env = { hardware: 'rig', software: 'node', gitCommit: 'abc123' };

describe('GitHub workflow commands', () => {
  it('escape data and properties as GitHub decodes them', () => {
    expect(escapeCommandData('50% of a\r\nb')).toBe('50%25 of a%0D%0Ab');
    expect(escapeCommandProperty('a: b, c%')).toBe('a%3A b%2C c%25');
  });

  it('annotate each broken SLO at the scenario() call of its bench file', () => {
    expect(formatAnnotations(finished())).toEqual([
      `::error file=benches/submit.bench.ts,line=6,title=loadbench%3A SLO failed (scenario "submit" at concurrency 32)::${SLO_32}`,
    ]);
  });

  it('annotate regressions and levels that failed to run too, once per line; run failures and interrupts without a file', () => {
    const s = finished();
    const sc = s.scenarios[0]!;
    const broken = { judged: true, pass: false, checks: [{ metric: 'p95_ms' as const, limit: 10, value: 12, pass: false }] };
    // Two repetitions break the same limit with the same value: one annotation.
    sc.levels = [1, 2].map((r) => fixtureLevel('submit', 4, 700, 12, { repetition: r, slo: broken }));
    sc.levels.push({ status: 'skipped', scenario: 'submit', concurrency: 8, reason: 'failed to run: boom' });
    s.baseline = {
      file: 'b.json',
      tolerances: { max_p95_increase_pct: 20, max_throughput_drop_pct: 15, max_error_rate_increase_pct: 1, min_requests: 200 },
      verdicts: [{ scenario: 'submit', concurrency: 4, status: 'fail', checks: [{ metric: 'p95_ms', baseline: 6, value: 12, change: 100, limit: 20, pass: false }] }],
    };
    const slo = 'SLO failed: scenario "submit" at concurrency 4: p95_ms = 12 ms, limit <= 10 ms';
    const regression = 'Baseline regression: scenario "submit" at concurrency 4: p95_ms: p95 6 ms -> 12 ms (+100 %, allowed +20 %)';
    const crashed = 'Level failed to run: scenario "submit" at concurrency 8: boom';
    s.outcome = { status: 'interrupted', exit_code: 130, failures: [crashed, slo, slo, regression, 'could not write fixture_timeline.png: disk full'] };
    const at = 'file=benches/submit.bench.ts,line=6';
    expect(formatAnnotations(s)).toEqual([
      `::error ${at},title=loadbench%3A SLO failed (scenario "submit" at concurrency 4)::${slo}`,
      // GitHub decodes %25 back to %.
      `::error ${at},title=loadbench%3A baseline regression (scenario "submit" at concurrency 4)::${regression.replaceAll('%', '%25')}`,
      `::error ${at},title=loadbench%3A level failed to run (scenario "submit" at concurrency 8)::${crashed}`,
      '::error title=loadbench%3A run failed::could not write fixture_timeline.png: disk full',
      '::warning title=loadbench%3A run interrupted::The run was interrupted: the outputs hold the levels measured before the cut.',
    ]);
  });

  it('annotate a scenario run through runSweep() (no bench file) without a location', () => {
    const s = finished();
    s.scenarios[0]!.file = '';
    delete s.scenarios[0]!.line;
    expect(formatAnnotations(s)).toEqual([`::error title=loadbench%3A SLO failed (scenario "submit" at concurrency 32)::${SLO_32}`]);
  });

  it('say nothing for a run that passed', () => {
    const s = kneeSummary();
    for (const l of levelsOf(s.scenarios[0]!)) l.slo = { judged: true, pass: true, checks: [] };
    s.outcome = { status: 'pass', exit_code: 0, failures: [] };
    expect(formatAnnotations(s)).toEqual([]);
  });
});

describe('the GitHub job summary', () => {
  it('gives the verdict, the failure lines, the results table and the findings', () => {
    const s = finished();
    const md = formatStepSummary(s, buildReportView(s, env));
    const lines = md.split('\n');
    expect(lines[0]).toBe('## loadbench run `fixture`: failed (1 of 6 levels)');
    expect(md).toContain('- SLO failed: scenario "submit" at concurrency 32: p95\\_ms = 95 ms, limit &lt;= 50 ms');
    expect(md).toContain('### Results');
    expect(md).toContain('| scenario | concurrency | requests | throughput (req/s) | p50 (ms) | p95 (ms) | p99 (ms) | error rate (%) | SLO | notes |');
    expect(md).toMatch(/\| submit \| 32 \| 5,850 \| 1160\.00 \| .* \| \*\*fail\*\* \(p95_ms\) \|/);
    expect(md).toContain('### Findings');
    expect(md).toContain('- **Peak throughput**: 1160.0 req/s at concurrency 32');
    expect(md).toContain('- **Knee**: at concurrency 16');
    expect(md).toContain('`fixture_report.md`');
  });

  it('says "passed" for a run that passed and escapes what the target sent', () => {
    const s = hostileSummary();
    for (const l of levelsOf(s.scenarios[0]!)) l.slo = { judged: true, pass: true, checks: [] };
    s.outcome = { status: 'pass', exit_code: 0, failures: [] };
    const md = formatStepSummary(s, buildReportView(s, env));
    expect(md.split('\n')[0]).toBe('## loadbench run `fixture`: passed (6 levels)');
    expect(md).not.toContain(PLANTED_TOKEN);
    expect(md).not.toContain('<script>');
  });
});

describe('publish (the writer the orchestrator calls at the end)', () => {
  const outputs = (root: string, vars: NodeJS.ProcessEnv, printed: string[]) =>
    createRunOutputs({ root, outputDir: 'runs', runLabel: 'fixture', env: vars, printCommand: (l) => printed.push(l) });

  it('on GitHub Actions: writes the JUnit file, prints the annotations and appends the job summary', async () => {
    const root = mkdtempSync(join(tmpdir(), 'loadbench-publish-'));
    const stepSummary = join(root, 'step-summary.md');
    writeFileSync(stepSummary, '# an earlier step\n');
    const printed: string[] = [];
    const result = await outputs(root, { GITHUB_ACTIONS: 'true', GITHUB_STEP_SUMMARY: stepSummary }, printed).publish(finished());
    expect(result).toEqual({ written: [join(root, 'runs', 'fixture_junit.xml')], problems: [] });
    expect(XMLValidator.validate(readFileSync(result.written[0]!, 'utf8'))).toBe(true);
    expect(printed).toEqual([expect.stringMatching(/^::error file=benches\/submit\.bench\.ts,line=6,/)]);
    const md = readFileSync(stepSummary, 'utf8');
    expect(md.startsWith('# an earlier step\n## loadbench run `fixture`: failed')).toBe(true);
    expect(md).toContain('### Findings');
  });

  it('elsewhere: writes only the JUnit file; an unwritable job summary is a problem, not a crash', async () => {
    const root = mkdtempSync(join(tmpdir(), 'loadbench-publish-'));
    const printed: string[] = [];
    expect((await outputs(root, { CI: 'true' }, printed).publish(finished())).written).toHaveLength(1);
    expect(printed).toEqual([]);
    const bad = await outputs(root, { GITHUB_ACTIONS: 'true', GITHUB_STEP_SUMMARY: join(root, 'no', 'such', 'dir', 'summary.md') }, printed).publish(finished());
    expect(bad.problems).toEqual([expect.stringMatching(/^the GitHub job summary \(GITHUB_STEP_SUMMARY=.*summary\.md\): ENOENT/)]);
    expect(printed).toHaveLength(1);
  });
});

describe('verdict lines', () => {
  it('are the ones the orchestrator stores in the outcome', () => {
    expect(describeSloFailures('submit', 32, levelsOf(kneeSummary().scenarios[0]!)[5]!.slo)).toEqual([SLO_32]);
  });
});

describe('GitHub annotations of a baseline not judged (issue 13)', () => {
  const notJudged = (strict: boolean): RunSummary => {
    const s = kneeSummary();
    const reason = "this machine's calibration score is 48 % slower than the baseline's (222 ms against 150 ms for the same hashing loop; margin 25 %), so its absolute figures do not apply here";
    const line = `Baseline not judged: baselines/b.json: ${reason}; record one on this machine: npx loadbench baseline ${s.run_label} --out baselines/b.json`;
    s.baseline = {
      file: 'baselines/b.json',
      tolerances: { max_p95_increase_pct: 20, max_throughput_drop_pct: 15, max_error_rate_increase_pct: 1, min_requests: 200 },
      verdicts: [],
      applicability: { judged: false, reasons: [{ reason }], calibration_change_pct: 48, calibration_margin_pct: 25, require_same_machine: false, strict },
    };
    s.outcome = strict ? { status: 'fail', exit_code: 1, failures: [`${line} (baseline.strict: true)`] } : { status: 'pass', exit_code: 0, failures: [] };
    return s;
  };

  it('is a warning, or with strict a run failure (an error, not also a warning)', () => {
    // The knee fixture also breaks an SLO at concurrency 32: only the baseline's annotations here.
    const ours = (s: RunSummary) => formatAnnotations(s).filter((a) => a.includes('Baseline not judged'));
    const warned = ours(notJudged(false));
    expect(warned).toHaveLength(1);
    expect(warned[0]).toMatch(/^::warning title=loadbench%3A baseline not judged::Baseline not judged: baselines\/b\.json: this machine's calibration score is 48 %25 slower/);
    const failed = ours(notJudged(true));
    expect(failed).toHaveLength(1);
    expect(failed[0]).toMatch(/^::error title=loadbench%3A run failed::Baseline not judged: .*\(baseline\.strict: true\)$/);
  });
});
