/**
 * `loadbench baseline <run_label> [--out baselines/<run_label>.json]`: copies a run's JSON summary
 * to a baseline file, to be committed and reviewed like code; config.yaml `baseline.file` then
 * makes `npx vitest bench` fail when a later run regresses.
 */
import { existsSync } from 'node:fs';
import { relative, resolve } from 'node:path';
import { SummaryFileError } from '../core/errors.ts';
import { machineFingerprint } from '../core/gates/fingerprint.ts';
import { outputFile } from '../core/model/outputs.ts';
import { readRunSummary } from '../core/model/read-summary.ts';
import { isMeasured } from '../core/model/summary.ts';
import { writeFileAtomic } from '../reporters/write/write-atomic.ts';
import { defineCommand } from './command.ts';

export default defineCommand({
  name: 'baseline',
  summary: "copy a run's summary to a baseline file for the regression gate (config.yaml baseline.file)",
  args: '<run_label> [--out baselines/<run_label>.json] [--output-dir runs]',
  positionals: { min: 1, max: 1 },
  help: [
    'Copies runs/<run_label>_summary.json (a complete run, not an interrupted one) to a baseline file, without its ' +
      'verdicts. Commit it in a reviewed change and set config.yaml baseline.file to it: `npx vitest bench` then exits 1 ' +
      'when a level regresses beyond the baseline tolerances. Replacing a baseline is how a change is accepted.',
    'The baseline keeps the machine fingerprint (CPU, memory, OS, Node, calibration score) and the workload hash of the run: ' +
      'a run on a machine whose calibration differs by more than baseline.calibration_margin_pct, or with another workload, is not judged ' +
      '(exit 0, or 1 with baseline.strict: true).',
  ],
  options: {
    out: { type: 'string', value: 'file', description: 'the baseline file to write (default: baselines/<run_label>.json)' },
    'output-dir': { type: 'string', value: 'dir', description: "folder of the run's summary (default: runs)" },
  },
  exitStatus: '0 written; 2 usage error, a missing, unreadable or interrupted summary',
  async run({ values, positionals }, io) {
    const root = io.cwd;
    const label = positionals[0]!;
    const summary = await readRunSummary(outputFile(root, values['output-dir'] ?? 'runs', label, 'summaryJson'));
    if (summary.interrupted) throw new SummaryFileError(`run "${label}" was interrupted: a baseline needs a complete run`);
    // A run that failed its baseline is the usual one to accept a change with; one that broke its SLOs sets the bar at a broken system.
    const sloFailed = summary.scenarios.flatMap((s) => s.levels.filter((l) => isMeasured(l) && l.slo.judged && !l.slo.pass).map((l) => `"${s.name}" at ${l.concurrency}`));
    delete summary.baseline;
    delete summary.outcome;
    // Issue 13: a baseline records where it was measured. A run summary has had the fingerprint
    // since loadbench recorded one; for an older one, this machine is calibrated now.
    const notes: string[] = [];
    if (!summary.machine) {
      summary.machine = machineFingerprint();
      notes.push('the run summary had no machine fingerprint: this machine was calibrated now (run the baseline command on the machine that measured the run)');
    }
    if (sloFailed.length) {
      notes.push(`run "${label}" broke its SLOs at ${sloFailed.length} level(s) (${sloFailed.slice(0, 3).join(', ')}${sloFailed.length > 3 ? ', ...' : ''}): later runs will be compared with a system that failed them; record the baseline from a run that passes its SLOs unless that is what you mean`);
    }
    const unhashed = summary.scenarios.filter((s) => !s.workload_hash).map((s) => `"${s.name}"`);
    if (unhashed.length) notes.push(`scenario ${unhashed.join(', ')} has no workload hash (an older run): the gate will not judge it; rerun and write the baseline again`);
    const m = summary.machine;
    const out = resolve(root, values.out ?? `baselines/${label}.json`);
    // Replacing a baseline is the normal way to accept a change; say so, so that it is never a surprise in the diff.
    const replaced = existsSync(out);
    await writeFileAtomic(out, `${JSON.stringify(summary, null, 1)}\n`);
    io.out(
      `loadbench baseline: ${replaced ? 'replaced' : 'wrote'} baseline ${relative(root, out)} with run "${label}" (${summary.finished_at}); ` +
        `review and commit it${replaced ? ' (git diff shows what changed)' : `, and set config.yaml baseline.file: ${relative(root, out)}`}`,
    );
    io.out(
      `loadbench baseline: recorded on ${m.cpu_model}, ${m.logical_cpus} logical CPUs, ${(m.memory_bytes / 1024 ** 3).toFixed(1)} GiB, ` +
        `${m.os}, Node ${m.node}; calibration score ${m.calibration.ms} ms (runs elsewhere are judged against it only within baseline.calibration_margin_pct)`,
    );
    for (const note of notes) io.out(`loadbench baseline: note: ${note}`);
    return 0;
  },
});
