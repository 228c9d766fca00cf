/**
 * Collection mode of `scenario()`: a bench file imported outside Vitest (by `loadbench ab`, which
 * runs the scenarios itself, interleaving two builds of the target) declares its scenarios here
 * instead of declaring Vitest bench tasks. Global, not module state: the bench files import
 * `scenario()` from the package (dist/) while the command may run from the sources, two module
 * instances of this file in one process.
 */
import type { ScenarioOptions, ScenarioSpec } from './options.ts';

/** A scenario declared by a bench file while collecting, with the file that declared it. */
export interface CollectedScenario {
  spec: ScenarioSpec;
  /** The bench file being imported when `scenario()` was called ('' when unknown). */
  file: string;
}

interface Collector {
  file: string;
  scenarios: CollectedScenario[];
}

const KEY = Symbol.for('loadbench.collect');
const slot = globalThis as Record<symbol, Collector | undefined>;

/** True while {@link collectScenarios} imports bench files: `scenario()` must register, not run. */
export function isCollecting(): boolean {
  return slot[KEY] !== undefined;
}

/** Registers one `scenario(name, options)` call during collection. */
export function collectScenario(name: string, options: ScenarioOptions): void {
  const collector = slot[KEY];
  if (!collector) throw new Error('collectScenario() outside collectScenarios()');
  collector.scenarios.push({ spec: { ...options, name }, file: collector.file });
}

/**
 * Imports each bench file with `importFile` in collection mode and returns the scenarios they
 * declared, in file order and call order. One collection at a time.
 */
export async function collectScenarios(files: readonly string[], importFile: (file: string) => Promise<unknown>): Promise<CollectedScenario[]> {
  if (slot[KEY]) throw new Error('collectScenarios() is already running');
  const collector: Collector = { file: '', scenarios: [] };
  slot[KEY] = collector;
  try {
    for (const file of files) {
      collector.file = file;
      await importFile(file);
    }
    return collector.scenarios;
  } finally {
    slot[KEY] = undefined;
  }
}
