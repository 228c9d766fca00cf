import { isAbsolute, join, relative, resolve } from 'node:path';

/** An output location that would leave the project or is not a safe file name. */
export class OutputPathError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'OutputPathError';
  }
}

/** Letters, digits, ".", "_" and "-": the run labels that are safe file-name prefixes everywhere. */
export const SAFE_LABEL = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;

/**
 * Absolute output folder, refused when it would leave the project root
 * (config validation already refuses ".." and absolute paths; this is the last guard).
 */
export function outputDir(root: string, dir: string): string {
  const abs = resolve(root, dir);
  const rel = relative(root, abs);
  if (rel.startsWith('..') || isAbsolute(rel)) {
    throw new OutputPathError(`output_dir "${dir}" resolves outside the project (${abs}): use a folder inside it, e.g. runs`);
  }
  return abs;
}

/** `<output_dir>/<run_label><suffix>`, e.g. suffix `_raw.csv`. */
export function outputFile(root: string, dir: string, runLabel: string, suffix: string): string {
  if (!SAFE_LABEL.test(runLabel)) {
    throw new OutputPathError(
      `run label "${runLabel}" is not a safe file name: use letters, digits, ".", "_" or "-" (no "/", "..", spaces)`,
    );
  }
  return join(outputDir(root, dir), `${runLabel}${suffix}`);
}

/** Path of the raw CSV of a run. */
export function rawCsvPath(root: string, dir: string, runLabel: string): string {
  return outputFile(root, dir, runLabel, '_raw.csv');
}
