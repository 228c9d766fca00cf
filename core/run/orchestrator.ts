/**
 * Which orchestrator a run gets: a {@link Sweep}, or with `scaling:` in config.yaml a
 * {@link ScalingSweep} of one sweep per replica count (issue 16).
 */
import type { LoadbenchConfig } from '../config/schema.ts';
import type { RunOutputs } from '../model/outputs.ts';
import { replicaConfigs, replicaRunLabel } from './scaling.ts';
import { ScalingSweep, type Orchestrator } from './scaling-sweep.ts';
import { Sweep } from './sweep.ts';

export type { Orchestrator };

/** Inputs of {@link createOrchestrator}. */
export interface OrchestratorOptions {
  config: LoadbenchConfig;
  root: string;
  /** Validates the same config source again with another environment (a scaling sweep's `scaling.env`). */
  reload: (env: NodeJS.ProcessEnv) => LoadbenchConfig;
  env: NodeJS.ProcessEnv;
  makeOutputs: (config: LoadbenchConfig, root: string) => RunOutputs;
  log?: (line: string) => void;
}

/**
 * The run's orchestrator.
 * @throws ConfigError when the config of a replica count is invalid
 */
export function createOrchestrator(o: OrchestratorOptions): Orchestrator {
  if (!o.config.scaling) return new Sweep({ config: o.config, root: o.root, outputs: o.makeOutputs(o.config, o.root), log: o.log });
  return new ScalingSweep({ config: o.config, root: o.root, counts: replicaConfigs(o.config, o.reload, o.env), makeOutputs: o.makeOutputs, log: o.log });
}

/** The run label a level's raw rows go to: the sweep's, or in a scaling sweep its replica count's. */
export function runLabelOf(config: LoadbenchConfig, replicas: number | undefined): string {
  return replicas !== undefined && config.scaling ? replicaRunLabel(config.run_label, replicas) : config.run_label;
}
