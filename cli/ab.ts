/**
 * `loadbench ab --base <git-ref>`: the same-machine A/B gate for pull requests. Collects the
 * scenarios of the working tree's bench files, runs them against the base ref's build and the
 * working tree's build ABBA-interleaved (core/ab/run-ab.ts), and writes
 * `<output_dir>/ab_<base>_<head>_*`: each side's summary JSON and CSV, the comparison CSV, the
 * verdicts as JSON, charts of throughput and p95 with both sides and their spread, and a report.
 */
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { appendFile, readFile, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import Mustache from 'mustache';
import { runAb, type AbResult } from '../core/ab/run-ab.ts';
import { AB_OUTPUTS, outputDir } from '../core/model/outputs.ts';
import { levelName, type RunSummary } from '../core/model/summary.ts';
import { collectScenarios } from '../core/scenario/collect.ts';
import { renderChartPng } from '../reporters/charts/render-chart.ts';
import { escapeCommandData, escapeCommandProperty } from '../reporters/ci/github-actions.ts';
import { abCharts, abVerdictTable } from '../reporters/compare/ab-outputs.ts';
import { compareRuns } from '../reporters/compare/compare-model.ts';
import { compareReportView, formatCompareCsv } from '../reporters/compare/compare-outputs.ts';
import { escapeMarkdown } from '../reporters/report/markdown.ts';
import { createRunOutputs } from '../reporters/write/run-outputs.ts';
import { writeFileAtomic } from '../reporters/write/write-atomic.ts';
import { UsageError, defineCommand, type CliIo } from './command.ts';

const TEMPLATE = new URL('../reporters/templates/ab.md.mustache', import.meta.url);
const BENCH_FILE = /\.(bench|benchmark)\.[cm]?[jt]sx?$/;
const TYPESCRIPT = /\.[cm]?tsx?$/;

/** The bench files to collect: the given ones, else every `*.bench.ts` under benches/ (in path order). */
export function benchFiles(root: string, given: readonly string[]): string[] {
  if (given.length) {
    return given.map((f) => {
      const path = resolve(root, f);
      if (!existsSync(path) || !statSync(path).isFile()) throw new UsageError(`bench file ${f}: no such file`);
      return path;
    });
  }
  const dir = join(root, 'benches');
  if (!existsSync(dir)) throw new UsageError('no benches/ folder: name the bench files to run, e.g. loadbench ab --base main benches/submit.bench.ts');
  const files = readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => BENCH_FILE.test(f) && !f.split(/[\\/]/).includes('node_modules'))
    .map((f) => join(dir, f))
    .sort();
  if (!files.length) throw new UsageError('no *.bench.ts file under benches/: name the bench files to run');
  return files;
}

/** Imports one bench file: TypeScript through tsx (the bench files are Vitest's, written in TypeScript), JavaScript as it is. */
async function importBench(file: string): Promise<unknown> {
  const url = pathToFileURL(file).href;
  if (!TYPESCRIPT.test(file)) return import(url);
  let api: { tsImport: (specifier: string, parent: string) => Promise<unknown> };
  try {
    api = (await import('tsx/esm/api')) as typeof api;
  } catch {
    throw new UsageError(`${file} is TypeScript: loadbench ab imports bench files with tsx outside Vitest; install it (npm install --save-dev tsx)`);
  }
  if (/\.ts$/.test(file) && !inModuleScope(file)) {
    // Outside a "type": "module" package, tsx would load a .ts file as CommonJS, which cannot
    // import loadbench (an ES module with top-level await). The same file as .mts, beside it so
    // that its relative imports resolve, is an ES module wherever it is.
    const copy = join(dirname(file), `.${basename(file, '.ts')}.loadbench-ab-${process.pid}.mts`);
    await writeFile(copy, await readFile(file));
    try {
      return await api.tsImport(pathToFileURL(copy).href, import.meta.url);
    } finally {
      await rm(copy, { force: true });
    }
  }
  return api.tsImport(url, import.meta.url);
}

/** True when the nearest package.json above `file` says `"type": "module"`. */
function inModuleScope(file: string): boolean {
  for (let dir = dirname(file); ; dir = dirname(dir)) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg)) {
      try {
        return (JSON.parse(readFileSync(pkg, 'utf8')) as { type?: string }).type === 'module';
      } catch {
        return false;
      }
    }
    if (dirname(dir) === dir) return false;
  }
}

const signed = (x: number): string => (Number.isFinite(x) ? `${x >= 0 ? '+' : ''}${x.toFixed(1)}` : x > 0 ? '+inf' : '-inf');

/** Writes the comparison files of a finished (or interrupted) A/B run; returns the paths and the problems. */
async function writeComparison(root: string, dir: string, result: AbResult): Promise<{ written: string[]; problems: string[] }> {
  const { base, head } = result.summaries;
  const written: string[] = [];
  const problems: string[] = [];
  const out = outputDir(root, dir);
  const put = async (suffix: string, data: () => string | Buffer | Promise<string | Buffer>): Promise<void> => {
    const path = join(out, `${result.prefix}${suffix}`);
    try {
      await writeFileAtomic(path, await data());
      written.push(path);
    } catch (error) {
      problems.push(`${result.prefix}${suffix}: ${(error as Error).message}`);
    }
  };
  await put(AB_OUTPUTS.verdictJson, () =>
    `${JSON.stringify(
      {
        format: 'loadbench-ab',
        version: 1,
        base: { ref: result.baseRef, commit: result.baseCommit, port: result.ports.base, run_label: `${result.prefix}_base` },
        head: { name: result.headName, port: result.ports.head, run_label: `${result.prefix}_head` },
        repetitions: result.repetitions,
        schedule: 'ABBA',
        tolerances: result.tolerances,
        dependencies: result.dependencies,
        outcome: result.outcome,
        verdicts: result.verdicts,
      },
      null,
      1,
    )}\n`,
  );
  if (!base || !head) return { written, problems };
  // The sides differ in their port by design: compared with the port as the placeholder, the differences listed are real ones.
  const unported = (summary: RunSummary, port: number): RunSummary => ({
    ...summary,
    scenarios: summary.scenarios.map((s) => ({ ...s, workload: { ...s.workload, url: s.workload.url.replace(`:${port}/`, ':{{port}}/') } })),
  });
  const comparison = compareRuns(
    [
      { label: 'base', summary: unported(base, result.ports.base), replicas: 1, replicasFrom: 'command line' },
      { label: 'head', summary: unported(head, result.ports.head), replicas: 1, replicasFrom: 'command line' },
    ],
    1,
  );
  await put(AB_OUTPUTS.summaryCsv, () => formatCompareCsv(comparison));
  const sides = [
    { label: `base ${result.baseRef}`, summary: base },
    { label: `head (working tree, ${result.headName})`, summary: head },
  ];
  const charts = abCharts(sides);
  await put(AB_OUTPUTS.throughputChart, () => renderChartPng(charts.throughput));
  await put(AB_OUTPUTS.latencyChart, () => renderChartPng(charts.p95_latency));
  const view = compareReportView(comparison, result.prefix);
  const notJudged = result.verdicts.filter((v) => v.status === 'not_judged');
  await put(AB_OUTPUTS.report, async () =>
    Mustache.render(await readFile(TEMPLATE, 'utf8'), {
      base_ref: result.baseRef,
      base_commit: result.baseCommit.slice(0, 12),
      head_name: result.headName,
      base_label: `${result.prefix}_base`,
      head_label: `${result.prefix}_head`,
      base_port: result.ports.base,
      head_port: result.ports.head,
      repetitions: result.repetitions,
      tolerances: result.tolerances,
      dependencies: result.dependencies.replace(/^base dependencies: /, 'dependencies: '),
      verdict: result.outcome.status === 'pass' ? 'no regression' : result.outcome.status === 'fail' ? 'REGRESSED' : 'interrupted',
      exit_code: result.outcome.exit_code,
      interrupted: result.outcome.status === 'interrupted',
      has_failures: result.failures.length > 0,
      failures_md: result.failures.map((f) => escapeMarkdown(f, 1000)),
      verdict_table_md: abVerdictTable(result.verdicts),
      has_not_judged: notJudged.length > 0,
      not_judged_md: notJudged.map((v) => escapeMarkdown(`${v.scenario}, ${levelName(v)}: ${v.reason}`, 1000)),
      has_differences: view.has_differences,
      differences_md: view.differences_md,
      has_caveats: view.has_caveats,
      caveats_md: view.caveats_md,
      table_md: view.table_md,
      charts: [
        { title: 'Throughput', file: `${result.prefix}${AB_OUTPUTS.throughputChart}` },
        { title: 'p95 latency', file: `${result.prefix}${AB_OUTPUTS.latencyChart}` },
      ],
    }),
  );
  return { written, problems };
}

/**
 * On GitHub Actions: one `::error` annotation per regression (on stdout, where the runner reads
 * workflow commands), and the report appended to the job summary. Returns what could not be written.
 */
async function publishToGitHub(root: string, result: AbResult, written: string[], io: CliIo): Promise<string[]> {
  for (const line of result.failures) io.out(`::error title=${escapeCommandProperty('loadbench ab')}::${escapeCommandData(line)}`);
  const summaryFile = io.env.GITHUB_STEP_SUMMARY;
  const report = written.find((p) => p.endsWith(`${result.prefix}${AB_OUTPUTS.report}`));
  if (!summaryFile || !report) return [];
  try {
    // The charts are files in runs/, not reachable from the job summary: the tables say it all.
    const text = (await readFile(report, 'utf8')).replace(/^### (Throughput|p95 latency)\n\n!\[.*\n\n?/gm, '');
    await appendFile(summaryFile, `${text}\n`);
    return [];
  } catch (error) {
    return [`the GitHub job summary (GITHUB_STEP_SUMMARY=${summaryFile}, from ${relative(root, report)}): ${(error as Error).message}`];
  }
}

/** The end-of-run lines: one per judged level, then the regressions and the totals. */
function verdictLines(result: AbResult, io: CliIo): void {
  for (const v of result.verdicts) {
    if (v.status === 'not_judged') {
      io.out(`  ${v.scenario}, ${levelName(v)}: not judged: ${v.reason}`);
      continue;
    }
    const parts = v.checks.map((c) => {
      const unit = c.unit === '%' ? '%' : 'pp';
      const name = c.metric === 'throughput_rps' ? 'throughput' : c.metric === 'p95_ms' ? 'p95' : 'errors';
      return `${name} ${signed(c.change)} ${unit} (pairs ${c.pair_changes.map((x) => signed(x)).join('/')})${c.regressed ? ' REGRESSED' : ''}`;
    });
    io.out(`  ${v.scenario}, ${levelName(v)}: ${v.status === 'fail' ? 'REGRESSED' : 'ok'}: ${parts.join(', ')}`);
  }
  for (const line of result.failures) io.err(line);
  const count = (s: string): number => result.verdicts.filter((v) => v.status === s).length;
  io.out(`loadbench ab: ${count('pass')} level(s) within tolerance, ${count('fail')} regressed, ${count('not_judged')} not judged`);
}

export default defineCommand({
  name: 'ab',
  summary: 'A/B gate: the working tree against a git ref, both built and run on this machine, interleaved ABBA',
  args: '--base <git-ref> [bench files...] [--repetitions 3] [--config config.yaml]',
  positionals: { min: 0, max: Infinity },
  help: [
    'Checks the base ref out in a temporary git worktree, starts target.start in it and in the working tree at once, each on its own free port ' +
      '({{port}} in target.url, target.start.command and ready_url, and PORT in its environment), and runs the scenarios of the bench files ' +
      '(default: benches/**/*.bench.ts) against both, each level R times per side in the order A B B A. The k-th base and head ' +
      'repetitions run back to back; a metric regresses when the median of these pairs\' changes is worse than the tolerance of baseline: ' +
      '(ab: overrides it) and the head was worse in every pair.',
    'The base build shares the working tree\'s node_modules when the lockfile did not change; otherwise set ab.setup (e.g. npm ci). ' +
      'Writes runs/ab_<base>_<head>_*: _base_summary.json/.csv, _head_summary.json/.csv, _summary.csv, _verdict.json, _throughput.png, _p95_latency.png, _report.md.',
  ],
  options: {
    base: { type: 'string', value: 'git-ref', description: 'the commit to compare with: a branch, tag, HEAD~1, a hash (required)' },
    repetitions: { type: 'string', value: 'n', description: 'repetitions per side of every level (default: ab.repetitions, 3)' },
    config: { type: 'string', value: 'file', description: 'config file (default: LOADBENCH_CONFIG, else config.yaml)' },
  },
  exitStatus: '0 no regression; 1 a level regressed (or could not run); 2 usage error (not a git repository, unknown ref, no target.start, bad config); 130 interrupted',
  async run({ values, positionals }, io) {
    const root = io.cwd;
    if (!values.base) throw new UsageError('--base <git-ref> is required, e.g. --base main or --base HEAD~1');
    let repetitions: number | undefined;
    if (values.repetitions !== undefined) {
      repetitions = Number(values.repetitions);
      if (!Number.isInteger(repetitions) || repetitions < 1 || repetitions > 20) throw new UsageError(`--repetitions: found ${JSON.stringify(values.repetitions)}, expected an integer from 1 to 20`);
    }
    const files = benchFiles(root, positionals);
    const result = await runAb({
      root,
      base: values.base,
      scenarios: async () => (await collectScenarios(files, importBench)).map((c) => ({ spec: c.spec, file: relative(root, c.file) })),
      configPath: values.config,
      repetitions,
      env: io.env,
      log: (line) => io.out(line),
      makeOutputs: (config, runLabel) => {
        // Each side keeps its data (summary JSON and CSV); the charts and the report are the comparison's.
        const outputs = createRunOutputs({ root, outputDir: config.output_dir, runLabel, env: io.env });
        return {
          writeData: (summary) => outputs.writeData(summary),
          writeAnalysis: async () => ({ written: [], problems: [] }),
          endText: () => [],
          publish: async () => ({ written: [], problems: [] }),
        };
      },
    });
    verdictLines(result, io);
    const { written, problems } = await writeComparison(root, result.outputDir, result);
    if (io.env.GITHUB_ACTIONS === 'true') problems.push(...(await publishToGitHub(root, result, written, io)));
    for (const p of problems) io.err(`loadbench ab: could not write ${p}`);
    io.out(`loadbench ab: wrote ${[...result.written, ...written].map((p) => relative(root, p)).join(', ')}`);
    if (result.outcome.status === 'interrupted') io.out('loadbench ab: interrupted: the outputs hold the levels measured so far');
    return problems.length && result.outcome.exit_code === 0 ? 1 : result.outcome.exit_code;
  },
});
