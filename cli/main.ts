/**
 * `loadbench <command> [options]`: finds the subcommand, parses its options with `node:util`
 * parseArgs, prints help, and turns every way a command can end into an exit status: 0 or 1 as
 * the command says, 2 for a usage error (one line) or bad input, 1 for an unexpected error.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { ConfigError, LoadbenchError } from '../core/errors.ts';
import { loadbenchVersion } from '../reporters/report/environment.ts';
import { UsageError, type CliIo, type Command, type OptionSpec, type OptionValues } from './command.ts';
import { COMMANDS } from './commands.ts';


const HELP_OPTION: OptionSpec = { type: 'boolean', short: 'h', description: 'show this help' };

function optionLabel(name: string, o: OptionSpec): string {
  return `${o.short ? `-${o.short}, ` : '    '}--${name}${o.type === 'string' ? ` <${o.value ?? 'value'}>` : ''}`;
}

/** The help of one command. Pure. */
export function formatCommandHelp(command: Command): string {
  const options = Object.entries({ ...command.options, help: HELP_OPTION });
  const width = Math.max(...options.map(([n, o]) => optionLabel(n, o).length));
  return [
    `usage: loadbench ${command.name} ${command.args}`,
    '',
    ...command.help.flatMap((p) => [p, '']),
    'options:',
    ...options.map(([n, o]) => `  ${optionLabel(n, o).padEnd(width)}  ${o.description}`),
    '',
    `exit status: ${command.exitStatus}`,
  ].join('\n');
}

/** The help of `loadbench` itself. Pure. */
export function formatMainHelp(commands: readonly Command[], version: string): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  return [
    'usage: loadbench <command> [options]',
    '',
    `loadbench ${version}: HTTP load tests as a Vitest plugin. \`npx vitest bench\` runs the sweep of benches/*.bench.ts;`,
    'these commands set a project up and work on the outputs of finished runs.',
    '',
    'commands:',
    ...commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    '  loadbench <command> --help   the options of a command',
    '  loadbench --version          the version of loadbench',
  ].join('\n');
}

/** The one line of a usage error. */
function usageLine(prefix: string, problem: string, usage: string, helpHint: string): string {
  return `${prefix}: ${problem} (usage: ${usage}; see ${helpHint})`;
}

/** parseArgs' message, without its advice about `--` (one line, about the mistake). */
function parseArgsProblem(error: Error): string {
  return error.message.replace(/\. To specify a positional argument.*$/s, '').replace(/\.$/, '');
}

const isParseArgsError = (error: unknown): error is Error & { code: string } =>
  error instanceof Error && String((error as { code?: unknown }).code).startsWith('ERR_PARSE_ARGS');

/** Runs `loadbench <argv>` and resolves to the exit status; every line goes through `io`. */
export async function runCli(argv: readonly string[], io: CliIo, commands: readonly Command[] = COMMANDS): Promise<number> {
  const names = commands.map((c) => c.name).join(', ');
  const command = commands.find((c) => c.name === argv[0]);
  if (!command) {
    const mainUsage = 'loadbench <command> [options]';
    let parsed;
    try {
      parsed = parseArgs({
        args: [...argv],
        allowPositionals: true,
        strict: true,
        options: { help: { type: 'boolean', short: 'h' }, version: { type: 'boolean', short: 'v' } },
      });
    } catch (error) {
      if (!isParseArgsError(error)) throw error;
      io.err(usageLine('loadbench', parseArgsProblem(error), mainUsage, 'loadbench --help'));
      return 2;
    }
    const [first] = parsed.positionals;
    if (first !== undefined) {
      io.err(usageLine('loadbench', `unknown command "${first}": expected one of ${names}`, mainUsage, 'loadbench --help'));
      return 2;
    }
    if (parsed.values.version) {
      io.out(loadbenchVersion());
      return 0;
    }
    if (parsed.values.help) {
      io.out(formatMainHelp(commands, loadbenchVersion()));
      return 0;
    }
    io.err(usageLine('loadbench', `missing command: one of ${names}`, mainUsage, 'loadbench --help'));
    return 2;
  }
  return runCommand(command, argv.slice(1), io);
}

async function runCommand(command: Command, args: string[], io: CliIo): Promise<number> {
  const prefix = `loadbench ${command.name}`;
  const usage = `loadbench ${command.name} ${command.args}`;
  const hint = `loadbench ${command.name} --help`;
  const options = Object.fromEntries(
    Object.entries({ ...command.options, help: HELP_OPTION }).map(([name, o]) => [name, { type: o.type, ...(o.short ? { short: o.short } : {}) }]),
  ) as NonNullable<ParseArgsConfig['options']>;
  let values: OptionValues<Record<string, OptionSpec>>;
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({ args, options, allowPositionals: true, strict: true }) as {
      values: OptionValues<Record<string, OptionSpec>>;
      positionals: string[];
    });
  } catch (error) {
    if (!isParseArgsError(error)) throw error;
    io.err(usageLine(prefix, parseArgsProblem(error), usage, hint));
    return 2;
  }
  if (values.help) {
    io.out(formatCommandHelp(command));
    return 0;
  }
  const { min, max } = command.positionals;
  if (positionals.length < min || positionals.length > max) {
    const expected = min === max ? `${min}` : max === Infinity ? `at least ${min}` : `${min} to ${max}`;
    const got = positionals.length === 0 ? 'none' : `${positionals.length} (${positionals.join(' ')})`;
    io.err(usageLine(prefix, `expected ${expected} argument${max === 1 ? '' : 's'}, got ${got}`, usage, hint));
    return 2;
  }
  try {
    return await command.run({ values, positionals }, io);
  } catch (error) {
    if (error instanceof UsageError) {
      io.err(usageLine(prefix, error.message, usage, hint));
      return 2;
    }
    if (error instanceof ConfigError) {
      io.err(`${prefix}: ${error.file}: invalid configuration:`);
      for (const problem of error.problems) io.err(`  - ${problem}`);
      return error.exitCode;
    }
    if (error instanceof LoadbenchError) {
      io.err(`${prefix}: ${error.message}`);
      return error.exitCode;
    }
    io.err(`${prefix}: unexpected error (please report it): ${(error as Error)?.stack ?? String(error)}`);
    return 1;
  }
}
