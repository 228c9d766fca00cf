import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { connectBenchChannel, listenForBenches, type BenchMessage } from '../../plugin/bench-channel.ts';
import type { ProgressEvent, ScenarioSnapshot } from '../../core/model/summary.ts';

const event = (): ProgressEvent => ({ scenario: 's', concurrency: 4, phase: 'measure', elapsed_s: 1, total_s: 5, requests: 10, failures: 0, current_rps: 10, p95_ms: 2 });
const scenario = { name: 's' } as ScenarioSnapshot;
const socket = (): string => join(mkdtempSync(join(tmpdir(), 'lb-sock-')), 'b.sock');
const until = async (ok: () => boolean): Promise<void> => {
  for (let i = 0; i < 100 && !ok(); i++) await new Promise((r) => setTimeout(r, 10));
};

describe('bench channel', () => {
  it('carries messages from a bench process to the main process, the pid first', async () => {
    const path = socket();
    const got: BenchMessage[] = [];
    const server = await listenForBenches(path, { onMessage: (m) => got.push(m), beforeLevel: async () => undefined });
    const channel = connectBenchChannel(path);
    channel.send({ type: 'progress', event: event() });
    channel.send({ type: 'level-end' });
    await until(() => got.length >= 3);
    await server.close();
    expect(got).toEqual([{ type: 'hello', pid: process.pid }, { type: 'progress', event: event() }, { type: 'level-end' }]);
  });

  it("lets a level start only once the orchestrator says so, and passes on its refusal", async () => {
    const path = socket();
    const asked: number[] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const server = await listenForBenches(path, {
      onMessage: () => undefined,
      beforeLevel: async (_s, run) => {
        asked.push(run.concurrency);
        if (run.concurrency === 2) await gate;
        if (run.concurrency === 3) throw new Error('the target could not be restarted');
      },
    });
    const channel = connectBenchChannel(path);
    let started = false;
    const first = channel.beforeLevel(scenario, { concurrency: 2 }).then(() => (started = true));
    await until(() => asked.length === 1);
    await new Promise((r) => setTimeout(r, 50));
    expect(started).toBe(false);
    release();
    await first;
    expect(started).toBe(true);
    await expect(channel.beforeLevel(scenario, { concurrency: 3, repetition: 1 })).rejects.toThrow('the target could not be restarted');
    await server.close();
    expect(asked).toEqual([2, 3]);
  });

  it('drops messages and lets levels go ahead when nobody listens', async () => {
    const channel = connectBenchChannel(join(tmpdir(), 'no-such-loadbench.sock'));
    expect(() => channel.send({ type: 'level-end' })).not.toThrow();
    await expect(channel.beforeLevel(scenario, { concurrency: 1 })).resolves.toBeUndefined();
  });
});
