import { isAbsolute, join, relative, resolve } from 'node:path';

/**
 * Absolute output folder, refused when it would leave the project root
 * (config validation already refuses ".." and absolute paths; this is the last guard).
 */
export function outputDir(root: string, dir: string): string {
  const abs = resolve(root, dir);
  const rel = relative(root, abs);
  if (rel.startsWith('..') || isAbsolute(rel)) {
    throw new Error(`output_dir "${dir}" resolves outside the project (${abs}): use a folder inside it, e.g. runs`);
  }
  return abs;
}

/** `<output_dir>/<run_label><suffix>`, e.g. suffix `_raw.csv`. */
export function outputFile(root: string, dir: string, runLabel: string, suffix: string): string {
  return join(outputDir(root, dir), `${runLabel}${suffix}`);
}

/** Path of the raw CSV of a run. */
export function rawCsvPath(root: string, dir: string, runLabel: string): string {
  return outputFile(root, dir, runLabel, '_raw.csv');
}
