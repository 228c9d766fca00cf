import { spawn, type ChildProcess } from 'node:child_process';
import { loadavg } from 'node:os';
import { afterEach, describe, expect, it } from 'vitest';
import { decodeHistogram } from '../../engine/histogram.ts';
import { runLevel, type OpenLevelPlan } from '../../engine/level-controller.ts';
import { startServer, type TestServer } from '../helpers/servers.ts';
import { levelPlan } from '../helpers/level-plan.ts';
import { percentile, startTimerProbe, watchMachine } from '../helpers/timer-probe.ts';
import { DISTURBED_OTHER_CORES } from '../../core/gates/baseline.ts';

let server: TestServer | undefined;
let child: ChildProcess | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
  child?.kill();
  child = undefined;
});

const open = (rateRps: number, over: Partial<OpenLevelPlan> = {}): OpenLevelPlan => ({ rateRps, arrivals: 'constant', seed: 1, maxInFlight: 1000, ...over });

/**
 * perf/perf-server.ts in its own process, answering after a plain timer (`--coarse`: the delay, then
 * 0-2 ms more); it exits when its stdin closes. Resolves with its URL. Not its precise mode: that
 * spins a core whenever an answer is due within a millisecond, which at 1,000 req/s is always, and
 * on a 2-core machine that core is the generator's (lag p99 2.0-2.7 ms measured so, 1.1-1.3 ms with
 * the plain timer, on the same machine in the same minute).
 */
async function childServer(delayMs: number): Promise<string> {
  child = spawn(process.execPath, ['--import', 'tsx', 'perf/perf-server.ts', '--delay', String(delayMs), '--coarse'], { stdio: ['pipe', 'pipe', 'inherit'] });
  let out = '';
  for await (const chunk of child.stdout!) {
    out += String(chunk);
    const m = /listening (\d+)/.exec(out);
    if (m) return `http://127.0.0.1:${m[1]}/submit`;
  }
  throw new Error(`perf-server did not start: ${out}`);
}

describe('open-loop levels', () => {
  it('times a stall from the due time: open-loop p95 >= 400 ms where closed-loop p95 stays near 2 ms', async () => {
    // Answers in 2 ms, but holds every answer for 1 s once every 4 s (from 1 s to 2 s, 5 s to 6 s ... after it started).
    const t0 = Date.now();
    const held: (() => void)[] = [];
    const stalled = (): boolean => (Date.now() - t0) % 4000 >= 1000 && (Date.now() - t0) % 4000 < 2000;
    const release = setInterval(() => {
      if (!stalled()) for (const f of held.splice(0)) f();
    }, 5);
    server = await startServer((_n, _req, res) => setTimeout(() => (stalled() ? held.push(() => res.end('{}')) : res.end('{}')), 2));
    try {
      const openLevel = await runLevel(levelPlan(server.url, { concurrency: 100, durationSeconds: 8, timeoutSeconds: 5, open: open(100) }));
      const closedLevel = await runLevel(levelPlan(server.url, { concurrency: 2, durationSeconds: 8, timeoutSeconds: 5 }));
      expect(openLevel.failures).toBe(0);
      expect(openLevel.latency_ms.p95).toBeGreaterThanOrEqual(400);
      expect(openLevel.latency_ms.p50).toBeLessThan(20);
      // Service time, from the actual send: the stall is there too, since requests were sent on time.
      expect(openLevel.open_loop!.service_time_ms.p95).toBeGreaterThanOrEqual(400);
      expect(openLevel.open_loop!.max_in_flight_seen).toBeGreaterThanOrEqual(90);
      expect(closedLevel.latency_ms.p95).toBeLessThan(10);
      console.log(
        `stalling server, 8 s: open loop 100 req/s p50 ${openLevel.latency_ms.p50} ms p95 ${openLevel.latency_ms.p95} ms p99 ${openLevel.latency_ms.p99} ms; ` +
          `closed loop concurrency 2 p50 ${closedLevel.latency_ms.p50} ms p95 ${closedLevel.latency_ms.p95} ms p99 ${closedLevel.latency_ms.p99} ms (${closedLevel.requests} requests)`,
      );
    } finally {
      clearInterval(release);
    }
  }, 60_000);

  it("keeps the rate within 1 % at 200, 1,000 and 5,000 req/s against a 5 ms server, lag p99 under 2 ms at 1,000 unless other work shared the machine, nothing dropped", async () => {
    const url = await childServer(5);
    for (const rate of [200, 1000, 5000]) {
      // 1,000 req/s for 10 s: its lag p99 rests on 10,000 arrivals, so that one pause of the machine of some 30 ms (seen
      // here now and then: every arrival due in it is late) is not the p99 of a whole level by itself, as it is of 3,000.
      const probe = rate === 1000 ? startTimerProbe() : undefined;
      const machine = rate === 1000 ? watchMachine(child!.pid!) : undefined;
      const r = await runLevel(levelPlan(url, { concurrency: rate, durationSeconds: rate === 1000 ? 10 : 3, warmupSeconds: 0.5, open: open(rate) }));
      const share = machine?.stop();
      const machineLate = probe ? percentile(await probe.stop(), 99) : 0;
      const o = r.open_loop!;
      console.log(`rate ${rate}: achieved ${o.achieved_rate_rps.toFixed(1)} req/s, lag p50 ${o.schedule_lag_ms.p50} p99 ${o.schedule_lag_ms.p99} ms, cpu ${r.generator.cpu_pct} %, service p50 ${o.service_time_ms.p50} ms, in flight max ${o.max_in_flight_seen}`);
      expect(Math.abs(o.achieved_rate_rps / rate - 1)).toBeLessThan(0.01);
      expect(o.dropped).toBe(0);
      expect(r.errors.dropped).toBe(0);
      expect(r.failures).toBe(0);
      expect(o.target_rate_rps).toBe(rate);
      expect(decodeHistogram(o.schedule_lag_histogram).totalCount).toBe(o.sent);
      expect(decodeHistogram(o.service_histogram).totalCount).toBe(r.successes);
      if (rate === 1000) {
        // The target: lag p99 under 2 ms at 1,000 req/s, which is the generator's own timing only when the
        // machine is its own. On this 2-core VM it is not always: measured 2026-12-02, lag p99 1.05-1.66 ms in most
        // 10 s runs, 3.3-4.7 ms in about one in three; 2026-12-03, 0.87-1.10 ms alone, 4.98 ms beside 3 busy processes
        // (while a thread sleeping 1 ms at a time was late by 0.70 ms at p99: the generator does more per wake-up, and
        // the scheduler makes it wait for the busy ones). So the 2 ms are asserted, plus the machine's own timer
        // lateness (the probe thread's p99), when other processes and the hypervisor took under DISTURBED_OTHER_CORES
        // (the gates' threshold, 0.25 core) over the same seconds; on a shared machine, the client-bound limit, 5 ms.
        // LOADBENCH_STRICT_TIMING=1 asserts 2 ms always.
        const taken = share ? share.otherCores + share.stealCores : 0;
        const shared = taken > DISTURBED_OTHER_CORES;
        const limit = process.env.LOADBENCH_STRICT_TIMING === '1' ? 2 : shared ? 5 : 2 + machineLate;
        const machineText =
          `other processes ${share ? share.otherCores.toFixed(2) : '?'} cores, steal ${share ? share.stealCores.toFixed(2) : '?'} cores, ` +
          `timer lateness p99 ${machineLate.toFixed(2)} ms (probe thread), load average ${loadavg()[0]!.toFixed(1)}`;
        console.log(`rate 1000: lag p99 ${o.schedule_lag_ms.p99} ms; beside it ${machineText}; limit ${limit.toFixed(2)} ms${shared ? ' (shared machine)' : ''}`);
        expect(o.schedule_lag_ms.p99, `schedule lag p99 at 1,000 req/s (${machineText}; limit ${limit.toFixed(2)} ms)`).toBeLessThan(limit);
      }
      // The timeline's achieved rate per second adds up to what was sent.
      expect(r.timeline.reduce((a, p) => a + (p.sent ?? 0), 0)).toBe(o.sent);
    }
  }, 60_000);

  it('sends a Poisson schedule whose measured inter-arrival times have a coefficient of variation within 0.1 of 1', async () => {
    const sends: number[] = [];
    server = await startServer((_n, _req, res) => {
      sends.push(performance.now());
      res.end('{}');
    });
    const r = await runLevel(levelPlan(server.url, { concurrency: 300, durationSeconds: 4, open: open(300, { arrivals: 'poisson', seed: 12345 }) }));
    expect(r.open_loop!.seed).toBe(12345);
    expect(r.open_loop!.arrivals).toBe('poisson');
    const gaps = sends.slice(1).map((t, i) => t - sends[i]!);
    const mean = gaps.reduce((a, g) => a + g, 0) / gaps.length;
    const sd = Math.sqrt(gaps.reduce((a, g) => a + (g - mean) ** 2, 0) / (gaps.length - 1));
    expect(Math.abs(sd / mean - 1)).toBeLessThan(0.1);
    expect(Math.abs(r.open_loop!.achieved_rate_rps / 300 - 1)).toBeLessThan(0.1);
  }, 30_000);

  it('beyond capacity: outstanding requests pile up to max_in_flight, the rest is dropped, the level ends on time', async () => {
    // One request at a time, 10 ms each: about 100 req/s.
    let busyUntil = 0;
    server = await startServer((_n, _req, res) => {
      const now = Date.now();
      busyUntil = Math.max(busyUntil, now) + 10;
      setTimeout(() => res.end('{}'), busyUntil - now);
    });
    const rssBefore = process.memoryUsage().rss;
    const started = Date.now();
    const r = await runLevel(levelPlan(server.url, { concurrency: 300, durationSeconds: 4, timeoutSeconds: 30, open: open(300, { maxInFlight: 200 }) }));
    const took = Date.now() - started;
    const o = r.open_loop!;
    console.log(`beyond capacity: achieved ${o.achieved_rate_rps.toFixed(1)} req/s, throughput ${r.throughput_rps.toFixed(1)}, dropped ${o.dropped}, max in flight ${o.max_in_flight_seen}, error rate ${r.error_rate_pct.toFixed(1)} %, took ${took} ms`);
    expect(o.max_in_flight_seen).toBe(200);
    expect(o.dropped).toBeGreaterThan(0);
    expect(r.errors.dropped).toBe(o.dropped);
    // Dropped arrivals count as failed requests: the users they stand for got no answer.
    expect(r.requests).toBe(r.successes + r.failures);
    expect(r.error_rate_pct).toBeCloseTo(((r.failures) / r.requests) * 100, 6);
    expect(o.achieved_rate_rps).toBeLessThan(300 * 0.95);
    expect(r.throughput_rps).toBeLessThan(120);
    expect(r.duration_s).toBeCloseTo(4, 1);
    expect(took).toBeLessThan(5000);
    expect(o.in_flight_at_end).toBeGreaterThan(0);
    expect(process.memoryUsage().rss - rssBefore).toBeLessThan(100 * 1024 * 1024);
  }, 30_000);

  it('counts the first N arrivals after the warm-up in requests_per_level mode, split exactly over 2 generator threads', async () => {
    server = await startServer((_n, _req, res) => res.end('{}'));
    // max_in_flight leaves room for a slow moment of a busy machine: an arrival dropped for want of a
    // connection would not be sent, and this test is about counting, not about drops.
    const r = await runLevel(levelPlan(server.url, { concurrency: 400, requestsPerLevel: 801, warmupSeconds: 0.5, threads: 2, open: open(400, { maxInFlight: 800 }) }));
    expect(r.generator.threads).toBe(2);
    expect(r.requests).toBe(801);
    expect(r.open_loop!.sent).toBe(801);
    expect(r.warmup_requests).toBeGreaterThan(150);
    // 801 arrivals at 400 req/s take 2 s.
    expect(r.duration_s).toBeGreaterThan(1.9);
    expect(r.duration_s).toBeLessThan(2.3);
    expect(r.open_loop!.achieved_rate_rps).toBeGreaterThan(400 * 0.9);
  }, 30_000);

  it('sends only its part of the schedule with a partition: two halves make the whole', async () => {
    server = await startServer((_n, _req, res) => res.end('{}'));
    const whole = await runLevel(levelPlan(server.url, { concurrency: 200, requestsPerLevel: 300, open: open(200) }));
    const first = await runLevel(levelPlan(server.url, { concurrency: 200, requestsPerLevel: 300, open: open(200, { partition: { index: 1, count: 2 } }) }));
    const second = await runLevel(levelPlan(server.url, { concurrency: 200, requestsPerLevel: 300, open: open(200, { partition: { index: 2, count: 2 } }) }));
    expect(whole.open_loop!.sent).toBe(300);
    expect(first.open_loop!.sent + second.open_loop!.sent).toBe(300);
    expect(first.open_loop!.sent).toBe(150);
    expect(first.open_loop!.partition).toEqual({ index: 1, count: 2 });
    expect(first.open_loop!.achieved_rate_rps).toBeGreaterThan(90);
    await expect(runLevel(levelPlan(server.url, { open: open(200, { partition: { index: 3, count: 2 } }), durationSeconds: 1 }))).rejects.toThrow(/from 1 to 2/);
  }, 30_000);
});
