import type { GeneratorResult } from './generator.ts';
import { median } from '../plugin/baseline/compare-baseline.ts';

/** All repetitions of one server setting. */
export interface PerfScenario {
  delay_ms: number;
  connections: number;
  seconds: number;
  reps: number;
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
  rps: Spread;
  cpu_us_per_request: Spread;
  p50_ms: Spread;
  p99_ms: Spread;
  errors: number;
}

/** The perf run, summarised; ratios are loadbench / autocannon (medians). */
export interface PerfSummary {
  environment: { taskset: boolean; node: string };
  scenarios: {
    delay_ms: number;
    connections: number;
    seconds: number;
    reps: number;
    generators: GeneratorStats[];
    ratios: { rps: number; cpu_us_per_request: number; p50_ms: number; p99_ms: number };
    /** Throughput lost by writing the raw CSV: 1 - rps(raw on) / rps(raw off). */
    raw_csv_cost?: number;
  }[];
}

const spread = (xs: number[]): Spread => ({ median: median(xs), min: Math.min(...xs), max: Math.max(...xs) });

/** Medians, ranges and ratios of a perf run. Pure. */
export function summarizePerf(scenarios: PerfScenario[], environment: PerfSummary['environment']): PerfSummary {
  return {
    environment,
    scenarios: scenarios.map((s) => {
      const names = [...new Set(s.results.map((r) => r.generator))];
      const generators = names.map((generator) => {
        const rs = s.results.filter((r) => r.generator === generator);
        return {
          generator,
          rps: spread(rs.map((r) => r.rps)),
          cpu_us_per_request: spread(rs.map((r) => r.cpu_us_per_request)),
          p50_ms: spread(rs.map((r) => r.p50_ms)),
          p99_ms: spread(rs.map((r) => r.p99_ms)),
          errors: rs.reduce((a, r) => a + r.errors, 0),
        };
      });
      const lb = generators.find((g) => g.generator === 'loadbench');
      const ac = generators.find((g) => g.generator === 'autocannon');
      const raw = generators.find((g) => g.generator === 'loadbench+raw');
      const ratio = (pick: (g: GeneratorStats) => Spread): number => (lb && ac ? pick(lb).median / pick(ac).median : NaN);
      return {
        delay_ms: s.delay_ms,
        connections: s.connections,
        seconds: s.seconds,
        reps: s.reps,
        generators,
        ratios: {
          rps: ratio((g) => g.rps),
          cpu_us_per_request: ratio((g) => g.cpu_us_per_request),
          p50_ms: ratio((g) => g.p50_ms),
          p99_ms: ratio((g) => g.p99_ms),
        },
        ...(raw && lb ? { raw_csv_cost: 1 - raw.rps.median / lb.rps.median } : {}),
      };
    }),
  };
}

const f = (s: Spread, d: number): string => `${s.median.toFixed(d)} (${s.min.toFixed(d)}–${s.max.toFixed(d)})`;

/** The Markdown table printed by `npm run perf`. Pure. */
export function formatPerfMarkdown(p: PerfSummary): string {
  const out: string[] = [];
  for (const s of p.scenarios) {
    out.push(
      `### Server ${s.delay_ms === 0 ? 'answering at once' : `waiting ${s.delay_ms} ms`}, ${s.connections} connections, ${s.reps} x ${s.seconds} s`,
      '',
      '| generator | req/s median (range) | CPU µs/request | p50 ms | p99 ms | errors |',
      '| --- | ---: | ---: | ---: | ---: | ---: |',
      ...s.generators.map((g) => `| ${g.generator} | ${f(g.rps, 0)} | ${f(g.cpu_us_per_request, 1)} | ${f(g.p50_ms, 2)} | ${f(g.p99_ms, 2)} | ${g.errors} |`),
      '',
      `loadbench / autocannon (medians): req/s ${s.ratios.rps.toFixed(2)}, CPU per request ${s.ratios.cpu_us_per_request.toFixed(2)}, p50 ${s.ratios.p50_ms.toFixed(2)}, p99 ${s.ratios.p99_ms.toFixed(2)}` +
        (s.raw_csv_cost !== undefined ? `; raw CSV costs ${(s.raw_csv_cost * 100).toFixed(1)} % of throughput` : ''),
      '',
    );
  }
  out.push(`Node ${p.environment.node}; ${p.environment.taskset ? 'server pinned to CPU 1, generators to CPU 0 (taskset)' : 'taskset not found: processes not pinned'}.`);
  return out.join('\n');
}
