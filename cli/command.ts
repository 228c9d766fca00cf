/**
 * What a `loadbench` subcommand is: its name, help, options (parsed by `node:util` parseArgs) and
 * `run`. A new subcommand is one file exporting `defineCommand({...})`, listed in cli/commands.ts.
 */

/** One option of a command, as parseArgs takes it, plus its help text. */
export interface OptionSpec {
  type: 'string' | 'boolean';
  short?: string;
  /** The value's placeholder in the help, e.g. `file` for `--out <file>`. */
  value?: string;
  description: string;
}

/** The parsed values of a command's options. */
export type OptionValues<O extends Record<string, OptionSpec>> = {
  [K in keyof O]?: O[K]['type'] extends 'boolean' ? boolean : string;
};

/** Where a command reads and writes: injected, so that tests run commands in-process. */
export interface CliIo {
  /** The project folder (the current directory). */
  cwd: string;
  env: NodeJS.ProcessEnv;
  out(line: string): void;
  err(line: string): void;
}

/** A subcommand of `loadbench`. */
export interface Command<O extends Record<string, OptionSpec> = Record<string, OptionSpec>> {
  name: string;
  /** One line for `loadbench --help`. */
  summary: string;
  /** What follows the command name in the usage line, e.g. `<run_label> [options]`. */
  args: string;
  /** How many positional arguments it takes. */
  positionals: { min: number; max: number };
  /** Paragraphs of `loadbench <name> --help`, between the usage line and the options. */
  help: string[];
  options: O;
  /** The exit status line of the help, e.g. `0 written; 2 usage error or unreadable summary`. */
  exitStatus: string;
  /**
   * Runs the command; resolves to its exit status. Throws {@link UsageError} for a usage mistake
   * found late (printed as one line, exit 2), a LoadbenchError for bad input (its message, its exit code).
   */
  run(input: { values: OptionValues<O>; positionals: string[] }, io: CliIo): Promise<number>;
}

/** Declares a command, keeping its option types for `run`. */
export function defineCommand<O extends Record<string, OptionSpec>>(command: Command<O>): Command<O> {
  return command;
}

/** A mistake in how the command was called: printed as one line with the usage, exit status 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}
