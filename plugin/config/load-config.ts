import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseDocument } from 'yaml';
import type { z } from 'zod';
import { configSchema, type LoadbenchConfig } from './schema.ts';

/** A user mistake in the configuration: one line per problem, meant to be printed without a stack trace. */
export class ConfigError extends Error {
  constructor(
    readonly file: string,
    readonly problems: string[],
  ) {
    super(`${file}: invalid loadbench configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

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
  if (Array.isArray(value)) return value.length === 0 ? 'an empty list' : `a list (${truncate(JSON.stringify(value))})`;
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'string') return `the string ${truncate(JSON.stringify(value))}`;
  return `${typeof value} ${truncate(String(value))}`;
}

function truncate(text: string, max = 60): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
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
function knownKeysAt(path: PropertyKey[]): string[] {
  // zod 4 keeps wrapped schemas under _zod.def.innerType; objects expose their shape there.
  type Def = { innerType?: unknown; shape?: Record<string, unknown>; in?: unknown };
  let schema: unknown = configSchema;
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

/** Turns zod issues into one readable line each: key path, what was found, what is expected. */
export function formatIssues(issues: z.core.$ZodIssue[], input: unknown): string[] {
  return issues.map((issue) => {
    const where = issue.path.length ? issue.path.join('.') : '(top level)';
    const found = valueAt(input, issue.path);
    switch (issue.code) {
      case 'unrecognized_keys': {
        const known = knownKeysAt(issue.path);
        return `${where}: unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys
          .map((k) => `"${k}"`)
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
  const interpolated = applyEnvOverrides(interpolateEnv(raw, env, [], problems), env);
  if (interpolated === null || typeof interpolated !== 'object' || Array.isArray(interpolated)) {
    throw new ConfigError(file, [`(top level): found ${describe(interpolated)}, expected a mapping with target: and workload:`]);
  }
  const result = configSchema.safeParse(interpolated);
  if (!result.success) problems.push(...formatIssues(result.error.issues, interpolated));
  if (problems.length || !result.success) throw new ConfigError(file, problems);
  return result.data;
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
  return { path: file, config: validateConfig(raw, file, env) };
}
