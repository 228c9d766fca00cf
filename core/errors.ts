/**
 * The user-facing errors of loadbench, checked by class. Each carries a message meant to be
 * printed as is (no stack trace) and says what was wrong and how to fix it.
 */

/** Base of every loadbench error a user can fix; `exitCode` is what a command line ends with. */
export class LoadbenchError extends Error {
  readonly exitCode: number;
  constructor(message: string, exitCode: number) {
    super(message);
    this.name = new.target.name;
    this.exitCode = exitCode;
  }
}

/** A mistake in config.yaml, a config object or scenario options: one line per problem. No load was sent. */
export class ConfigError extends LoadbenchError {
  constructor(
    /** The file (or `scenario "name"`) the problems are in. */
    readonly file: string,
    readonly problems: string[],
  ) {
    super(`${file}: invalid loadbench configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`, 2);
  }
}

/** A problem with the system under test (port taken, start failed, nothing answers). */
export class TargetError extends LoadbenchError {
  /** `exitCode` is 1, or 128 + signal number when the user interrupted the start. */
  constructor(message: string, exitCode = 1) {
    super(message, exitCode);
    this.stack = `${this.name}: ${message}`;
  }
}

/** An output location that would leave the project or is not a safe file name. */
export class OutputPathError extends LoadbenchError {
  constructor(message: string) {
    super(message, 2);
  }
}

/** A summary file that is missing, not a loadbench summary, or invalid; the message names the file and the field. */
export class SummaryFileError extends LoadbenchError {
  constructor(message: string) {
    super(message, 2);
  }
}

/** `loadbench ab` cannot compare: not a git repository, an unknown ref, no target.start, the base build cannot be prepared. No load was sent. */
export class AbSetupError extends LoadbenchError {
  constructor(message: string, exitCode = 2) {
    super(message, exitCode);
    this.stack = `${this.name}: ${message}`;
  }
}

/** `loadbench merge` (issue 15): run shard summaries that do not belong together (a missing, duplicate or foreign shard). Nothing is written. */
export class ShardMergeError extends LoadbenchError {
  constructor(message: string) {
    super(message, 2);
    this.stack = `${this.name}: ${message}`;
  }
}
