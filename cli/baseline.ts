/**
 * `npm run baseline -- <run_label> [--out baselines/<run_label>.json] [--output-dir runs]`
 *
 * Copies a run's JSON summary to a baseline file, to be committed and reviewed like code;
 * config.yaml `baseline.file` then makes `npx vitest bench` fail when a later run regresses.
 */
import { existsSync } from 'node:fs';
import { relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { OutputPathError, SummaryFileError } from '../core/errors.ts';
import { outputFile } from '../core/model/outputs.ts';
import { readRunSummary } from '../core/model/read-summary.ts';
import { writeFileAtomic } from '../reporters/write/write-atomic.ts';

const USAGE = 'usage: npm run baseline -- <run_label> [--out baselines/<run_label>.json] [--output-dir runs]';

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { out: { type: 'string' }, 'output-dir': { type: 'string' }, help: { type: 'boolean', short: 'h' } },
  });
  if (values.help || positionals.length !== 1) {
    process.stderr.write(`${USAGE}\n`);
    return values.help ? 0 : 2;
  }
  const root = process.cwd();
  const label = positionals[0]!;
  const summary = await readRunSummary(outputFile(root, values['output-dir'] ?? 'runs', label, 'summaryJson'));
  if (summary.interrupted) throw new SummaryFileError(`run "${label}" was interrupted: a baseline needs a complete run`);
  delete summary.baseline;
  delete summary.outcome;
  const out = resolve(root, values.out ?? `baselines/${label}.json`);
  // Replacing a baseline is the normal way to accept a change; say so, so that it is never a surprise in the diff.
  const replaced = existsSync(out);
  await writeFileAtomic(out, `${JSON.stringify(summary, null, 1)}\n`);
  process.stdout.write(
    `loadbench: ${replaced ? 'replaced' : 'wrote'} baseline ${relative(root, out)} with run "${label}" (${summary.finished_at}); ` +
      `review and commit it${replaced ? ' (git diff shows what changed)' : `, and set config.yaml baseline.file: ${relative(root, out)}`}\n`,
  );
  return 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    const known = error instanceof SummaryFileError || error instanceof OutputPathError;
    process.stderr.write(`loadbench baseline: ${known ? (error as Error).message : String((error as Error).stack ?? error)}\n`);
    process.exit(2);
  },
);
