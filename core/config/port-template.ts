/**
 * `{{port}}` in config.yaml: the target's port as a placeholder, so that `loadbench ab` can start
 * two builds of the system under test side by side, each on its own free port. Outside ab the
 * placeholder stands for `target.port`; `LOADBENCH_PORT` (set by ab for each side, or by a user)
 * wins over it.
 */

/** The placeholder, as written in config.yaml. */
export const PORT_PLACEHOLDER = '{{port}}';

/** The keys of config.yaml in which `{{port}}` is replaced. */
export const PORT_TEMPLATE_KEYS = ['target.url', 'target.start.command', 'target.start.ready_url'] as const;

const isRecord = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/** Replaces every `{{port}}` in `text` by `port`. Pure. */
export function substitutePort(text: string, port: number): string {
  return text.replaceAll(PORT_PLACEHOLDER, String(port));
}

/** A port number from text or a number: an integer in 1..65535, or undefined. */
function parsePort(value: unknown): number | undefined {
  const n = typeof value === 'number' ? value : typeof value === 'string' && /^\d+$/.test(value.trim()) ? Number(value.trim()) : NaN;
  return Number.isInteger(n) && n >= 1 && n <= 65_535 ? n : undefined;
}

/**
 * Replaces `{{port}}` in target.url, target.start.command and target.start.ready_url of a parsed
 * (and env-interpolated) config. The port is `LOADBENCH_PORT` when set (then target.start also
 * gets it as `PORT` in its environment, unless target.start.env sets PORT itself), else `target.port`. Returns the new tree (the input is not changed) and one line per problem; a
 * config without the placeholder and without a port is returned as it was. Pure.
 */
export function applyPortTemplate(raw: unknown, env: NodeJS.ProcessEnv): { config: unknown; problems: string[] } {
  if (!isRecord(raw) || !isRecord(raw.target)) return { config: raw, problems: [] };
  const problems: string[] = [];
  const target = { ...raw.target };
  const start = isRecord(target.start) ? { ...target.start } : undefined;
  const fromEnv = env.LOADBENCH_PORT !== undefined && env.LOADBENCH_PORT !== '' ? env.LOADBENCH_PORT : undefined;
  let port: number | undefined;
  if (fromEnv !== undefined) {
    port = parsePort(fromEnv);
    if (port === undefined) problems.push(`LOADBENCH_PORT: found ${JSON.stringify(fromEnv)}, expected a port number from 1 to 65535`);
  } else if (target.port !== undefined) {
    // A wrong type is the schema's to report (target.port: expected number).
    port = parsePort(target.port);
  }
  const uses = (v: unknown): boolean => typeof v === 'string' && v.includes(PORT_PLACEHOLDER);
  const used = [uses(target.url) && 'target.url', uses(start?.command) && 'target.start.command', uses(start?.ready_url) && 'target.start.ready_url'].filter(
    (k): k is string => typeof k === 'string',
  );
  if (port === undefined) {
    if (used.length && fromEnv === undefined) {
      problems.push(`${used.join(', ')}: ${PORT_PLACEHOLDER} is used but no port is set: add target.port (e.g. port: 8080, the port of normal runs), or set LOADBENCH_PORT`);
    }
    return { config: raw, problems };
  }
  if (typeof target.url === 'string') target.url = substitutePort(target.url, port);
  if (start) {
    if (typeof start.command === 'string') start.command = substitutePort(start.command, port);
    if (typeof start.ready_url === 'string') start.ready_url = substitutePort(start.ready_url, port);
    const startEnv = isRecord(start.env) ? start.env : start.env === undefined ? {} : undefined;
    // Only when the port is given from outside (loadbench ab): a normal run's target.start stays as
    // written, so that its workload hash (core/gates/fingerprint.ts) matches baselines recorded before.
    // A malformed env is left for the schema to report.
    if (fromEnv !== undefined && startEnv && startEnv.PORT === undefined) start.env = { ...startEnv, PORT: String(port) };
    target.start = start;
  }
  return { config: { ...raw, target }, problems };
}
