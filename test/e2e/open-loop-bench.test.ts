import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readRunSummary } from '../../core/model/read-summary.ts';
import { fixtureProject } from '../helpers/fixture-project.ts';
import { startServer, type TestServer } from '../helpers/servers.ts';

// One request at a time, 10 ms each: about 100 req/s of capacity.
let server: TestServer;
let busyUntil = 0;
beforeAll(async () => {
  server = await startServer((_n, _req, res) => {
    const now = Date.now();
    busyUntil = Math.max(busyUntil, now) + 10;
    setTimeout(() => res.end('{"ok":true}'), busyUntil - now);
  });
});
afterAll(() => server.close());

const readCsv = (path: string): Record<string, string>[] => parse(readFileSync(path, 'utf8'), { columns: true });

describe('an open-loop sweep through npx vitest bench', () => {
  it('runs one task per arrival rate, writes the open-loop columns and fails the rate the target cannot take', async () => {
    const p = fixtureProject(
      `run_label: open
target: { url: "${server.url}", method: POST }
workload: { arrival_rates: [20, 300], arrivals: poisson, seed: 7, max_in_flight: 50, duration_seconds: 1.5, warmup_seconds: 0.2, timeout_seconds: 5 }
slo: { p95_ms: 500, max_dropped_pct: 5 }
`,
      { 'submit.bench.ts': `import { scenario } from SCENARIO;\nscenario('submit');\n` },
    );
    const { code, output } = await p.runBench();
    expect(output).toContain('20 req/s');
    expect(output).toContain('300 req/s');
    expect(code, output).toBe(1);
    expect(output).toMatch(/SLO failed: scenario "submit" at 300 req\/s: max_dropped_pct/);
    const rows = readCsv(join(p.dir, 'runs/open_summary.csv'));
    expect(rows.map((r) => [r.concurrency, r.target_rate_rps, r.slo_pass])).toEqual([
      ['', '20', 'true'],
      ['', '300', 'false'],
    ]);
    const [low, high] = rows as [Record<string, string>, Record<string, string>];
    expect(Number(low.achieved_rate_rps)).toBeGreaterThan(10);
    expect(Number(low.dropped)).toBe(0);
    expect(Number(high.dropped)).toBeGreaterThan(0);
    expect(Number(high.errors_dropped)).toBe(Number(high.dropped));
    expect(Number(high.max_in_flight_seen)).toBe(50);
    expect(Number(high.service_time_p50_ms)).toBeGreaterThan(0);
    expect(high.schedule_lag_p99_ms).not.toBe('');
    const summary = await readRunSummary(join(p.dir, 'runs/open_summary.json'));
    const s = summary.scenarios[0]!;
    expect(s.workload.arrival_rates).toEqual([20, 300]);
    expect(s.workload.seed).toBe(7);
    expect(s.slo.min_achieved_rate_pct).toBe(95);
    expect(s.levels.map((l) => l.target_rate_rps)).toEqual([20, 300]);
    const checks = s.levels[1]!.status !== 'skipped' ? s.levels[1]!.slo.checks.map((c) => c.metric) : [];
    expect(checks).toContain('min_achieved_rate_pct');
    const report = readFileSync(join(p.dir, 'runs/open_report.md'), 'utf8');
    expect(report).toContain('Capacity at the SLO');
    expect(report).toContain('20 req/s offered');
    expect(report).toMatch(/\*\*Saturation\*\* at 300 req\/s/);
    expect(existsSync(join(p.dir, 'runs/open_throughput.png'))).toBe(true);
  }, 120_000);
});
