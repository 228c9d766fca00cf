import type { LoadbenchConfig } from '../core/config/schema.ts';

/** What the plugin hands to bench files through Vitest's `provide`/`inject`. */
export interface ProvidedLoadbench {
  config: LoadbenchConfig;
  configPath: string;
  root: string;
  /** Unix socket of the main process's live progress display, when there is one. */
  progressSocket?: string;
}

declare module 'vitest' {
  interface ProvidedContext {
    loadbench: ProvidedLoadbench;
  }
}
