import { mkdir, readdir, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { RUN_OUTPUT_SUFFIXES } from '../model/outputs.ts';

/** Folder name for a previous run's files: `<dir>/previous/<label>-<timestamp>`. */
export function archiveFolderName(label: string, when: Date): string {
  return `${label}-${when.toISOString().replace(/[:.]/g, '-')}`;
}

/**
 * A second run with the same label must not silently destroy the first: its files are moved
 * to `<dir>/previous/<label>-<timestamp>/` before the new run writes anything.
 * @returns the folder the files went to, or undefined when there was nothing to keep
 */
export async function archivePreviousRun(dir: string, label: string, when = new Date()): Promise<string | undefined> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return undefined;
  }
  const ours = names.filter((n) => RUN_OUTPUT_SUFFIXES.some((s) => n === `${label}${s}`));
  if (ours.length === 0) return undefined;
  const target = join(dir, 'previous', archiveFolderName(label, when));
  await mkdir(target, { recursive: true });
  for (const name of ours) await rename(join(dir, name), join(target, name));
  return target;
}
