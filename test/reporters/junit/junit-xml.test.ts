import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { describe, expect, it } from 'vitest';
import type { RunSummary, SkippedLevel } from '../../../core/model/summary.ts';
import { describeSloFailures } from '../../../core/model/verdict-lines.ts';
import { formatJunitXml, xmlAttr, xmlText } from '../../../reporters/junit/junit-xml.ts';
import { fixtureLevel, kneeSummary, levelsOf } from '../../fixtures/summaries.ts';

type Node = Record<string, unknown>;
interface Case extends Node {
  '@name': string;
  '@classname': string;
  '@time': string;
  '@file'?: string;
  '@line'?: string;
  failure?: { '@message': string; '@type': string; '#text': string };
  error?: { '@message': string; '@type': string; '#text': string };
  skipped?: { '@message': string };
  'system-out'?: string;
}
interface Suite extends Node {
  '@name': string;
  '@tests': string;
  '@failures': string;
  '@errors': string;
  '@skipped': string;
  '@time': string;
  testcase: Case[];
}

/** Parses with a real XML parser after validating well-formedness, as a CI's test-report reader would. */
function parseJunit(xml: string): { root: Node; suites: Suite[] } {
  expect(XMLValidator.validate(xml)).toBe(true);
  const parser = new XMLParser({
    ignoreAttributes: false,
    attributeNamePrefix: '@',
    parseAttributeValue: false,
    parseTagValue: false,
    trimValues: false,
    // Numeric character references (&#10;) are XML; this parser decodes them only with its HTML entity set on.
    htmlEntities: true,
    isArray: (name) => name === 'testsuite' || name === 'testcase' || name === 'property',
  });
  const doc = parser.parse(xml) as { testsuites: Node & { testsuite: Suite[] } };
  return { root: doc.testsuites, suites: doc.testsuites.testsuite };
}

/** The knee sweep, finished: concurrency 32 breaks its p95 SLO (95 ms > 50 ms). */
function finished(): RunSummary {
  const s = kneeSummary();
  s.scenarios[0]!.line = 6;
  const failures = s.scenarios.flatMap((sc) => levelsOf(sc).flatMap((l) => describeSloFailures(sc.name, l.concurrency, l.slo)));
  s.outcome = { status: failures.length ? 'fail' : 'pass', exit_code: failures.length ? 1 : 0, failures };
  return s;
}

/** Checks what JUnit readers (GitLab, Jenkins, GitHub test-report actions) rely on: counts that add up, names, times. */
function expectConsistent(root: Node, suites: Suite[]): void {
  const all = suites.flatMap((s) => s.testcase);
  for (const s of suites) {
    expect(s['@name']).not.toBe('');
    expect(Number(s['@tests'])).toBe(s.testcase.length);
    expect(Number(s['@failures'])).toBe(s.testcase.filter((c) => c.failure).length);
    expect(Number(s['@errors'])).toBe(s.testcase.filter((c) => c.error).length);
    expect(Number(s['@skipped'])).toBe(s.testcase.filter((c) => c.skipped).length);
    expect(s['@time']).toMatch(/^\d+\.\d{3}$/);
  }
  expect(Number(root['@tests'])).toBe(all.length);
  expect(Number(root['@failures'])).toBe(all.filter((c) => c.failure).length);
  expect(Number(root['@errors'])).toBe(all.filter((c) => c.error).length);
  expect(Number(root['@skipped'])).toBe(all.filter((c) => c.skipped).length);
  for (const c of all) {
    expect(c['@name']).not.toBe('');
    expect(c['@classname']).not.toBe('');
    expect(c['@time']).toMatch(/^\d+\.\d{3}$/);
    // At most one verdict element per testcase.
    expect([c.failure, c.error, c.skipped].filter(Boolean).length).toBeLessThanOrEqual(1);
  }
}

describe('formatJunitXml', () => {
  it('writes one testsuite per scenario and one testcase per level, failed with the SLO line', () => {
    const { root, suites } = parseJunit(formatJunitXml(finished()));
    expectConsistent(root, suites);
    expect(root['@name']).toBe('loadbench fixture');
    expect([root['@tests'], root['@failures'], root['@errors'], root['@skipped']]).toEqual(['6', '1', '0', '0']);
    expect(root['@timestamp']).toBe('2026-11-28T10:00:00');
    expect(suites.map((s) => s['@name'])).toEqual(['submit']);
    const cases = suites[0]!.testcase;
    expect(cases.map((c) => c['@name'])).toEqual(['concurrency 1', 'concurrency 2', 'concurrency 4', 'concurrency 8', 'concurrency 16', 'concurrency 32']);
    expect(cases.every((c) => c['@classname'] === 'submit' && c['@file'] === 'benches/submit.bench.ts' && c['@line'] === '6')).toBe(true);
    expect(cases.map((c) => c['@time'])).toEqual(Array(6).fill('5.000'));
    expect(suites[0]!['@time']).toBe('30.000');
    const failed = cases.filter((c) => c.failure);
    expect(failed.map((c) => c['@name'])).toEqual(['concurrency 32']);
    const line = 'SLO failed: scenario "submit" at concurrency 32: p95_ms = 95 ms, limit <= 50 ms';
    expect(failed[0]!.failure).toEqual({ '@message': line, '@type': 'SloFailure', '#text': line });
    expect(cases[0]!['system-out']).toBe('measured: 500 requests, 100.0 req/s, p50 4.50 ms, p95 8.00 ms, p99 12.00 ms, 0.00 % errors, 5.0 s');
  });

  it('fails a level with its baseline regression, lists every repetition that broke the SLO, and keeps the lines in the message', () => {
    const s = finished();
    const sc = s.scenarios[0]!;
    const broken = { judged: true, pass: false, checks: [{ metric: 'p95_ms' as const, limit: 10, value: 12, pass: false }] };
    sc.levels = [1, 2, 3].map((r) => fixtureLevel('submit', 4, 700, 12, { repetition: r, slo: r === 2 ? broken : { judged: true, pass: true, checks: [] } }));
    sc.workload.repetitions = 3;
    const regression = { metric: 'throughput_rps' as const, baseline: 1000, value: 700, change: -30, limit: 15, pass: false };
    s.baseline = {
      file: 'baselines/b.json',
      tolerances: { max_p95_increase_pct: 20, max_throughput_drop_pct: 15, max_error_rate_increase_pct: 1, min_requests: 200 },
      verdicts: [{ scenario: 'submit', concurrency: 4, status: 'fail', checks: [regression] }],
    };
    const slo = 'SLO failed: scenario "submit" at concurrency 4: p95_ms = 12 ms, limit <= 10 ms';
    const base = 'Baseline regression: scenario "submit" at concurrency 4: throughput_rps: throughput 1000 -> 700 req/s (-30 %, allowed -15 %)';
    s.outcome = { status: 'fail', exit_code: 1, failures: [slo, base] };
    const { root, suites } = parseJunit(formatJunitXml(s));
    expectConsistent(root, suites);
    // The outcome's lines all belong to the level: no run-level testcase.
    expect(suites.map((x) => x['@name'])).toEqual(['submit']);
    const [c] = suites[0]!.testcase;
    expect(suites[0]!.testcase).toHaveLength(1);
    expect(c!['@time']).toBe('15.000');
    expect(c!.failure!['#text']).toBe(`repetition 2: ${slo}\n${base}`);
    expect(c!.failure!['@message']).toBe(`repetition 2: ${slo}; ${base}`);
    expect(c!.failure!['@type']).toBe('SloFailure');
    expect(c!['system-out']!.split('\n')).toHaveLength(3);
  });

  it('marks a level that was not run as skipped and one that failed to run as an error', () => {
    const s = finished();
    const sc = s.scenarios[0]!;
    const notRun: SkippedLevel = { status: 'skipped', scenario: 'submit', concurrency: 64, reason: 'not run: stop_on_slo_failure, after an earlier level of this scenario broke its SLO' };
    const crashed: SkippedLevel = { status: 'skipped', scenario: 'submit', concurrency: 128, reason: 'failed to run: generator thread exited (code 1)' };
    sc.levels.push(notRun, crashed);
    const levelError = 'Level failed to run: scenario "submit" at concurrency 128: generator thread exited (code 1)';
    s.outcome!.failures.push(levelError);
    const { root, suites } = parseJunit(formatJunitXml(s));
    expectConsistent(root, suites);
    const byName = new Map(suites[0]!.testcase.map((c) => [c['@name'], c]));
    expect(byName.get('concurrency 64')!.skipped).toEqual({ '@message': notRun.reason });
    expect(byName.get('concurrency 64')!['@time']).toBe('0.000');
    expect(byName.get('concurrency 128')!.error).toEqual({ '@message': levelError, '@type': 'LevelError', '#text': levelError });
    expect([root['@failures'], root['@errors'], root['@skipped']]).toEqual(['1', '1', '1']);
  });

  it('fails a "run" testcase with the failures that belong to no level, so a failed run is never all green', () => {
    const s = kneeSummary();
    for (const l of levelsOf(s.scenarios[0]!)) l.slo = { judged: true, pass: true, checks: [] };
    const missing = 'Baseline check failed: baselines/x.json: no such summary: write one with `npx loadbench baseline <run_label>`';
    s.outcome = { status: 'fail', exit_code: 1, failures: [missing] };
    const { root, suites } = parseJunit(formatJunitXml(s));
    expectConsistent(root, suites);
    expect(suites.map((x) => x['@name'])).toEqual(['submit', 'loadbench run']);
    expect(suites[1]!.testcase[0]!.failure).toEqual({ '@message': missing, '@type': 'RunFailure', '#text': missing });
    expect(root['@failures']).toBe('1');

    s.outcome = { status: 'interrupted', exit_code: 130, failures: [] };
    const interrupted = parseJunit(formatJunitXml(s));
    expect(interrupted.suites[1]!.testcase[0]!.error!['@type']).toBe('Interrupted');

    // Written after each level, before the verdict: the levels so far, nothing for the run.
    delete s.outcome;
    expect(parseJunit(formatJunitXml(s)).suites.map((x) => x['@name'])).toEqual(['submit']);
  });

  it('stays well-formed with hostile names and messages: markup escaped, characters XML cannot hold dropped', () => {
    const s = finished();
    const name = 'a<b>&"c"\'d\u0001\u0008\uFFFE\uD800 ✓ 😀\ttab\nline';
    const sc = s.scenarios[0]!;
    sc.name = name;
    sc.file = 'benches/x&y.bench.ts';
    for (const l of sc.levels) l.scenario = name;
    s.outcome = { status: 'fail', exit_code: 1, failures: describeSloFailures(name, 32, levelsOf(sc)[5]!.slo) };
    const xml = formatJunitXml(s);
    expect(xml).not.toMatch(/[\u0001\u0008\uFFFE]/);
    const { root, suites } = parseJunit(xml);
    expectConsistent(root, suites);
    // Attribute values keep tabs and line breaks as character references; the parser gives them back.
    const kept = 'a<b>&"c"\'d ✓ 😀\ttab\nline';
    expect(suites[0]!['@name']).toBe(kept);
    expect(suites[0]!.testcase[0]!['@classname']).toBe(kept);
    expect(suites[0]!.testcase[0]!['@file']).toBe('benches/x&y.bench.ts');
    expect(suites[0]!.testcase[5]!.failure!['#text']).toContain(`scenario "${kept}" at concurrency 32`);
    // No run-level testcase: the hostile line was still matched to its level.
    expect(suites).toHaveLength(1);
  });

  it('escapes text and attributes', () => {
    expect(xmlText('a < b && c > d')).toBe('a &lt; b &amp;&amp; c &gt; d');
    expect(xmlAttr('say "hi"\n\tnow\r')).toBe('say &quot;hi&quot;&#10;&#9;now&#13;');
    expect(xmlText('\u0000x\u001fy\uDC00z')).toBe('xyz');
  });
});
