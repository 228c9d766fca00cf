/**
 * The subcommands of `loadbench`, in the order its help lists them. Adding one: a file exporting
 * `defineCommand({...})` as its default, and its line here.
 */
import type { Command } from './command.ts';
import ab from './ab.ts';
import baseline from './baseline.ts';
import compare from './compare.ts';
import init from './init.ts';
import merge from './merge.ts';
import report from './report.ts';

export const COMMANDS: readonly Command[] = [init, report, compare, baseline, ab, merge];
