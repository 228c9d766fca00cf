import { readFile } from 'node:fs/promises';
import { SummaryFileError } from '../errors.ts';
import { SUMMARY_FORMAT, SUMMARY_FORMAT_VERSION, runSummarySchema, type RunSummary } from './summary.ts';

/** A level as version 1 wrote it: flags instead of a status, zero-filled figures when skipped. */
type V1Level = Record<string, unknown> & { skipped?: unknown; partial?: unknown; scenario?: unknown; concurrency?: unknown; repetition?: unknown };

/** Version 1 summaries (loadbench 0.1) as version 2: `partial`/`skipped` flags become a `status`. Pure. */
function migrateV1(data: Record<string, unknown>): Record<string, unknown> {
  const scenarios = Array.isArray(data.scenarios) ? data.scenarios : [];
  return {
    ...data,
    version: SUMMARY_FORMAT_VERSION,
    scenarios: scenarios.map((s: Record<string, unknown>) => ({
      ...s,
      levels: (Array.isArray(s?.levels) ? s.levels : []).map((l: V1Level) => {
        const { skipped, partial, ...rest } = l;
        if (skipped === true) {
          return {
            status: 'skipped',
            scenario: l.scenario,
            concurrency: l.concurrency,
            ...(l.repetition !== undefined ? { repetition: l.repetition } : {}),
            reason: 'not run (stop_on_slo_failure after an earlier failure)',
          };
        }
        return { status: partial === true ? 'partial' : 'measured', ...rest };
      }),
    })),
  };
}

/** The first few problems zod found, each as `path: message`. */
function describeIssues(issues: readonly { path: readonly PropertyKey[]; message: string }[]): string {
  const lines = issues.slice(0, 3).map((i) => `${i.path.map(String).join('.') || '(top level)'}: ${i.message}`);
  return `${lines.join('; ')}${issues.length > 3 ? `; and ${issues.length - 3} more` : ''}`;
}

/**
 * Checks that parsed JSON is a loadbench run summary, migrating version 1, and returns it typed.
 * `path` names the source in messages.
 * @throws SummaryFileError naming the file and the first fields that are wrong
 */
export function parseRunSummary(data: unknown, path: string): RunSummary {
  const d = data as { format?: unknown; version?: unknown } | null;
  if (!d || typeof d !== 'object' || d.format !== SUMMARY_FORMAT) {
    throw new SummaryFileError(`${path}: not a loadbench summary (expected "format": "${SUMMARY_FORMAT}")`);
  }
  let input: unknown = d;
  if (d.version === 1) input = migrateV1(d as Record<string, unknown>);
  else if (d.version !== SUMMARY_FORMAT_VERSION) {
    throw new SummaryFileError(
      `${path}: summary format version ${String(d.version)}, this loadbench reads versions 1 and ${SUMMARY_FORMAT_VERSION}: rerun the benchmark with this version`,
    );
  }
  const parsed = runSummarySchema.safeParse(input);
  if (!parsed.success) {
    throw new SummaryFileError(`${path}: not a valid loadbench summary: ${describeIssues(parsed.error.issues)}; was it edited by hand? rerun the benchmark to write it again`);
  }
  return parsed.data;
}

/**
 * Reads `runs/<label>_summary.json` (or a baseline) and validates it.
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
  return parseRunSummary(data, path);
}
