import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLIENT_BOUND_LIMITS, isClientBound } from '../../engine/client-bound.ts';
import { runLevel } from '../../engine/level-controller.ts';
import { levelPlan } from '../helpers/level-plan.ts';
import { startServer, type TestServer } from '../helpers/servers.ts';

let server: TestServer;
beforeAll(async () => {
  server = await startServer((_n, _req, res) => setTimeout(() => res.end('{"ok":true}'), 20));
});
afterAll(() => server.close());

function burn(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    // a check that costs CPU: the generator, not the target, becomes the limit
  }
}

describe('client_bound thresholds', () => {
  it('defaults to the documented 90 % of a core, 20 ms of event-loop delay p99 and 5 ms of open-loop schedule lag p99', () => {
    expect(CLIENT_BOUND_LIMITS).toEqual({ cpuPct: 90, eventLoopP99Ms: 20, scheduleLagP99Ms: 5 });
  });

  it('does not call a level with 5-20 ms of event-loop delay and little CPU client-bound (a shared machine, not a saturated client)', () => {
    for (const delay of [5.3, 8.9, 10.2, 19.9, 20]) expect(isClientBound(4, delay)).toBe(false);
  });

  it('calls a level client-bound above 20 ms of delay or at 90 % CPU', () => {
    expect(isClientBound(4, 20.1)).toBe(true);
    expect(isClientBound(90, 0)).toBe(true);
    expect(isClientBound(89.9, 0)).toBe(false);
    expect(isClientBound(50, 6, { cpuPct: 40, eventLoopP99Ms: 5, scheduleLagP99Ms: 5 })).toBe(true);
  });
});

describe('the generator checks itself', () => {
  it('marks a level client_bound when its own CPU is saturated', async () => {
    const r = await runLevel(
      levelPlan(server.url, {
        // 32 checks of 4 ms per 20 ms server round: the client needs 128 ms of CPU per 20 ms.
        concurrency: 32,
        durationSeconds: 1,
        check: () => {
          burn(4);
          return true;
        },
      }),
    );
    // Alone it uses a whole core; beside other test files on 2 cores, its timers run late instead.
    expect(r.generator.cpu_pct > 90 || r.generator.event_loop_delay_p99_ms > 20).toBe(true);
    expect(r.generator.client_bound).toBe(true);
  });

  // Other test files share the 2 cores; a descheduled process sees event-loop delay, so allow retries.
  it('does not mark a light level', { retry: 2 }, async () => {
    const r = await runLevel(levelPlan(server.url, { concurrency: 2, durationSeconds: 1 }));
    expect(r.generator.cpu_pct).toBeLessThan(50);
    expect(r.generator.event_loop_delay_p99_ms).toBeLessThan(20);
    expect(r.generator.client_bound).toBe(false);
  });

  it('judges each generator thread by how busy its event loop was', async () => {
    const busy = await runLevel(levelPlan(server.url, { concurrency: 4, durationSeconds: 0.5, threads: 2, clientBound: { cpuPct: 0.001, eventLoopP99Ms: 1000, scheduleLagP99Ms: 5 } }));
    expect(busy.generator.threads).toBe(2);
    expect(busy.generator.client_bound).toBe(true);
    // No event loop can be busier than 100 % of the time.
    const never = await runLevel(levelPlan(server.url, { concurrency: 4, durationSeconds: 0.5, threads: 2, clientBound: { cpuPct: 100.1, eventLoopP99Ms: 1000, scheduleLagP99Ms: 5 } }));
    expect(never.generator.client_bound).toBe(false);
  });
});
