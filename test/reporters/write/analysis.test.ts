import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCanvas, loadImage } from '@napi-rs/canvas';
import { beforeAll, describe, expect, it } from 'vitest';
import { levelsOf } from '../../fixtures/summaries.ts';
import type { MeasuredLevel, RunSummary } from '../../../core/model/summary.ts';
import { AnalysisWriteError, writeAnalysisOutputs } from '../../../reporters/write/write-analysis.ts';
import { buildReportView } from '../../../reporters/report/report-model.ts';
import { HOSTILE_MESSAGES, PLANTED_TOKEN, fixtureLevel, hostileSummary, kneeSummary, twoScenarioSummary } from '../../fixtures/summaries.ts';
import { REPO_ROOT } from '../../helpers/fixture-project.ts';
import { runLoadbench } from '../../helpers/cli.ts';

const SUFFIXES = [
  '_summary_clean.csv',
  '_throughput.png',
  '_p95_latency.png',
  '_error_rate.png',
  '_latency_distribution.png',
  '_timeline.png',
  '_report.md',
];

async function analyse(summary: RunSummary, extra: { templatePath?: string; projectRoot?: string } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'loadbench-analysis-'));
  const written = await writeAnalysisOutputs(summary, { outputDir: dir, runLabel: summary.run_label, projectRoot: REPO_ROOT, ...extra });
  return { dir, written, report: readFileSync(join(dir, `${summary.run_label}_report.md`), 'utf8') };
}

/** Width and height from the IHDR chunk, which must come first. */
function pngHeader(bytes: Buffer): { signature: string; chunk: string; width: number; height: number } {
  return {
    signature: bytes.subarray(0, 8).toString('hex'),
    chunk: bytes.subarray(12, 16).toString('latin1'),
    width: bytes.readUInt32BE(16),
    height: bytes.readUInt32BE(20),
  };
}

/** Counts pixels that are not white overall and dark ones in the title band (text drawn with a real font). */
async function pixels(path: string) {
  const img = await loadImage(readFileSync(path));
  const canvas = createCanvas(img.width, img.height);
  const ctx = canvas.getContext('2d');
  ctx.drawImage(img, 0, 0);
  const { data } = ctx.getImageData(0, 0, img.width, img.height);
  let nonWhite = 0;
  let darkInTitle = 0;
  for (let i = 0; i < data.length; i += 4) {
    const dark = data[i]! < 100 && data[i + 1]! < 100 && data[i + 2]! < 100;
    if (data[i]! < 250 || data[i + 1]! < 250 || data[i + 2]! < 250) nonWhite++;
    const y = Math.floor(i / 4 / img.width);
    if (dark && y < 40) darkInTitle++;
  }
  const px = (x: number, y: number) => [...data.subarray((y * img.width + x) * 4, (y * img.width + x) * 4 + 4)];
  return { nonWhite, darkInTitle, corners: [px(0, 0), px(img.width - 1, 0), px(0, img.height - 1), px(img.width - 1, img.height - 1)] };
}

describe('writeAnalysisOutputs', () => {
  let out: Awaited<ReturnType<typeof analyse>>;
  beforeAll(async () => {
    out = await analyse(kneeSummary());
  });

  it('writes the clean CSV, five charts and the report under their fixed names', () => {
    expect(out.written).toEqual(SUFFIXES.map((s) => join(out.dir, `fixture${s}`)));
    expect(readdirSync(out.dir).sort()).toEqual(SUFFIXES.map((s) => `fixture${s}`).sort());
  });

  it('writes valid 1200x700 PNGs with a white background, drawn lines and rendered text', async () => {
    for (const png of out.written.filter((p) => p.endsWith('.png'))) {
      expect(pngHeader(readFileSync(png)), png).toEqual({ signature: '89504e470d0a1a0a', chunk: 'IHDR', width: 1200, height: 700 });
      const p = await pixels(png);
      expect(p.corners, png).toEqual(Array(4).fill([255, 255, 255, 255]));
      expect(p.nonWhite, png).toBeGreaterThan(10_000);
      expect(p.darkInTitle, `${png}: no title text (font missing?)`).toBeGreaterThan(300);
    }
  });

  it('writes a report with every section, the results table and resolvable figure links', () => {
    const { report, dir } = out;
    for (const heading of ['## 1. Experimental setup', '## 2. Results', '## 3. Findings', '## 4. Trade-off analysis', '## 5. Conclusions and recommendations']) {
      expect(report).toContain(heading);
    }
    const links = [...report.matchAll(/!\[[^\]]*\]\(([^)]+)\)/g)].map((m) => m[1]!);
    expect(links).toEqual(['fixture_throughput.png', 'fixture_p95_latency.png', 'fixture_error_rate.png', 'fixture_latency_distribution.png', 'fixture_timeline.png']);
    for (const link of links) expect(existsSync(join(dir, link)), link).toBe(true);
    expect(report).toContain('| submit | 16 | 5,750 | 1150.00 | 12.522 | 45.000 | 67.500 | 0.00 | pass | - |');
    expect(report).toContain('| submit | 32 | 5,850 | 1160.00 | 24.828 | 95.000 | 142.500 | 0.85 | **fail** (p95_ms) | client-bound |');
  });

  it('describes the setup: environment from config.yaml, git commit, workload', () => {
    const { report } = out;
    expect(report).toContain('| Hardware | test rig: 2 cores |');
    expect(report).toContain('| Software | Node 20 (fixture) |');
    expect(report).toContain('| Nodes of the system under test | gateway=1, worker=2 |');
    expect(report).toMatch(/\| Git commit of the project \| [0-9a-f]{7,} \|/);
    expect(report).toContain('- Target: `POST http://localhost:8080/submit?token=REDACTED` (credentials removed)');
    expect(report).toContain('- Concurrency levels: 1, 2, 4, 8, 16, 32');
    expect(report).toContain('- Amount: 5 s per level, after 1 s of warm-up per level');
    expect(report).toContain('- Per-request timeout: 10 s');
    expect(report).toContain('```json\n{\n  "challenge_id": "string"\n}\n```');
  });

  it('states the findings with their numbers, and derives conclusions from them', () => {
    const { report } = out;
    expect(report).toContain('**Peak throughput**: 1160.0 req/s at concurrency 32 (p95 95.0 ms).');
    expect(report).toContain('**Knee**: at concurrency 16, throughput changed +5 % over concurrency 8 while p95 changed +125 %');
    expect(report).toContain('**Highest level meeting every SLO** (p95 ≤ 50 ms, error rate ≤ 1 %): concurrency 16, at 1150.0 req/s with p95 45.0 ms; concurrency 32 broke p95_ms.');
    expect(report).toContain('**Errors** start at concurrency 32 (0.85 %), categories from there on: timeout, http_5xx.');
    expect(report).toMatch(/Little's law.*c=1: 0\.50 \(50 %\).*At c=1 fewer than 80 %/);
    expect(report).toContain('**Load generator saturated** at c=32');
    expect(report).toContain('*Latency vs throughput*: from concurrency 1 to 32, throughput went from 100.0 to 1160.0 req/s while p95 went from 8.0 to 95.0 ms.');
    expect(report).toContain('Run at most **16 concurrent clients** to keep p95 ≤ 50 ms, error rate ≤ 1 % (measured: p95 45.0 ms at 1150.0 req/s).');
    expect(report).not.toContain('interrupted');
  });

  it('notes an interrupted run and partial levels at the top of the report', async () => {
    const s = kneeSummary();
    s.interrupted = true;
    levelsOf(s.scenarios[0]!)[5]!.status = 'partial';
    const { report } = await analyse(s);
    const top = report.split('## 1.')[0]!;
    expect(top).toContain('> **This run was interrupted.**');
    expect(top).toContain('Partial level (cut short, fewer requests than planned): submit at concurrency 32.');
  });
});

describe('report safety', () => {
  let out: Awaited<ReturnType<typeof analyse>>;
  beforeAll(async () => {
    out = await analyse(hostileSummary());
  });

  it('never writes the token, whether it came in the URL userinfo, the query or error messages', () => {
    expect(JSON.stringify(hostileSummary())).toContain(PLANTED_TOKEN);
    for (const file of out.written) expect(readFileSync(file).toString('latin1'), file).not.toContain(PLANTED_TOKEN);
    expect(out.report).toContain('`POST http://localhost:8080/submit?token=REDACTED&mode=fast`');
    expect(out.report).toContain('Bearer REDACTED');
  });

  it('escapes text from the target so it cannot break the Markdown', () => {
    const { report } = out;
    expect(report).not.toMatch(/<script>|<b>/);
    expect(report).not.toContain('[link](http://evil)');
    expect(report).toContain('upstream said \\| \\*\\*boom\\*\\* &lt;script&gt;alert(1)&lt;/script&gt; \\[link\\](http://evil) \\`code\\`');
    // Newlines inside a message would start a heading, a list or a quote: they are flattened.
    expect(report).toContain('\\# not a heading - not a list &gt; not a quote');
    expect(report.split('\n').some((line) => /^(# not|- not a list|> not)/.test(line))).toBe(false);
    // Long messages are cut to 200 characters.
    expect(report).toContain(`long: ${'x'.repeat(200 - 'timeout: long: '.length)}…`);
    expect(report).not.toContain('x'.repeat(200));
  });

  it('escapes a scenario name in headings, tables and prose', () => {
    const { report } = out;
    const escaped = 'submit \\| \\`x\\` &lt;b&gt;bold&lt;/b&gt; \\#1';
    expect(report).toContain(`### Workload: scenario "${escaped}"`);
    expect(report).toContain(`### Scenario "${escaped}"`);
    expect(report).toContain(`| ${escaped} | 1 | 500 |`);
    // Every table row keeps its 10 cells.
    const rows = report.split('\n').filter((l) => l.startsWith(`| ${escaped}`));
    expect(rows).toHaveLength(6);
    for (const row of rows) expect(row.split(/(?<!\\)\|/).length - 2).toBe(10);
  });

  it('keeps the messages (redacted) in the report view', () => {
    const view = buildReportView(hostileSummary(), { hardware: 'h', software: 's' });
    const messages = view.findings[0]!.items_md.find((i) => i.startsWith('Error messages'))!;
    expect(messages).toContain('GET http://localhost:8080/submit?token=REDACTED&x=1 failed');
    expect(messages).toContain('\\{"access\\_token":"REDACTED","ok":false\\}');
    expect(HOSTILE_MESSAGES).toHaveLength(6);
  });
});

describe("Little's law with failing levels", () => {
  it('says which levels it could not judge instead of claiming every level kept its concurrency', () => {
    const summary = kneeSummary();
    const lv = levelsOf(summary.scenarios[0]!);
    // c=1 is client-limited in the fixture; give c=2 and c=4 14 % errors: latency then covers successes only.
    for (const l of lv.filter((x) => x.concurrency === 2 || x.concurrency === 4)) l.error_rate_pct = 14;
    const view = buildReportView(summary, { hardware: 'h', software: 's' });
    const little = view.findings[0]!.items_md.find((i) => i.includes("Little's law"))!;
    expect(little).toContain('c=2: ');
    expect(little).toMatch(/c=2: [\d.]+ \(\d+ %, not judged\)/);
    expect(little).toContain('Not judged at c=2, c=4: 1 % or more of their requests failed');
    expect(little).not.toContain('Every level kept');

    for (const l of lv) l.error_rate_pct = 20;
    const none = buildReportView(summary, { hardware: 'h', software: 's' }).findings[0]!.items_md.find((i) => i.includes("Little's law"))!;
    expect(none).toContain('No level could be judged.');
  });
});

describe('runs with several scenarios or repetitions', () => {
  it('reports every scenario; the skipped level is left out', async () => {
    const { report, dir } = await analyse(twoScenarioSummary());
    expect(report).toContain('### Workload: scenario "status"');
    expect(report).toContain('### Scenario "submit"');
    expect(report).toContain('- Target: `GET http://localhost:8080/status`');
    expect(report).not.toMatch(/\| status \| 64 \|/);
    expect(report).toContain('submit: Run at most **16 concurrent clients**');
    expect(readFileSync(join(dir, 'fixture_summary_clean.csv'), 'utf8').split('\n').filter((l) => l.startsWith('status,'))).toHaveLength(3);
  });

  it('represents a repeated level by its median-throughput repetition, but shows every repetition on the timeline', async () => {
    const s = kneeSummary();
    const base = levelsOf(s.scenarios[0]!).slice(0, 2);
    const reps: MeasuredLevel[] = base.flatMap((l) =>
      [0.9, 1.1, 1].map((k, i) => fixtureLevel('submit', l.concurrency, l.throughput_rps * k, l.latency_ms.p95, { repetition: i + 1, slo: l.slo })),
    );
    s.scenarios[0]!.levels = reps;
    const { report, dir } = await analyse(s);
    const csv = readFileSync(join(dir, 'fixture_summary_clean.csv'), 'utf8').trim().split('\n');
    expect(csv.slice(1).map((l) => l.split(',').slice(1, 3).join(' '))).toEqual(['1 500', '2 1900']);
    expect(report).toContain('median repetition (#3)');
  });
});

describe('report template', () => {
  it('uses a replacement template, relative to the project root; {{x}} is escaped, {{{x}}} is not', async () => {
    const root = mkdtempSync(join(tmpdir(), 'loadbench-template-'));
    writeFileSync(join(root, 'mine.mustache'), 'Run {{run_label}} / {{#scenarios}}{{name}}{{/scenarios}}\n{{{results_table_md}}}\n');
    const s = hostileSummary();
    const { report } = await analyse(s, { projectRoot: root, templatePath: 'mine.mustache' });
    expect(report.split('\n')[0]).toBe('Run fixture / submit \\| \\`x\\` &lt;b&gt;bold&lt;/b&gt; \\#1');
    expect(report).toContain('| scenario | concurrency |');
  });

  it('names a missing template, and still writes the clean CSV and every chart (listed on the error)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'loadbench-analysis-'));
    const summary = kneeSummary();
    const failed = writeAnalysisOutputs(summary, { outputDir: dir, runLabel: summary.run_label, projectRoot: REPO_ROOT, templatePath: 'nope/missing.mustache' });
    await expect(failed).rejects.toThrow(/_report\.md: report template .*missing\.mustache: no such file/);
    const error = (await failed.catch((e: unknown) => e)) as AnalysisWriteError;
    expect(error).toBeInstanceOf(AnalysisWriteError);
    const files = SUFFIXES.filter((f) => f !== '_report.md').map((f) => join(dir, `${summary.run_label}${f}`));
    expect(error.written).toEqual(files);
    for (const f of files) expect(existsSync(f)).toBe(true);
    expect(existsSync(join(dir, `${summary.run_label}_report.md`))).toBe(false);
  });
});

describe('loadbench report (regenerate)', () => {
  function project(config?: string): string {
    const dir = mkdtempSync(join(tmpdir(), 'loadbench-regenerate-'));
    symlinkSync(join(REPO_ROOT, 'node_modules'), join(dir, 'node_modules'));
    mkdirSync(join(dir, 'runs'));
    writeFileSync(join(dir, 'runs', 'fixture_summary.json'), JSON.stringify(kneeSummary()));
    if (config) writeFileSync(join(dir, 'config.yaml'), config);
    return dir;
  }
  const run = (cwd: string, ...args: string[]) => runLoadbench(cwd, ['report', ...args]);

  it('rewrites every output from the summary, with the report: section of config.yaml read again', () => {
    const dir = project(
      'target:\n  url: http://localhost:1/submit\n  method: POST\nworkload:\n  concurrency_levels: [1]\n  duration_seconds: 1\nreport:\n  hardware_env: "rig from config"\n  num_nodes: 3\n',
    );
    const r = run(dir, 'fixture');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^loadbench report: regenerated runs\/fixture_summary_clean\.csv, .*runs\/fixture_report\.md, runs\/fixture_junit\.xml\n$/);
    for (const s of SUFFIXES) expect(existsSync(join(dir, 'runs', `fixture${s}`)), s).toBe(true);
    const report = readFileSync(join(dir, 'runs', 'fixture_report.md'), 'utf8');
    expect(report).toContain('| Hardware | rig from config |');
    expect(report).toContain('| Nodes of the system under test | 3 |');
  }, 30_000);

  it('without config.yaml, keeps the report settings stored in the summary', () => {
    const dir = project();
    const r = run(dir, 'fixture');
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('loadbench report: no config.yaml: using the report settings stored in the summary\n');
    expect(readFileSync(join(dir, 'runs', 'fixture_report.md'), 'utf8')).toContain('| Hardware | test rig: 2 cores |');
  }, 30_000);

  it('stops with one line naming the file when the summary is missing or of another version', () => {
    const dir = project();
    const missing = run(dir, 'nope');
    expect(missing.code).toBe(2);
    expect(missing.stderr).toBe(`loadbench report: ${join(dir, 'runs', 'nope_summary.json')}: no such summary: run \`npx vitest bench\` with that run_label first, or check --output-dir\n`);
    writeFileSync(join(dir, 'runs', 'old_summary.json'), JSON.stringify({ ...kneeSummary(), version: 99 }));
    const old = run(dir, 'old', '--output-dir', 'runs');
    expect(old.code).toBe(2);
    expect(old.stderr.trim().split('\n')).toHaveLength(1);
    expect(old.stderr).toContain(`${join(dir, 'runs', 'old_summary.json')}: summary format version 99, this loadbench reads versions 1 and 2`);
    const usage = run(dir);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toBe('loadbench report: expected 1 argument, got none (usage: loadbench report <run_label> [--config config.yaml] [--output-dir runs]; see loadbench report --help)\n');
  }, 30_000);
});
