/**
 * `runs/<run_label>_junit.xml`: the run as JUnit XML, the test-report format CI systems read
 * (GitLab `artifacts:reports:junit`, Jenkins `junit`, GitHub test-report actions). One
 * `<testsuite>` per scenario, one `<testcase>` per level: failed with the level's SLO and baseline
 * lines, an `<error>` when it could not run, `<skipped>` when it was not run, passed otherwise.
 * Failures of the run that belong to no level (a missing baseline file, an output that could not
 * be written, an interrupt) fail one more testcase, `run`, so that a failed run never reads as green.
 */
import { redactUrl } from '../../core/model/redaction.ts';
import { isMeasured, levelName, type LevelResult, type RunSummary } from '../../core/model/summary.ts';
import { levelFailures, runFailures, type LevelFailures } from '../ci/level-failures.ts';
import { describeBaselineNotJudged } from '../../core/model/verdict-lines.ts';

/** Characters XML 1.0 cannot hold at all (most C0 controls, lone surrogates, U+FFFE/U+FFFF): dropped. */
const NOT_XML = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu;

/** Text content, escaped. */
export function xmlText(text: string): string {
  return text.replace(NOT_XML, '').replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** An attribute value (in double quotes), escaped; line breaks and tabs kept as character references. */
export function xmlAttr(text: string): string {
  return xmlText(text).replace(/"/g, '&quot;').replace(/\n/g, '&#10;').replace(/\r/g, '&#13;').replace(/\t/g, '&#9;');
}

const attrs = (pairs: [string, string | number | undefined][]): string =>
  pairs
    .filter(([, v]) => v !== undefined && v !== '')
    .map(([k, v]) => ` ${k}="${xmlAttr(String(v))}"`)
    .join('');

/** Seconds as JUnit writes them. */
const seconds = (s: number): string => (Number.isFinite(s) && s > 0 ? s : 0).toFixed(3);

/** A timestamp as the JUnit schema has it: ISO 8601 without a time zone (here UTC). */
const timestamp = (iso: string): string | undefined => {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? undefined : d.toISOString().slice(0, 19);
};

/** The outcome of one testcase. */
type CaseResult =
  | { kind: 'passed' }
  | { kind: 'failure'; type: string; lines: string[] }
  | { kind: 'error'; type: string; lines: string[] }
  | { kind: 'skipped'; reason: string };

interface TestCaseXml {
  name: string;
  classname: string;
  file?: string;
  line?: number;
  time: number;
  result: CaseResult;
  out?: string;
}

/** The figures of a measured repetition, for the testcase's `<system-out>`. */
function figures(l: LevelResult): string {
  if (!isMeasured(l)) return `${l.repetition ? `repetition ${l.repetition}: ` : ''}not run: ${l.reason}`;
  return (
    `${l.repetition ? `repetition ${l.repetition}: ` : ''}${l.status}: ${l.requests} requests, ${l.throughput_rps.toFixed(1)} req/s, ` +
    `p50 ${l.latency_ms.p50.toFixed(2)} ms, p95 ${l.latency_ms.p95.toFixed(2)} ms, p99 ${l.latency_ms.p99.toFixed(2)} ms, ` +
    `${l.error_rate_pct.toFixed(2)} % errors, ${l.duration_s.toFixed(1)} s${l.generator.client_bound ? ', client-bound' : ''}`
  );
}

/** The testcase of one level: failed by its SLO and baseline lines, an error when a repetition could not run. */
function levelCase(level: LevelFailures): TestCaseXml {
  const rep = (x: { line: string; repetition?: number }): string => (x.repetition ? `repetition ${x.repetition}: ${x.line}` : x.line);
  const failures = [...level.slo.map(rep), ...level.baseline];
  const errors = level.errors.map(rep);
  const measured = level.results.filter(isMeasured);
  const result: CaseResult = errors.length
    ? { kind: 'error', type: 'LevelError', lines: [...errors, ...failures] }
    : failures.length
      ? { kind: 'failure', type: level.slo.length ? 'SloFailure' : 'BaselineRegression', lines: failures }
      : measured.length === 0
        ? { kind: 'skipped', reason: level.results.map((l) => (isMeasured(l) ? '' : l.reason)).find(Boolean) ?? 'not run' }
        : { kind: 'passed' };
  return {
    name: levelName(level.results[0] ?? level.concurrency),
    classname: level.scenario.name,
    file: level.scenario.file || undefined,
    line: level.scenario.line,
    time: measured.reduce((t, l) => t + l.duration_s, 0),
    result,
    out: level.results.map(figures).join('\n'),
  };
}

function testcaseXml(c: TestCaseXml, indent: string): string {
  const open = `${indent}<testcase${attrs([
    ['name', c.name],
    ['classname', c.classname],
    ['time', seconds(c.time)],
    ['file', c.file],
    ['line', c.line],
  ])}`;
  const body: string[] = [];
  const r = c.result;
  if (r.kind === 'failure' || r.kind === 'error') {
    body.push(`${indent}  <${r.kind}${attrs([['message', r.lines.join('; ')], ['type', r.type]])}>${xmlText(r.lines.join('\n'))}</${r.kind}>`);
  } else if (r.kind === 'skipped') {
    body.push(`${indent}  <skipped${attrs([['message', r.reason]])}/>`);
  }
  if (c.out) body.push(`${indent}  <system-out>${xmlText(c.out)}</system-out>`);
  return body.length ? `${open}>\n${body.join('\n')}\n${indent}</testcase>` : `${open}/>`;
}

function count(cases: TestCaseXml[]) {
  return {
    tests: cases.length,
    failures: cases.filter((c) => c.result.kind === 'failure').length,
    errors: cases.filter((c) => c.result.kind === 'error').length,
    skipped: cases.filter((c) => c.result.kind === 'skipped').length,
    time: cases.reduce((t, c) => t + c.time, 0),
  };
}

function suiteXml(name: string, cases: TestCaseXml[], extra: [string, string | number | undefined][], properties: [string, string][], started: string): string {
  const n = count(cases);
  const head = `  <testsuite${attrs([
    ['name', name],
    ['tests', n.tests],
    ['failures', n.failures],
    ['errors', n.errors],
    ['skipped', n.skipped],
    ['time', seconds(n.time)],
    ['timestamp', timestamp(started)],
    ...extra,
  ])}>`;
  const props = properties.length
    ? [`    <properties>`, ...properties.map(([k, v]) => `      <property${attrs([['name', k], ['value', v]])}/>`), `    </properties>`]
    : [];
  return [head, ...props, ...cases.map((c) => testcaseXml(c, '    ')), '  </testsuite>'].join('\n');
}

/**
 * The JUnit XML of a finished run (its `outcome` set), or of one still running (every level so
 * far, no run-level verdict). Pure.
 */
export function formatJunitXml(summary: RunSummary): string {
  const suites: { name: string; cases: TestCaseXml[]; extra: [string, string | number | undefined][]; properties: [string, string][] }[] = [];
  const levels = levelFailures(summary);
  for (const s of summary.scenarios) {
    suites.push({
      name: s.name,
      cases: levels.filter((l) => l.scenario === s).map(levelCase),
      extra: [['file', s.file || undefined]],
      properties: [
        ['run_label', summary.run_label],
        ['target', `${s.workload.method} ${redactUrl(s.workload.url)}`],
      ],
    });
  }
  const outcome = summary.outcome;
  const others = runFailures(summary, levels);
  // Issue 13: a baseline not judged here is a skipped testcase "baseline" (a failure of "run" instead with baseline.strict).
  const notJudged = summary.baseline ? describeBaselineNotJudged(summary.baseline, summary.run_label) : [];
  if (notJudged.length && !others.some((f) => notJudged.some((line) => f.startsWith(line)))) {
    suites.push({
      name: 'loadbench baseline',
      cases: [{ name: 'baseline', classname: 'loadbench', time: 0, result: { kind: 'skipped', reason: notJudged.join('; ') } }],
      extra: [],
      properties: [['run_label', summary.run_label], ['baseline', summary.baseline!.file]],
    });
  }
  if (others.length || outcome?.status === 'interrupted') {
    const lines = outcome?.status === 'interrupted' ? ['The run was interrupted: the levels after the cut were not run.', ...others] : others;
    suites.push({
      name: 'loadbench run',
      cases: [
        {
          name: 'run',
          classname: 'loadbench',
          time: 0,
          result: outcome?.status === 'interrupted' ? { kind: 'error', type: 'Interrupted', lines } : { kind: 'failure', type: 'RunFailure', lines },
        },
      ],
      extra: [],
      properties: [['run_label', summary.run_label]],
    });
  }
  const all = count(suites.flatMap((s) => s.cases));
  const wall = (new Date(summary.finished_at).getTime() - new Date(summary.started_at).getTime()) / 1000;
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites${attrs([
      ['name', `loadbench ${summary.run_label}`],
      ['tests', all.tests],
      ['failures', all.failures],
      ['errors', all.errors],
      ['skipped', all.skipped],
      ['time', seconds(Number.isFinite(wall) ? wall : all.time)],
      ['timestamp', timestamp(summary.started_at)],
    ])}>`,
    ...suites.map((s) => suiteXml(s.name, s.cases, s.extra, s.properties, summary.started_at)),
    '</testsuites>',
    '',
  ].join('\n');
}
