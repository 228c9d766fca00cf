import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseDocument } from 'yaml';
import type { z } from 'zod';
import { ConfigError } from '../errors.ts';
import { applyPortTemplate } from './port-template.ts';
import { configSchema, quoted, type LoadbenchConfig } from './schema.ts';
import { runShardFromEnv, runShardLabel, shardModeProblems } from '../shards/run-shard.ts';

/** Where the config was read from, and the validated result. */
export interface LoadedConfig {
  path: string;
  config: LoadbenchConfig;
}

const MAX_DEPTH = 32;
const ENV_PATTERN = /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

/**
 * Replaces `${VAR}` and `${VAR:-default}` in every string of a parsed YAML tree.
 * Interpolating after parsing means an environment value can never change the YAML structure.
 */
export function interpolateEnv(
  value: unknown,
  env: NodeJS.ProcessEnv,
  path: string[] = [],
  problems: string[] = [],
): unknown {
  if (path.length > MAX_DEPTH) {
    if (!problems.some((p) => p.includes('nested deeper'))) {
      problems.push(`${path.slice(0, 3).join('.')}...: nested deeper than ${MAX_DEPTH} levels: no loadbench key is that deep`);
    }
    return null;
  }
  if (typeof value === 'string') {
    return value.replace(ENV_PATTERN, (_match, name: string, fallback: string | undefined) => {
      const found = env[name];
      if (found !== undefined && found !== '') return found;
      if (fallback !== undefined) return fallback;
      problems.push(
        `${path.join('.') || '(root)'}: environment variable ${name} is not set: set it, or write \${${name}:-default}`,
      );
      return '';
    });
  }
  if (Array.isArray(value)) return value.map((v, i) => interpolateEnv(v, env, [...path, String(i)], problems));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [k, interpolateEnv(v, env, [...path, k], problems)]),
    );
  }
  return value;
}

/** The LOADBENCH_* variables that replace a config key, by the key's path. */
const ENV_OVERRIDES: Record<string, string> = {
  run_label: 'LOADBENCH_RUN_LABEL',
  'target.url': 'LOADBENCH_TARGET_URL',
  'target.token': 'LOADBENCH_TOKEN',
};

/** Applies the LOADBENCH_* environment overrides on top of the parsed YAML. */
function applyEnvOverrides(raw: unknown, env: NodeJS.ProcessEnv): unknown {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) return raw;
  const out = { ...(raw as Record<string, unknown>) };
  if (env.LOADBENCH_RUN_LABEL) out.run_label = env.LOADBENCH_RUN_LABEL;
  if (env.LOADBENCH_TARGET_URL || env.LOADBENCH_TOKEN) {
    const target = out.target;
    const t = target !== null && typeof target === 'object' && !Array.isArray(target) ? { ...target } : {};
    if (env.LOADBENCH_TARGET_URL) (t as Record<string, unknown>).url = env.LOADBENCH_TARGET_URL;
    if (env.LOADBENCH_TOKEN) (t as Record<string, unknown>).token = env.LOADBENCH_TOKEN;
    out.target = t;
  }
  return out;
}

function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return value.length === 0 ? 'an empty list' : `a list (${quoted(value)})`;
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'string') return `the string ${quoted(value)}`;
  return `${typeof value} ${truncate(String(value))}`;
}

function truncate(text: string, max = 60): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

/**
 * A key path as one printable line: `target.headers.x-a`. A segment that is empty, long, or holds
 * a space, a dot, a quote or a control character (key names come from the user) is quoted as JSON.
 */
function pathText(path: readonly PropertyKey[]): string {
  return path
    .map((key) => {
      const k = String(key);
      return /^[^\s."\x00-\x1f\x7f]{1,60}$/u.test(k) ? k : quoted(k);
    })
    .join('.');
}

function valueAt(root: unknown, path: PropertyKey[]): unknown {
  let cur: unknown = root;
  for (const key of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<PropertyKey, unknown>)[key as string];
  }
  return cur;
}

/** Known keys of the (possibly wrapped) object schema at `path`, for "did you mean" hints. */
function knownKeysAt(root: unknown, path: PropertyKey[]): string[] {
  // zod 4 keeps wrapped schemas under _zod.def.innerType; objects expose their shape there.
  type Def = { innerType?: unknown; shape?: Record<string, unknown>; in?: unknown };
  let schema: unknown = root;
  const unwrap = (s: unknown): Def | undefined => {
    let def = (s as { _zod?: { def?: Def } })._zod?.def;
    while (def && !def.shape && (def.innerType || def.in)) {
      def = ((def.innerType ?? def.in) as { _zod?: { def?: Def } })._zod?.def;
    }
    return def;
  };
  for (const key of path) {
    const def = unwrap(schema);
    schema = def?.shape?.[key as string];
    if (!schema) return [];
  }
  return Object.keys(unwrap(schema)?.shape ?? {});
}

/**
 * Turns zod issues into one readable line each: key path, what was found, what is expected.
 * `origin` may name where a key's value came from (e.g. an environment variable); it is added after the path.
 * `schema` is the one that produced the issues (for the known keys of an unknown key); default config.yaml's.
 */
export function formatIssues(
  issues: z.core.$ZodIssue[],
  input: unknown,
  origin: (path: readonly PropertyKey[]) => string | undefined = () => undefined,
  schema: unknown = configSchema,
): string[] {
  return issues.map((issue) => {
    const from = origin(issue.path);
    const where = `${issue.path.length ? pathText(issue.path) : '(top level)'}${from ? ` (${from})` : ''}`;
    const found = valueAt(input, issue.path);
    switch (issue.code) {
      case 'unrecognized_keys': {
        const known = knownKeysAt(schema, issue.path);
        return `${where}: unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys
          .map((k) => quoted(k))
          .join(', ')}: remove it or fix the spelling${known.length ? ` (known keys: ${known.join(', ')})` : ''}`;
      }
      case 'invalid_type':
        return found === undefined
          ? `${where}: missing: expected ${issue.expected}`
          : `${where}: found ${describe(found)}, expected ${issue.expected}`;
      case 'too_small':
      case 'too_big':
      case 'invalid_format':
      case 'invalid_value':
        return `${where}: found ${describe(found)}: ${issue.message.replace(/^Invalid input: /, '')}`;
      case 'custom':
        // The rule described what it found itself (e.g. a header value, which may be a credential).
        if (issue.params?.found === true) return `${where}: ${issue.message}`;
        // Cross-field rules point at a mapping; naming "a mapping" would not help.
        return found === undefined || (typeof found === 'object' && found !== null)
          ? `${where}: ${issue.message}`
          : `${where}: found ${describe(found)}: ${issue.message}`;
      default:
        return `${where}: ${found === undefined ? '' : `found ${describe(found)}: `}${issue.message}`;
    }
  });
}

/**
 * Validates an already-parsed config object (after env interpolation and overrides).
 * @throws ConfigError with one line per problem
 */
export function validateConfig(raw: unknown, file = 'config.yaml', env: NodeJS.ProcessEnv = process.env): LoadbenchConfig {
  const problems: string[] = [];
  // `{{port}}` (target.port, or LOADBENCH_PORT as `loadbench ab` sets it per side) after the overrides: LOADBENCH_TARGET_URL may use it too.
  const ported = applyPortTemplate(applyEnvOverrides(interpolateEnv(raw, env, [], problems), env), env);
  problems.push(...ported.problems);
  const interpolated = ported.config;
  if (interpolated === null || typeof interpolated !== 'object' || Array.isArray(interpolated)) {
    throw new ConfigError(file, [`(top level): found ${describe(interpolated)}, expected a mapping with target: and workload:`]);
  }
  const result = configSchema.safeParse(interpolated);
  if (!result.success) {
    // A value set by a LOADBENCH_* variable is not in the YAML file: say where it came from.
    // Likewise for a value that `${VAR}` interpolation filled in.
    const origin = (path: readonly PropertyKey[]): string | undefined => {
      const name = ENV_OVERRIDES[path.join('.')];
      if (name && env[name]) return `from the environment variable ${name}`;
      const written = valueAt(raw, [...path]);
      if (typeof written !== 'string') return undefined;
      const used = [...written.matchAll(new RegExp(ENV_PATTERN.source, 'g'))]
        .map((m) => m[1]!)
        .filter((v) => env[v] !== undefined && env[v] !== '');
      return used.length ? `with ${used.map((v) => `\${${v}}`).join(', ')} from the environment` : undefined;
    };
    problems.push(...formatIssues(result.error.issues, interpolated, origin));
  }
  if (problems.length || !result.success) throw new ConfigError(file, problems);
  return asRunShard(result.data, file, env);
}

/**
 * In shard mode (LOADBENCH_SHARD, issue 15): the config of this run shard, whose outputs carry its
 * own label (`<run_label>.shard-<i>-of-<n>`), or the settings a shard cannot run with, refused.
 * @throws ConfigError for a bad shard variable or a setting shard mode refuses
 */
function asRunShard(config: LoadbenchConfig, file: string, env: NodeJS.ProcessEnv): LoadbenchConfig {
  const shard = runShardFromEnv(env, config.run_label);
  if (!shard) return config;
  const problems = shardModeProblems({
    requestsPerLevel: config.workload.requests_per_level,
    stopOnSloFailure: config.stop_on_slo_failure,
    scaling: config.scaling,
    ...(config.workload.arrival_rates !== undefined ? { arrivals: config.workload.arrivals, seed: config.workload.seed } : {}),
  }).map((line) => (line.startsWith('requests_per_level') || line.startsWith('seed') ? `workload.${line}` : line));
  if (problems.length) throw new ConfigError(file, problems.map((p) => `${p} (shard mode: ${shard.source === 'LOADBENCH_SHARD' ? `LOADBENCH_SHARD=${env.LOADBENCH_SHARD}` : `JOB_COMPLETION_INDEX with LOADBENCH_SHARDS=${env.LOADBENCH_SHARDS}`})`));
  return { ...config, run_label: runShardLabel(config.run_label, shard), run_shard: shard };
}

/**
 * Reads, interpolates and validates config.yaml. The path comes from the argument,
 * else `LOADBENCH_CONFIG`, else `config.yaml` in `cwd`.
 * @throws ConfigError for a missing file, a YAML syntax error or invalid content
 */
export function loadConfig(path?: string, cwd = process.cwd(), env: NodeJS.ProcessEnv = process.env): LoadedConfig {
  const file = resolve(cwd, path || env.LOADBENCH_CONFIG || 'config.yaml');
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new ConfigError(file, [
      code === 'ENOENT'
        ? `file not found: create it (see README "config.yaml") or set LOADBENCH_CONFIG to its path`
        : `cannot read the file (${code ?? String(error)})`,
    ]);
  }
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length) {
    throw new ConfigError(
      file,
      doc.errors.map((e) => {
        const pos = e.linePos?.[0];
        return `YAML syntax error${pos ? ` at line ${pos.line}, column ${pos.col}` : ''}: ${e.message.split('\n')[0]}`;
      }),
    );
  }
  let raw: unknown;
  try {
    raw = doc.toJS({ maxAliasCount: 100 });
  } catch (error) {
    // e.g. an alias that refers to itself, or an alias bomb
    throw new ConfigError(file, [`YAML could not be read: ${(error as Error).message.split('\n')[0]}`]);
  }
  const config = validateConfig(raw, file, env);
  const template = config.report.template;
  // Checked now, not after the sweep: a run must not send all its load and then fail on a typo.
  if (template !== undefined && !existsSync(resolve(cwd, template))) {
    throw new ConfigError(file, [
      `report.template: found ${JSON.stringify(template)}: no such file (relative to ${cwd}); fix the path, or remove the key to use the built-in report`,
    ]);
  }
  return { path: file, config };
}
