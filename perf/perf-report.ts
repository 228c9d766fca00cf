import { median } from '../core/model/stats.ts';
import type { GeneratorResult } from './generator.ts';


/** All repetitions of one server setting. */
export interface PerfScenario {
  /** How long the server waits before answering, ms. */
  delay_ms: number;
  connections: number;
  seconds: number;
  warmup_s: number;
  reps: number;
  /** Server on CPU 1, generators on CPU 0. */
  pinned: boolean;
  /** The canned-bytes TCP server instead of node:http. */
  raw_server?: boolean;
  /** autocannon's p50/p99 from its exact response times rather than its whole milliseconds. */
  precise_latency?: boolean;
  results: GeneratorResult[];
}

/** Median and range of one figure over repetitions. */
export interface Spread {
  median: number;
  min: number;
  max: number;
}

/** Per generator and server setting. */
export interface GeneratorStats {
  generator: string;
  runs: number;
  rps: Spread;
  cpu_us_per_request: Spread;
  cpu_pct: Spread;
  p50_ms: Spread;
  p99_ms: Spread;
  errors: number;
  /** Runs that loadbench itself marked client_bound. */
  client_bound_runs?: number;
}

/** Where the numbers were taken. Load averages are the 1-minute ones: other work on the machine skews every figure. */
export interface PerfEnvironment {
  taskset: boolean;
  node: string;
  load_before: number;
  load_after?: number;
}

/** One server setting, summarised. Ratios are of medians; NaN when a generator is missing. */
export interface PerfScenarioSummary {
  delay_ms: number;
  connections: number;
  seconds: number;
  reps: number;
  pinned: boolean;
  raw_server: boolean;
  precise_latency: boolean;
  generators: GeneratorStats[];
  /** loadbench / autocannon. */
  ratios: { rps: number; cpu_us_per_request: number; p50_ms: number; p99_ms: number };
  /** Throughput lost by writing the raw CSV: 1 - rps(raw on) / rps(raw off). */
  raw_csv_cost?: number;
  /** generator_threads 2 / 1, throughput. */
  threads_speedup?: number;
}

/** The perf run, summarised. */
export interface PerfSummary {
  environment: PerfEnvironment;
  scenarios: PerfScenarioSummary[];
}


const spread = (xs: number[]): Spread => ({ median: median(xs), min: Math.min(...xs), max: Math.max(...xs) });

/** Medians, ranges and ratios of a perf run. Pure. */
export function summarizePerf(scenarios: PerfScenario[], environment: PerfEnvironment): PerfSummary {
  return {
    environment,
    scenarios: scenarios.map((s) => {
      const names = [...new Set(s.results.map((r) => r.generator))];
      const generators = names.map((generator): GeneratorStats => {
        const rs = s.results.filter((r) => r.generator === generator);
        const bound = rs.filter((r) => r.client_bound !== undefined);
        return {
          generator,
          runs: rs.length,
          rps: spread(rs.map((r) => r.rps)),
          cpu_us_per_request: spread(rs.map((r) => r.cpu_us_per_request)),
          cpu_pct: spread(rs.map((r) => r.cpu_pct ?? 0)),
          p50_ms: spread(rs.map((r) => r.p50_ms)),
          p99_ms: spread(rs.map((r) => r.p99_ms)),
          errors: rs.reduce((a, r) => a + r.errors, 0),
          ...(bound.length ? { client_bound_runs: bound.filter((r) => r.client_bound).length } : {}),
        };
      });
      const find = (name: string): GeneratorStats | undefined => generators.find((g) => g.generator === name);
      const lb = find('loadbench');
      const ac = find('autocannon');
      const raw = find('loadbench+raw');
      const two = find('loadbench-2t');
      const ratio = (pick: (g: GeneratorStats) => Spread): number => (lb && ac ? pick(lb).median / pick(ac).median : NaN);
      return {
        delay_ms: s.delay_ms,
        connections: s.connections,
        seconds: s.seconds,
        reps: s.reps,
        pinned: s.pinned,
        raw_server: s.raw_server ?? false,
        precise_latency: s.precise_latency ?? false,
        generators,
        ratios: {
          rps: ratio((g) => g.rps),
          cpu_us_per_request: ratio((g) => g.cpu_us_per_request),
          p50_ms: ratio((g) => g.p50_ms),
          p99_ms: ratio((g) => g.p99_ms),
        },
        ...(raw && lb ? { raw_csv_cost: 1 - raw.rps.median / lb.rps.median } : {}),
        ...(two && lb ? { threads_speedup: two.rps.median / lb.rps.median } : {}),
      };
    }),
  };
}

const f = (s: Spread, d: number): string => `${s.median.toFixed(d)} (${s.min.toFixed(d)}–${s.max.toFixed(d)})`;

/** The Markdown table printed by `npm run perf`. Pure. */
export function formatPerfMarkdown(p: PerfSummary): string {
  const out: string[] = [];
  for (const s of p.scenarios) {
    const notes: string[] = [];
    if (!Number.isNaN(s.ratios.rps)) {
      // autocannon's whole milliseconds can be 0: no ratio then.
      const r = (x: number): string => (Number.isFinite(x) ? x.toFixed(2) : 'n/a');
      notes.push(
        `loadbench / autocannon (medians): req/s ${r(s.ratios.rps)}, CPU per request ${r(s.ratios.cpu_us_per_request)}, ` +
          `p50 ${r(s.ratios.p50_ms)}, p99 ${r(s.ratios.p99_ms)}`,
      );
    }
    if (s.precise_latency) notes.push("autocannon's p50 and p99 here come from its exact response times (it reports whole milliseconds)");
    if (s.raw_csv_cost !== undefined) {
      // A negative cost is noise between repetitions, not a speed-up: say so rather than print "-5 %".
      const pct = s.raw_csv_cost * 100;
      notes.push(
        pct >= 0
          ? `raw CSV on costs ${pct.toFixed(1)} % of throughput`
          : `raw CSV on costs nothing measurable (its median was ${(-pct).toFixed(1)} % higher: noise)`,
      );
    }
    if (s.threads_speedup !== undefined) notes.push(`generator_threads 2 / 1: ${s.threads_speedup.toFixed(2)} x throughput`);
    out.push(
      `### ${s.raw_server ? 'Raw TCP server' : 'Server'} ${s.delay_ms === 0 ? 'answering at once' : `waiting ${s.delay_ms} ms`}, ${s.connections} connections, ${s.reps} x ${s.seconds} s${s.pinned ? '' : ', not pinned'}`,
      '',
      '| generator | req/s median (range) | CPU µs/request | CPU % of a core | p50 ms | p99 ms | errors |',
      '| --- | ---: | ---: | ---: | ---: | ---: | ---: |',
      ...s.generators.map(
        (g) =>
          `| ${g.generator} | ${f(g.rps, 0)} | ${f(g.cpu_us_per_request, 1)} | ${g.cpu_pct.median.toFixed(0)} | ${f(g.p50_ms, 2)} | ${f(g.p99_ms, 2)} | ${g.errors} |`,
      ),
      '',
      ...notes.map((n) => `${n}.`),
      '',
    );
  }
  const e = p.environment;
  out.push(
    `Node ${e.node}; ${p.scenarios.some((s) => s.pinned) ? 'server pinned to CPU 1, generators to CPU 0 (taskset)' : e.taskset ? 'processes not pinned' : 'taskset not found: processes not pinned'}; ` +
      `load average ${e.load_before.toFixed(2)} before${e.load_after !== undefined ? `, ${e.load_after.toFixed(2)} after` : ''}. ` +
      'Elsewhere autocannon reports whole milliseconds (truncated).',
  );
  return `${out.join('\n')}\n`;
}

/** The table of `npm run perf -- --memory`. Pure. */
export function formatMemoryMarkdown(r: GeneratorResult): string {
  return [
    '| requests | req/s | RSS at start (MB) | peak RSS (MB) | growth (MB) |',
    '| ---: | ---: | ---: | ---: | ---: |',
    `| ${r.requests} | ${Math.round(r.rps)} | ${r.rss_start_mb.toFixed(1)} | ${r.rss_peak_mb.toFixed(1)} | ${(r.rss_peak_mb - r.rss_start_mb).toFixed(1)} |`,
    '',
  ].join('\n');
}
