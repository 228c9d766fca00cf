import { describe, expect, it } from 'vitest';
import { levelsOf } from '../../fixtures/summaries.ts';
import { scenarioFindings } from '../../../reporters/report/findings.ts';
import { fixtureLevel, kneeSummary } from '../../fixtures/summaries.ts';

describe('findings', () => {
  const f = scenarioFindings(kneeSummary().scenarios[0]!);

  it('finds the peak throughput and its level', () => {
    expect(f.peak).toEqual({ concurrency: 32, throughput_rps: 1160, p95_ms: 95 });
  });

  it('finds the knee: 8 → 16 is the first step with throughput +4.5 % (< 10 %) and p95 +125 % (> 50 %)', () => {
    expect(f.knee).toMatchObject({ concurrency: 16, previous: 8 });
    expect(f.knee!.throughput_growth_pct).toBeCloseTo(4.545, 2);
    expect(f.knee!.p95_growth_pct).toBeCloseTo(125, 5);
  });

  it('finds no knee on a sweep that scales', () => {
    const s = kneeSummary().scenarios[0]!;
    s.levels = [fixtureLevel('x', 1, 100, 10), fixtureLevel('x', 2, 200, 10), fixtureLevel('x', 4, 400, 11)];
    expect(scenarioFindings(s).knee).toBeUndefined();
  });

  it('finds the highest level meeting every SLO and the levels that broke it', () => {
    expect(f.has_slo).toBe(true);
    expect(f.slo_capacity).toEqual({ concurrency: 16, throughput_rps: 1150, p95_ms: 45 });
    expect(f.slo_failures).toEqual([{ concurrency: 32, metrics: ['p95_ms'] }]);
  });

  it('reports no SLO capacity when the lowest level already fails', () => {
    const s = kneeSummary().scenarios[0]!;
    for (const l of levelsOf(s)) l.slo = { judged: true, pass: false, checks: [{ metric: 'p95_ms', limit: 1, value: 8, pass: false }] };
    const g = scenarioFindings(s);
    expect(g.slo_capacity).toBeUndefined();
    expect(g.slo_failures[0]).toEqual({ concurrency: 1, metrics: ['p95_ms'] });
  });

  it('finds where errors start and their categories', () => {
    expect(f.errors_start).toEqual({ concurrency: 32, error_rate_pct: (50 / 5850) * 100, categories: ['timeout', 'http_5xx'] });
  });

  it("applies Little's law: level 1 holds 0.5 of its 1 client (client-limited), the others hold their concurrency", () => {
    expect(f.little[0]).toMatchObject({ concurrency: 1, client_limited: true });
    expect(f.little[0]!.in_system).toBeCloseTo(0.5, 6);
    expect(f.little[0]!.ratio).toBeCloseTo(0.5, 6);
    expect(f.little.slice(1).every((x) => !x.client_limited && Math.abs(x.ratio - 1) < 1e-9)).toBe(true);
  });

  it('flags the levels where the generator was client-bound, and partial levels', () => {
    expect(f.client_bound_levels).toEqual([32]);
    expect(f.little.find((x) => x.concurrency === 32)?.client_bound).toBe(true);
    const s = kneeSummary().scenarios[0]!;
    levelsOf(s)[2]!.status = 'partial';
    expect(scenarioFindings(s).partial_levels).toEqual([4]);
  });
});
