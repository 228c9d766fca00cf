import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { CliIo } from '../../cli/command.ts';
import { runCli } from '../../cli/main.ts';
import { measuredLevels } from '../../core/model/summary.ts';
import { kneeSummary } from '../fixtures/summaries.ts';

/** `loadbench baseline <label>` in-process, in a scratch project holding runs/<label>_summary.json. */
async function baseline(summary: ReturnType<typeof kneeSummary>) {
  const cwd = mkdtempSync(join(tmpdir(), 'loadbench-baseline-'));
  mkdirSync(join(cwd, 'runs'));
  writeFileSync(join(cwd, 'runs', `${summary.run_label}_summary.json`), JSON.stringify(summary));
  const out: string[] = [];
  const err: string[] = [];
  const io: CliIo = { cwd, env: {}, out: (l) => out.push(l), err: (l) => err.push(l) };
  const code = await runCli(['baseline', summary.run_label, '--out', 'baselines/b.json'], io);
  return { code, out, err, written: () => JSON.parse(readFileSync(join(cwd, 'baselines/b.json'), 'utf8')) };
}

describe('loadbench baseline', () => {
  it('writes the baseline with its fingerprint and says where it was recorded', async () => {
    const s = kneeSummary();
    for (const l of measuredLevels(s.scenarios[0]!)) l.slo = { judged: true, pass: true, checks: [] };
    const r = await baseline(s);
    expect(r.code, r.err.join('\n')).toBe(0);
    expect(r.out[0]).toMatch(/^loadbench baseline: wrote baseline baselines\/b\.json with run "/);
    expect(r.out[1]).toMatch(/^loadbench baseline: recorded on .+ logical CPUs, .+; calibration score [\d.]+ ms/);
    expect(r.out.join('\n')).not.toMatch(/broke its SLOs/);
    expect(r.written().machine.calibration.ms).toBeGreaterThan(0);
  });

  it('writes a run that broke its SLOs too, with a note: later runs would be compared with a broken system', async () => {
    const s = kneeSummary();
    const failing = measuredLevels(s.scenarios[0]!).filter((l) => !l.slo.pass).map((l) => l.concurrency);
    expect(failing.length).toBeGreaterThan(0);
    const r = await baseline(s);
    expect(r.code).toBe(0);
    expect(r.out).toContain(
      `loadbench baseline: note: run "${s.run_label}" broke its SLOs at ${failing.length} level(s) (${failing.slice(0, 3).map((c) => `"submit" at ${c}`).join(', ')}${failing.length > 3 ? ', ...' : ''}): ` +
        'later runs will be compared with a system that failed them; record the baseline from a run that passes its SLOs unless that is what you mean',
    );
  });
});
