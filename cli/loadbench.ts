#!/usr/bin/env node
/**
 * The `loadbench` command (package.json `bin`): `npx loadbench <command> [options]`. Sets the exit
 * status and lets the process end on its own, so that output to a pipe is never cut short.
 */
import { runCli } from './main.ts';

process.exitCode = await runCli(process.argv.slice(2), {
  cwd: process.cwd(),
  env: process.env,
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
});
