/**
 * What a finished run shows on GitHub Actions (`GITHUB_ACTIONS=true`): one `::error` workflow
 * command per broken SLO, baseline regression or level that could not run, pointing at the
 * `scenario()` call in its bench file (GitHub shows it on that line of the pull request's diff),
 * and a Markdown job summary for `$GITHUB_STEP_SUMMARY`: the verdict, the results table and the
 * report's findings. Pure.
 */
import { outputName } from '../../core/model/outputs.ts';
import { levelName, type RunSummary } from '../../core/model/summary.ts';
import { describeBaselineNotJudged } from '../../core/model/verdict-lines.ts';
import { codeSpan, escapeMarkdown } from '../report/markdown.ts';
import type { ReportView } from '../report/report-model.ts';
import { levelFailures, runFailures } from './level-failures.ts';

/** A workflow command's message: `%`, CR and LF encoded (GitHub's escaping of command data). */
export function escapeCommandData(text: string): string {
  return text.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
}

/** A workflow command's property value: the message's escaping, plus `:` and `,`, which end a property. */
export function escapeCommandProperty(text: string): string {
  return escapeCommandData(text).replace(/:/g, '%3A').replace(/,/g, '%2C');
}

function errorCommand(message: string, where: { file?: string; line?: number }, title: string): string {
  const props = [
    ...(where.file ? [`file=${escapeCommandProperty(where.file)}`] : []),
    ...(where.file && where.line ? [`line=${where.line}`] : []),
    `title=${escapeCommandProperty(title)}`,
  ];
  return `::error ${props.join(',')}::${escapeCommandData(message)}`;
}

/**
 * The `::error` annotations of a run: one per distinct failure line, at the `scenario()` call of
 * its scenario when the summary knows it (bench files; not scenarios run through `runSweep()`),
 * and one per failure of the run as a whole (a missing baseline file, an output not written).
 */
export function formatAnnotations(summary: RunSummary): string[] {
  const levels = levelFailures(summary);
  const out: string[] = [];
  const seen = new Set<string>();
  for (const level of levels) {
    const where = { file: level.scenario.file || undefined, line: level.scenario.line };
    const at = `scenario "${level.scenario.name}" at ${levelName(level.results[0] ?? level.concurrency)}`;
    const lines: [string, string][] = [
      ...level.errors.map((x): [string, string] => [x.line, `loadbench: level failed to run (${at})`]),
      ...level.slo.map((x): [string, string] => [x.line, `loadbench: SLO failed (${at})`]),
      ...level.baseline.map((line): [string, string] => [line, `loadbench: baseline regression (${at})`]),
    ];
    for (const [line, title] of lines) {
      if (seen.has(line)) continue;
      seen.add(line);
      out.push(errorCommand(line, where, title));
    }
  }
  for (const line of runFailures(summary, levels)) out.push(errorCommand(line, {}, 'loadbench: run failed'));
  // Issue 13: a baseline not judged here (another machine or workload) is a warning; with baseline.strict it is a failure above.
  const failed = new Set(summary.outcome?.failures ?? []);
  for (const line of summary.baseline ? describeBaselineNotJudged(summary.baseline, summary.run_label) : []) {
    if (![...failed].some((f) => f.startsWith(line))) out.push(`::warning title=${escapeCommandProperty('loadbench: baseline not judged')}::${escapeCommandData(line)}`);
  }
  if (summary.outcome?.status === 'interrupted') {
    out.push(`::warning title=${escapeCommandProperty('loadbench: run interrupted')}::${escapeCommandData('The run was interrupted: the outputs hold the levels measured before the cut.')}`);
  }
  return out;
}

/**
 * The job summary of a run, in GitHub-flavoured Markdown: its verdict and failure lines, the
 * results table and the findings of the report (`view`, built from the same summary), and where
 * the charts and the full report are. Appended to `$GITHUB_STEP_SUMMARY`.
 */
export function formatStepSummary(summary: RunSummary, view: ReportView): string {
  const outcome = summary.outcome;
  const levels = levelFailures(summary);
  const failed = levels.filter((l) => l.slo.length || l.baseline.length || l.errors.length).length;
  const verdict =
    outcome?.status === 'interrupted'
      ? 'interrupted'
      : outcome?.status === 'fail'
        ? `failed${failed ? ` (${failed} of ${levels.length} level${levels.length === 1 ? '' : 's'})` : ''}`
        : outcome?.status === 'pass'
          ? `passed (${levels.length} level${levels.length === 1 ? '' : 's'})`
          : 'not finished';
  const lines = [`## loadbench run ${codeSpan(summary.run_label)}: ${verdict}`, ''];
  if (outcome?.failures.length) {
    lines.push(...outcome.failures.map((f) => `- ${escapeMarkdown(f, 1000)}`), '');
  }
  lines.push('### Results', '', view.results_table_md, '');
  if (view.baseline_md) lines.push(view.baseline_md.replace(/^## /, '### '), '');
  lines.push('### Findings', '');
  for (const f of view.findings) {
    if (view.findings.length > 1) lines.push(`#### Scenario ${codeSpan(f.scenario)}`, '');
    lines.push(...f.items_md.map((item) => `- ${item}`), '');
  }
  lines.push(
    `Charts and the full report: ${codeSpan(outputName(summary.run_label, 'report'))} and the PNGs beside it in the output folder (upload it as an artifact to keep them).`,
    '',
  );
  return lines.join('\n');
}
