import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ConfigEnv, UserConfig } from 'vite';
import { describe, expect, it, vi } from 'vitest';
import { loadbench } from '../../plugin/index.ts';
import { LoadbenchVitestReporter } from '../../plugin/vitest-reporter.ts';
import { BenchmarkReporter } from 'vitest/node';

type ConfigHook = (config: UserConfig, env: ConfigEnv) => UserConfig | undefined;
const bench: ConfigEnv = { command: 'serve', mode: 'benchmark' };

function project(yaml: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'loadbench-plugin-'));
  writeFileSync(join(dir, 'config.yaml'), yaml);
  return dir;
}

const VALID = `run_label: unit
target: { url: "http://127.0.0.1:9/submit", method: POST, token: abc }
workload: { concurrency_levels: [1, 2], duration_seconds: 1 }
slo: { p95_ms: 100 }
`;

describe('loadbench() plugin factory', () => {
  it('is a named Vite plugin', () => {
    const p = loadbench();
    expect(p.name).toBe('loadbench');
    expect(typeof p.config).toBe('function');
  });

  it('does nothing in test mode', () => {
    const hook = loadbench().config as ConfigHook;
    expect(hook({}, { command: 'serve', mode: 'test' })).toBeUndefined();
  });

  it('in benchmark mode: bench include, one file at a time, run once, our reporter, config provided', () => {
    const root = project(VALID);
    const out = (loadbench().config as ConfigHook)({ root }, bench)!;
    const t = out.test!;
    expect(t.benchmark?.include).toEqual(['benches/**/*.bench.ts']);
    expect(t.fileParallelism).toBe(false);
    expect(t.maxWorkers).toBe(1);
    expect(t.watch).toBe(false);
    expect(t.pool).toBe('forks');
    const reporters = t.benchmark?.reporters as unknown[];
    // Only loadbench's own lines by default: Vitest's tinybench table describes one call of a task, not the load.
    expect(reporters).toHaveLength(1);
    expect(reporters[0]).toBeInstanceOf(LoadbenchVitestReporter);
    // The target's lifecycle belongs to the orchestrator behind the reporter, not to a global setup.
    expect(t.globalSetup).toBeUndefined();
    const provided = (t.provide as { loadbench: { config: { run_label: string; slo: unknown } } }).loadbench;
    expect(provided.config.run_label).toBe('unit');
    expect(provided.config.slo).toEqual({ p95_ms: 100 });
    expect((t.provide as { loadbench: { benchSocket: string } }).loadbench.benchSocket).toMatch(/\.sock$/);
  });

  it("keeps Vitest's own bench table when asked, after ours and without its summary window", () => {
    const root = project(VALID);
    const reporters = (loadbench({ reporters: ['default'] }).config as ConfigHook)({ root }, bench)!.test!.benchmark?.reporters as unknown[];
    expect(reporters[0]).toBeInstanceOf(LoadbenchVitestReporter);
    expect(reporters[1]).toBeInstanceOf(BenchmarkReporter);
    // Its summary window would fight the live progress line.
    expect((reporters[1] as { options: { summary: boolean } }).options.summary).toBe(false);
  });

  it('watches only when asked', () => {
    const root = project(VALID);
    const out = (loadbench({ watch: true }).config as ConfigHook)({ root }, bench)!;
    expect(out.test!.watch).toBe(true);
  });

  it('stops with one line per config problem and no stack trace', () => {
    const root = project('target: { url: "nope", method: POST }\nworkload: { concurrency_levels: [] }\n');
    const exit = vi.spyOn(process, 'exit').mockImplementation(((code?: number) => {
      throw new Error(`exit ${code}`);
    }) as never);
    const lines: string[] = [];
    const err = vi.spyOn(process.stderr, 'write').mockImplementation(((chunk: string) => {
      lines.push(String(chunk));
      return true;
    }) as never);
    try {
      expect(() => (loadbench().config as ConfigHook)({ root }, bench)).toThrow('exit 2');
    } finally {
      exit.mockRestore();
      err.mockRestore();
    }
    const text = lines.join('');
    expect(text).toMatch(/invalid configuration, no request was sent/);
    expect(text).toMatch(/- target.url: found the string "nope"/);
    expect(text).toMatch(/- workload.concurrency_levels: found an empty list/);
    expect(text).not.toMatch(/\n\s+at /);
  });
});
