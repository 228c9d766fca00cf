import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SummaryFileError } from '../../../core/errors.ts';
import { parseRunSummary, readRunSummary } from '../../../core/model/read-summary.ts';
import { SUMMARY_FORMAT_VERSION, runSummarySchema } from '../../../core/model/summary.ts';
import { REPO_ROOT } from '../../helpers/fixture-project.ts';
import { kneeSummary, twoScenarioSummary } from '../../fixtures/summaries.ts';

const file = (data: unknown): string => {
  const path = join(mkdtempSync(join(tmpdir(), 'loadbench-summary-')), 'x_summary.json');
  writeFileSync(path, JSON.stringify(data));
  return path;
};

describe('the summary contract', () => {
  it('accepts what loadbench writes, unchanged', () => {
    for (const s of [kneeSummary(), twoScenarioSummary()]) expect(parseRunSummary(JSON.parse(JSON.stringify(s)), 'x')).toEqual(s);
  });

  it('names the field of a hand-edited file that is wrong, and the file', async () => {
    const s = JSON.parse(JSON.stringify(kneeSummary()));
    s.scenarios[0].levels[1].throughput_rps = 'fast';
    delete s.scenarios[0].levels[2].latency_ms.p95;
    const path = file(s);
    await expect(readRunSummary(path)).rejects.toThrow(SummaryFileError);
    const message = await readRunSummary(path).catch((e: Error) => e.message);
    expect(message).toContain(path);
    expect(message).toMatch(/scenarios\.0\.levels\.1\.throughput_rps: .*number/);
    expect(message).toMatch(/scenarios\.0\.levels\.2\.latency_ms\.p95: /);
  });

  it('refuses a level status it does not know, and a foreign JSON file', async () => {
    const s = JSON.parse(JSON.stringify(kneeSummary()));
    s.scenarios[0].levels[0].status = 'done';
    await expect(readRunSummary(file(s))).rejects.toThrow(/scenarios\.0\.levels\.0\.status/);
    await expect(readRunSummary(file({ hello: 'world' }))).rejects.toThrow(/not a loadbench summary/);
  });

  it('reads a version 1 summary (flags and zero-filled skipped levels) as version 2 statuses', async () => {
    const v2 = twoScenarioSummary();
    // Version 1 as loadbench 0.1 wrote it: partial/skipped flags, a skipped level full of zeros.
    const v1 = JSON.parse(JSON.stringify(v2));
    v1.version = 1;
    for (const s of v1.scenarios) {
      s.levels = s.levels.map((l: Record<string, unknown>) =>
        l.status === 'skipped'
          ? { ...JSON.parse(JSON.stringify(v2.scenarios[1]!.levels[0])), scenario: l.scenario, concurrency: l.concurrency, requests: 0, successes: 0, throughput_rps: 0, partial: false, skipped: true }
          : { ...l, partial: l.status === 'partial', skipped: false },
      );
      for (const l of s.levels) delete l.status;
    }
    v1.scenarios[1].levels[2].partial = true;
    const read = await readRunSummary(file(v1));
    expect(read.version).toBe(SUMMARY_FORMAT_VERSION);
    expect(read.scenarios.map((s) => s.levels.map((l) => l.status))).toEqual([
      ['measured', 'measured', 'measured', 'skipped'],
      ['measured', 'measured', 'partial', 'measured', 'measured', 'measured'],
    ]);
    expect(read.scenarios[0]!.levels[3]).toEqual({ status: 'skipped', scenario: 'status', concurrency: 64, reason: expect.stringContaining('stop_on_slo_failure') });
  });

  it('reads the committed baselines', async () => {
    for (const name of ['submit-1x', 'submit-2x', 'submit-4x']) {
      const s = await readRunSummary(join(REPO_ROOT, 'baselines', `${name}.json`));
      expect(runSummarySchema.safeParse(s).success).toBe(true);
      expect(s.scenarios[0]!.levels.every((l) => l.status === 'measured')).toBe(true);
    }
    expect(JSON.parse(readFileSync(join(REPO_ROOT, 'baselines/submit-2x.json'), 'utf8')).format).toBe('loadbench-summary');
  });
});
