/**
 * Short role names for processes, derived from their command lines: `gateway` for
 * `node --import tsx examples/submit-gateway/gateway.ts`, `postgres` for `postgres: checkpointer`,
 * `sh` (a wrapper) for the `sh -c …` loadbench starts the target with. Pure functions.
 */

/** What a command line says a process is. */
export interface ProcessRole {
  /** Short name: the script or program, without directory or extension. */
  readonly role: string;
  /**
   * A process whose job is to start the real one (a shell, npm, env, tsx's launcher): shown for
   * completeness, its CPU still belongs to the target, but it is no meaningful role of its own.
   */
  readonly wrapper: boolean;
}

const SHELLS = new Set(['sh', 'bash', 'dash', 'zsh', 'ash', 'ksh', 'mksh', 'fish', 'busybox']);
const WRAPPERS = new Set([
  'env', 'nohup', 'timeout', 'time', 'nice', 'ionice', 'setsid', 'stdbuf', 'chrt', 'taskset', 'flock',
  'tini', 'dumb-init', 'catatonit', 'su', 'sudo', 'runuser', 'npm', 'npx', 'pnpm', 'yarn', 'nodemon', 'concurrently',
]);
/** Script-running programs: the role is the script they run, not the interpreter. */
const INTERPRETERS = /^(node|nodejs|bun|deno|python[\d.]*|pypy[\d.]*|ruby[\d.]*|perl[\d.]*|php[\d.]*|java)$/;
/** Interpreter options that take the next argument as their value (`--import tsx`, `-r x`, `-m mod`). */
const OPTIONS_WITH_VALUE = new Set([
  '-r', '--require', '--import', '--loader', '--experimental-loader', '-C', '--conditions', '--title', '--env-file',
  '--input-type', '--inspect-port', '--stack-size', '--max-old-space-size', // node
  '-W', '-X', '-Q', // python
  '-I', '-E', '--encoding', // ruby
  '-cp', '-classpath', '--class-path', '-p', '--module-path', // java
]);
/** Inline-code options: there is no script, the interpreter itself is the role. */
const INLINE_CODE = new Set(['-e', '--eval', '-p', '--print']);
/**
 * Launchers that run under an interpreter and start the real program as a child process:
 * `node …/npm-cli.js`, `node …/tsx/dist/cli.mjs`.
 */
const LAUNCHER_SCRIPTS: ReadonlyArray<readonly [RegExp, string]> = [
  [/(^|\/)npm(-cli)?(\.[cm]?js)?$/, 'npm'],
  [/(^|\/)npx(-cli)?(\.[cm]?js)?$/, 'npx'],
  [/(^|\/)pnpm(\.[cm]?js)?$/, 'pnpm'],
  [/(^|\/)yarn(\.[cm]?js)?$/, 'yarn'],
  [/\/tsx\/dist\/cli\.[cm]?js$|(^|\/)tsx$/, 'tsx'],
  [/(^|\/)nodemon(\.[cm]?js)?$/, 'nodemon'],
];
/** Loaders that run the script in their own process: the role is the script after them. */
const IN_PROCESS_LOADERS = /(^|\/)(ts-node|ts-node-esm|babel-node)(\.[cm]?js)?$|\/ts-node\/dist\/bin(-esm)?\.js$/;
/** File names that say nothing about the program: the folder above names it instead. */
const GENERIC_NAMES = new Set(['index', 'main', 'cli', '__main__', 'start', 'run']);
const BUILD_FOLDERS = new Set(['dist', 'src', 'lib', 'build', 'bin', 'out', 'app', '.']);

function basename(path: string): string {
  const trimmed = path.replace(/\/+$/, '');
  return trimmed.slice(trimmed.lastIndexOf('/') + 1);
}

/** `examples/submit-gateway/gateway.ts` → `gateway`; `api/dist/index.js` → `api`. */
function scriptName(path: string): string {
  const parts = path.split('/').filter((p) => p !== '');
  let name = (parts.pop() ?? path).replace(/(\.(ts|mts|cts|js|mjs|cjs|jsx|tsx|py|pyc|rb|pl|php|jar))+$/i, '');
  while (GENERIC_NAMES.has(name) && parts.length > 0) {
    const folder = parts.pop()!;
    if (!BUILD_FOLDERS.has(folder)) name = folder;
  }
  return name;
}

/** The script an interpreter runs, or `undefined` for inline code and a bare REPL. */
function interpretedScript(interpreter: string, args: readonly string[]): string | undefined {
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '--') return args[i + 1];
    if (!arg.startsWith('-') || arg === '-') return arg;
    if (interpreter.startsWith('python') || interpreter.startsWith('pypy')) {
      if (arg === '-m') return args[i + 1]?.split('.').pop();
      if (arg === '-c') return undefined;
    }
    if (interpreter === 'java' && arg === '-jar') return args[i + 1];
    if (INLINE_CODE.has(arg) && !(interpreter === 'java' && arg === '-p')) return undefined;
    if (OPTIONS_WITH_VALUE.has(arg)) i++;
  }
  return undefined;
}

/**
 * Derives a process's role from its arguments (`/proc/<pid>/cmdline`) and its kernel name
 * (`comm`, used when there are no arguments: kernel threads, zombies).
 */
export function deriveRole(argv: readonly string[], comm: string): ProcessRole {
  const first = argv[0];
  if (first === undefined || first === '') return { role: comm || 'unknown', wrapper: false };
  // A rewritten title ("postgres: checkpointer", "nginx: worker process") is one string with spaces.
  const args = argv.length === 1 && /\s/.test(first) ? first.trim().split(/\s+/) : argv;
  const program = basename(args[0]!).replace(/:$/, '');
  if (SHELLS.has(program)) return { role: program, wrapper: true };
  if (WRAPPERS.has(program)) return { role: program, wrapper: true };
  if (INTERPRETERS.test(program)) {
    let script = interpretedScript(program, args.slice(1));
    if (script !== undefined && IN_PROCESS_LOADERS.test(script)) {
      script = interpretedScript(program, args.slice(args.indexOf(script) + 1));
    }
    if (script === undefined) return { role: program === 'nodejs' ? 'node' : program, wrapper: false };
    for (const [pattern, launcher] of LAUNCHER_SCRIPTS) {
      if (pattern.test(script)) return { role: launcher, wrapper: true };
    }
    return { role: scriptName(script) || program, wrapper: false };
  }
  return { role: program || comm, wrapper: false };
}

/** A process as far as labelling goes. */
export interface LabelSubject {
  readonly role: string;
  /** 1, 2, … in the order processes of this role were first seen; never reused. */
  readonly ordinal: number;
}

/**
 * The label to show: the role alone while only one process has ever had it, else the role and its
 * ordinal (`worker 1`, `worker 2`). `roleCounts` is how many processes have had each role so far.
 */
export function processLabel(subject: LabelSubject, roleCounts: ReadonlyMap<string, number>): string {
  return (roleCounts.get(subject.role) ?? 1) > 1 ? `${subject.role} ${subject.ordinal}` : subject.role;
}
