import { describe, expect, it } from 'vitest';
import type { LevelResources, ProcessResources } from '../../../core/model/resources.ts';
import { measuredLevels } from '../../../core/model/summary.ts';
import { compareRuns } from '../../../reporters/compare/compare-model.ts';
import { levelBottleneck } from '../../../reporters/report/bottleneck.ts';
import { scenarioFindings } from '../../../reporters/report/findings.ts';
import { buildReportView } from '../../../reporters/report/report-model.ts';
import { fixtureLevel, kneeSummary } from '../../fixtures/summaries.ts';

const proc = (label: string, role: string, cores: number, extra: Partial<ProcessResources> = {}): ProcessResources => ({
  label,
  role,
  pid: 1000 + label.length,
  mean_cores: cores,
  max_cores: cores * 1.1,
  max_rss_mb: 80,
  ...extra,
});

/** Resource figures of one level: the given processes, loadbench, a 2-core machine. */
export function resources(processes: ProcessResources[], machinePct: number, generator = 0.2, steal = 0): LevelResources {
  const target = processes.reduce((s, p) => s + p.mean_cores, 0);
  return {
    available: true,
    samples: 20,
    covered_s: 5,
    target: { mean_cores: target, max_cores: target * 1.1, max_rss_mb: 300, process_count: processes.length },
    processes,
    generator: { mean_cores: generator, max_cores: generator, max_rss_mb: 120 },
    machine: { cores: 2, mean_cpu_pct: machinePct, max_cpu_pct: Math.min(100, machinePct + 5), steal_pct: steal, other_cores: Math.max(0, (2 * machinePct) / 100 - target - generator) },
    timeline: [],
  };
}

const gatewayBound = resources([proc('gateway', 'gateway', 0.97), proc('worker 1', 'worker', 0.3), proc('worker 2', 'worker', 0.3), proc('sh', 'sh', 0, { wrapper: true })], 80);

describe('levelBottleneck', () => {
  it('names the CPU-bound process and what the others used', () => {
    const b = levelBottleneck(fixtureLevel('submit', 16, 900, 40, { resources: gatewayBound }));
    expect(b).toEqual({
      concurrency: 16,
      kind: 'process',
      role: 'gateway',
      text: 'the gateway process used 0.97 of a core while each worker used 0.30: the gateway is the bottleneck (machine 80 % busy)',
    });
  });

  it('says the machine is the limit when its CPU is (nearly) all busy, steal included', () => {
    const busy = levelBottleneck(fixtureLevel('submit', 16, 900, 40, { resources: resources([proc('gateway', 'gateway', 0.9), proc('worker', 'worker', 0.7)], 98) }));
    expect(busy?.kind).toBe('machine');
    expect(busy?.text).toBe(
      "the machine's CPU was 98 % busy (cores used of 2: the system under test 1.60, loadbench 0.20, other work 0.16): the machine, not the system's design, is the limit",
    );
    const stolen = levelBottleneck(fixtureLevel('submit', 16, 900, 40, { resources: resources([proc('gateway', 'gateway', 0.5)], 70, 0.2, 25) }));
    expect(stolen?.kind).toBe('machine');
    expect(stolen?.text).toContain('and 25 % was taken by the hypervisor (steal)');
  });

  it('every replica CPU-bound: the replicas are the bottleneck; one of several: that one', () => {
    const all = levelBottleneck(fixtureLevel('submit', 8, 900, 40, { resources: resources([proc('gateway', 'gateway', 0.2), proc('worker 1', 'worker', 0.9), proc('worker 2', 'worker', 0.95)], 60) }));
    expect(all?.text).toBe('the 2 worker processes used 0.90 to 0.95 of a core each while the gateway used 0.20: the workers are the bottleneck (machine 60 % busy)');
    const one = levelBottleneck(fixtureLevel('submit', 8, 900, 40, { resources: resources([proc('worker 1', 'worker', 0.3), proc('worker 2', 'worker', 0.92)], 60) }));
    expect(one?.text).toBe('the worker 2 process used 0.92 of a core: worker 2 is the bottleneck (machine 60 % busy)');
  });

  it('nothing CPU-bound, or the load generator; no figures: no verdict', () => {
    const idle = levelBottleneck(fixtureLevel('submit', 1, 100, 5, { resources: resources([proc('gateway', 'gateway', 0.1), proc('esbuild', 'esbuild', 0.001)], 20) }));
    expect(idle).toMatchObject({ kind: 'none' });
    expect(idle!.text).toBe('the gateway process used 0.10 of a core, the machine was 20 % busy: nothing was CPU-bound, so the limit is not CPU (waiting on I/O, locks, a queue, or too few clients)');
    expect(levelBottleneck(fixtureLevel('submit', 1, 100, 5, { resources: resources([proc('gateway', 'gateway', 0.4)], 60, 0.95) }))?.kind).toBe('generator');
    expect(levelBottleneck(fixtureLevel('submit', 1, 100, 5))).toBeUndefined();
    expect(levelBottleneck(fixtureLevel('submit', 1, 100, 5, { resources: { available: false, reason: 'no procfs' } }))).toBeUndefined();
  });
});

describe('the findings and the comparison use the measured figures', () => {
  it('the report lists the bottleneck per level; a run without figures says why', () => {
    const summary = kneeSummary();
    const s = summary.scenarios[0]!;
    s.levels = s.levels.map((l) => (l.concurrency === 16 ? { ...l, resources: gatewayBound } : l));
    expect(scenarioFindings(s).bottlenecks.map((b) => b.concurrency)).toEqual([16]);
    const view = buildReportView(summary, { hardware: 'h', software: 's' });
    expect(view.findings[0]!.items_md.join('\n')).toContain('at concurrency 16 the gateway process used 0.97 of a core while each worker used 0.30: the gateway is the bottleneck');
    expect(view.figures.map((f) => f.file)).toContain('fixture_resources.png');

    const none = kneeSummary();
    none.resources = { available: false, reason: "resource figures need Linux's /proc; this is darwin", monitored: [], interval_ms: 250 };
    const noneView = buildReportView(none, { hardware: 'h', software: 's' });
    expect(noneView.findings[0]!.items_md.at(-1)).toBe("**Resources of the system under test**: unavailable: resource figures need Linux's /proc; this is darwin.");
    expect(noneView.figures.map((f) => f.file)).not.toContain('fixture_resources.png');
  });

  it('says why scaling stops from the CPU of the run that did not gain', () => {
    const one = kneeSummary();
    const two = kneeSummary();
    const generator = { cpu_pct: 30, event_loop_delay_p99_ms: 1, client_bound: false };
    one.scenarios[0]!.levels = measuredLevels(one.scenarios[0]!).map((l) => ({ ...l, generator }));
    // Two replicas bring 3 % more: the gateway at its limit.
    two.scenarios[0]!.levels = measuredLevels(two.scenarios[0]!).map((l) => ({ ...l, generator, throughput_rps: l.throughput_rps * 1.03, resources: gatewayBound }));
    const c = compareRuns(
      [
        { label: 'run-1x', summary: one, replicas: 1, replicasFrom: 'scaling sweep' },
        { label: 'run-2x', summary: two, replicas: 2, replicasFrom: 'scaling sweep' },
      ],
      2,
    );
    const step = c.scaling.find((l) => l.includes('scaling stops here'));
    expect(step).toContain("At run-2x's peak (concurrency 32) the gateway process used 0.97 of a core while each worker used 0.30: the gateway is the bottleneck");
    expect(step).toContain('More replicas help only if they relieve the gateway.');
    expect(step).not.toContain('not the replica count, are the limit');
    expect(c.figures.find((f) => f.label === 'run-2x')?.bottleneck).toContain('the gateway is the bottleneck');
  });
});
