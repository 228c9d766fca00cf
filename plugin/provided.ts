import type { LoadbenchConfig } from '../core/config/schema.ts';

/** What the plugin hands to bench files through Vitest's `provide`/`inject`. */
export interface ProvidedLoadbench {
  config: LoadbenchConfig;
  configPath: string;
  root: string;
  /** Unix socket of the bench channel to the main process (progress, the go-ahead before each level). */
  benchSocket?: string;
}

declare module 'vitest' {
  interface ProvidedContext {
    loadbench: ProvidedLoadbench;
  }
}
