import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { defineCommand, UsageError, type CliIo, type Command } from '../../cli/command.ts';
import { COMMANDS } from '../../cli/commands.ts';
import { runCli } from '../../cli/main.ts';
import { SummaryFileError } from '../../core/errors.ts';
import { runLoadbench } from '../helpers/cli.ts';
import { REPO_ROOT } from '../helpers/fixture-project.ts';

/** Runs the CLI in-process, collecting what it prints. */
async function cli(argv: string[], commands?: readonly Command[]) {
  const out: string[] = [];
  const err: string[] = [];
  const io: CliIo = { cwd: REPO_ROOT, env: {}, out: (l) => out.push(l), err: (l) => err.push(l) };
  const code = await runCli(argv, io, commands);
  return { code, out: out.join('\n'), err };
}

const VERSION = (JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string }).version;

describe('loadbench <command>', () => {
  it('--version prints the package version; --help lists every command', async () => {
    expect(await cli(['--version'])).toEqual({ code: 0, out: VERSION, err: [] });
    expect((await cli(['-v'])).out).toBe(VERSION);
    const help = await cli(['--help']);
    expect(help.code).toBe(0);
    expect(help.out.split('\n')[0]).toBe('usage: loadbench <command> [options]');
    for (const c of COMMANDS) expect(help.out).toMatch(new RegExp(`^  ${c.name} +${c.summary.replace(/[()[\].*+?]/g, '\\$&')}$`, 'm'));
    expect(COMMANDS.map((c) => c.name)).toEqual(['init', 'report', 'compare', 'baseline', 'ab', 'merge']);
  });

  it('every command has --help with its usage, each option and its exit status', async () => {
    for (const c of COMMANDS) {
      for (const flag of ['--help', '-h']) {
        const r = await cli([c.name, flag]);
        expect(r.code, c.name).toBe(0);
        expect(r.err).toEqual([]);
        const lines = r.out.split('\n');
        expect(lines[0]).toBe(`usage: loadbench ${c.name} ${c.args}`);
        for (const name of Object.keys(c.options)) expect(r.out, `${c.name} --${name}`).toMatch(new RegExp(`--${name}\\b`));
        expect(lines.at(-1)).toBe(`exit status: ${c.exitStatus}`);
      }
    }
  });

  it('a usage error exits 2 with one line that names the mistake and the usage', async () => {
    const cases: [string[], RegExp][] = [
      [[], /^loadbench: missing command: one of init, report, compare, baseline, ab, merge \(usage: loadbench <command> \[options\]; see loadbench --help\)$/],
      [['frobnicate'], /^loadbench: unknown command "frobnicate": expected one of init, report, compare, baseline, ab, merge \(usage: /],
      [['--frob'], /^loadbench: Unknown option '--frob' \(usage: loadbench <command>/],
      [['report'], /^loadbench report: expected 1 argument, got none \(usage: loadbench report <run_label> .*; see loadbench report --help\)$/],
      [['report', 'a', 'b'], /^loadbench report: expected 1 argument, got 2 \(a b\) \(usage: /],
      [['report', 'a', '--nope'], /^loadbench report: Unknown option '--nope' \(usage: /],
      [['baseline', 'a', '--out'], /^loadbench baseline: Option '--out <value>' argument missing \(usage: /],
      [['compare', 'a'], /^loadbench compare: expected at least 2 arguments, got 1 \(a\) \(usage: /],
      [['init', 'extra'], /^loadbench init: expected 0 arguments, got 1 \(extra\) \(usage: loadbench init \[--force\]; /],
      [['init', '--force=yes'], /^loadbench init: Option '--force' does not take an argument \(usage: /],
    ];
    for (const [argv, line] of cases) {
      const r = await cli(argv);
      expect(r.code, argv.join(' ')).toBe(2);
      expect(r.out, argv.join(' ')).toBe('');
      expect(r.err, argv.join(' ')).toEqual([expect.stringMatching(line)]);
    }
  });

  it("ends with the command's status, 2 for a late usage error, the error's code for bad input, 1 for a bug", async () => {
    const fake = (run: () => Promise<number>): Command =>
      defineCommand({ name: 'fake', summary: 's', args: '', positionals: { min: 0, max: 0 }, help: [], options: {}, exitStatus: '0', run }) as Command;
    expect((await cli(['fake'], [fake(async () => 1)])).code).toBe(1);
    const late = await cli(['fake'], [
      fake(async () => {
        throw new UsageError('--replicas needs numbers');
      }),
    ]);
    expect([late.code, late.err]).toEqual([2, [expect.stringMatching(/^loadbench fake: --replicas needs numbers \(usage: loadbench fake /)]]);
    const input = await cli(['fake'], [
      fake(async () => {
        throw new SummaryFileError('runs/x_summary.json: no such summary');
      }),
    ]);
    expect([input.code, input.err]).toEqual([2, ['loadbench fake: runs/x_summary.json: no such summary']]);
    const bug = await cli(['fake'], [
      fake(async () => {
        throw new TypeError('x is undefined');
      }),
    ]);
    expect(bug.code).toBe(1);
    expect(bug.err[0]).toMatch(/^loadbench fake: unexpected error \(please report it\): TypeError: x is undefined\n\s+at /);
  });

  it('as a process: exit status and output of the real command', () => {
    const version = runLoadbench(REPO_ROOT, ['--version']);
    expect([version.code, version.stdout, version.stderr]).toEqual([0, `${VERSION}\n`, '']);
    const usage = runLoadbench(REPO_ROOT, ['report']);
    expect(usage.code).toBe(2);
    expect(usage.stdout).toBe('');
    expect(usage.stderr.split('\n')).toEqual([expect.stringMatching(/^loadbench report: expected 1 argument/), '']);
  });
});
