import { readFile } from 'node:fs/promises';
import { SUMMARY_FORMAT, SUMMARY_FORMAT_VERSION, type RunSummary } from '../../plugin/types.ts';

/** A summary file that is missing or not a loadbench summary of this version; the message names the file. */
export class SummaryFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SummaryFileError';
  }
}

/**
 * Reads `runs/<label>_summary.json` and checks its format tag and version.
 * @throws SummaryFileError with one line naming the file and what to do
 */
export async function readRunSummary(path: string): Promise<RunSummary> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    throw new SummaryFileError(`${path}: no such summary: run \`npx vitest bench\` with that run_label first, or check --output-dir`);
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    throw new SummaryFileError(`${path}: not valid JSON (${(error as Error).message})`);
  }
  const d = data as Partial<RunSummary> | null;
  if (!d || d.format !== SUMMARY_FORMAT) {
    throw new SummaryFileError(`${path}: not a loadbench summary (expected "format": "${SUMMARY_FORMAT}")`);
  }
  if (d.version !== SUMMARY_FORMAT_VERSION) {
    throw new SummaryFileError(
      `${path}: summary format version ${String(d.version)}, this loadbench reads version ${SUMMARY_FORMAT_VERSION}: rerun the benchmark with this version`,
    );
  }
  if (!Array.isArray(d.scenarios)) throw new SummaryFileError(`${path}: summary has no "scenarios" list`);
  return d as RunSummary;
}
