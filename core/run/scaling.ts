/**
 * The scaling sweep's configs (issue 16): for each replica count of `scaling.replicas`, the config
 * that `WORKERS=<n> npx vitest bench` would have used, with the run label `<run_label>-<n>x`.
 * `${VAR}` interpolation sees the count in `scaling.env` (so `report.num_nodes: "worker=${WORKERS:-2}"`
 * and `baseline.file: baselines/submit-${WORKERS:-2}x.json` follow it), and `{{replicas}}` is
 * replaced in target.start.command, its env, report.num_nodes and baseline.file.
 */
import { REPLICAS_PLACEHOLDER, type LoadbenchConfig } from '../config/schema.ts';

/** One replica count of a scaling sweep and its config. */
export interface ReplicaConfig {
  replicas: number;
  config: LoadbenchConfig;
}

/** The run label of one replica count: `baseline-2x`. */
export function replicaRunLabel(sweepLabel: string, replicas: number): string {
  return `${sweepLabel}-${replicas}x`;
}

const fill = (text: string, replicas: number): string => text.replaceAll(REPLICAS_PLACEHOLDER, String(replicas));

/**
 * The config of each replica count, in the configured order. `reload` validates the same source
 * (config.yaml or the config object) again with another environment.
 * @throws ConfigError when a count's config is invalid (e.g. a value `${WORKERS}` makes wrong)
 */
export function replicaConfigs(base: LoadbenchConfig, reload: (env: NodeJS.ProcessEnv) => LoadbenchConfig, env: NodeJS.ProcessEnv): ReplicaConfig[] {
  const scaling = base.scaling;
  if (!scaling) return [];
  return scaling.replicas.map((replicas) => {
    const config = scaling.env ? reload({ ...env, [scaling.env]: String(replicas) }) : reload(env);
    const start = config.target.start!;
    const startEnv = Object.fromEntries(Object.entries(start.env).map(([k, v]) => [k, fill(v, replicas)]));
    if (scaling.env) startEnv[scaling.env] = String(replicas);
    return {
      replicas,
      config: {
        ...config,
        run_label: replicaRunLabel(base.run_label, replicas),
        target: { ...config.target, start: { ...start, command: fill(start.command, replicas), env: startEnv } },
        report: { ...config.report, num_nodes: fill(config.report.num_nodes, replicas) },
        ...(config.baseline ? { baseline: { ...config.baseline, file: fill(config.baseline.file, replicas) } } : {}),
      },
    };
  });
}
