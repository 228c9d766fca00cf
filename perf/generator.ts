/**
 * One measured run of a load generator, in its own process, for `npm run perf`:
 *   node --import tsx perf/generator.ts --kind loadbench|autocannon --url URL --connections 64
 *     [--seconds 3 | --requests N] [--warmup 1] [--raw file.csv] [--threads N] [--rate R]
 * `--rate R`: open loop at R req/s (loadbench's arrival_rates, autocannon's overallRate with its
 * coordinated-omission correction); `--connections` is then autocannon's connection count.
 * Prints one JSON line (see {@link GeneratorResult}).
 *
 * Both generators are measured the same way: modules (and loadbench's WASM histograms) are
 * loaded first, an in-process warm-up run lets the JIT settle, then this process's own CPU time
 * (`process.cpuUsage()`, every thread included) is taken around the measured run only.
 */
import { fstatSync } from 'node:fs';
import { createRequire } from 'node:module';
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';
import { createLatencyHistogram, initHistograms } from '../engine/histogram.ts';
import { RawCsvWriter } from '../engine/raw-csv-writer.ts';
import { runLevel, type LevelPlan } from '../engine/level-controller.ts';

/** What one generator run reports. */
export interface GeneratorResult {
  generator: string;
  requests: number;
  rps: number;
  /** CPU time of this process over the measured run / requests, µs. */
  cpu_us_per_request: number;
  /** CPU time / wall time of the measured run, percent of one core. */
  cpu_pct: number;
  p50_ms: number;
  p99_ms: number;
  rss_start_mb: number;
  rss_peak_mb: number;
  errors: number;
  /** Open loop (`--rate`): requests sent per second of the measured run. */
  achieved_rps?: number;
  /** loadbench only: its own verdict on whether it was the limit. */
  client_bound?: boolean;
  /** autocannon with --precise-latency: the whole-millisecond p50/p99 it reported itself. */
  reported_p50_ms?: number;
  reported_p99_ms?: number;
}

interface AutocannonResult {
  requests: { total: number; sent?: number };
  latency: { p50: number; p99: number };
  errors: number;
  non2xx: number;
  duration: number;
}
/** autocannon's run: a promise of the result that also emits every response. */
type AutocannonRun = Promise<AutocannonResult> & {
  on(event: 'response', listener: (client: unknown, status: number, bytes: number, ms: number) => void): void;
};
type Autocannon = (opts: object) => AutocannonRun;

const BODY = '{"challenge_id":"perf"}';
const HEADERS = { 'content-type': 'application/json' };

type Measured = Pick<GeneratorResult, 'achieved_rps' | 'requests' | 'rps' | 'p50_ms' | 'p99_ms' | 'errors' | 'client_bound' | 'reported_p50_ms' | 'reported_p99_ms'>;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      kind: { type: 'string', default: 'loadbench' },
      url: { type: 'string' },
      connections: { type: 'string', default: '64' },
      seconds: { type: 'string', default: '3' },
      requests: { type: 'string' },
      warmup: { type: 'string', default: '1' },
      raw: { type: 'string' },
      threads: { type: 'string', default: '1' },
      'precise-latency': { type: 'boolean', default: false },
      label: { type: 'string' },
      rate: { type: 'string' },
    },
  });
  const rate = values.rate ? Number(values.rate) : undefined;
  const url = values.url;
  if (!url) throw new Error('--url is required');
  const connections = Number(values.connections);
  const seconds = Number(values.seconds);
  const warmup = Number(values.warmup);
  const requests = values.requests ? Number(values.requests) : undefined;
  const threads = Number(values.threads);

  // The parent may die without reaching us: when stdin is its pipe, end-of-file ends this process too.
  if (fstatSync(0).isFIFO()) {
    process.stdin.on('end', () => process.exit(2));
    process.stdin.resume();
  }

  let run: (warm: boolean) => Promise<Measured>;
  if (values.kind === 'autocannon') {
    await initHistograms();
    const autocannon = createRequire(import.meta.url)('autocannon') as Autocannon;
    const precise = values['precise-latency'] ? createLatencyHistogram() : undefined;
    run = async (warm) => {
      const instance = autocannon({
        url,
        connections,
        duration: warm ? warmup : seconds,
        method: 'POST',
        body: BODY,
        headers: HEADERS,
        // Open loop: autocannon's corrected latencies (its coordinated-omission correction is on by default with a rate).
        ...(rate ? { overallRate: rate } : {}),
      });
      // autocannon keeps whole milliseconds; its response events carry the exact time (2xx only, as it records).
      if (precise && !warm && !rate) {
        instance.on('response', (_c, status, _b, ms) => {
          if (status >= 200 && status < 300) precise.recordValue(Math.max(1, Math.round(ms * 1000)));
        });
      }
      const r = await instance;
      const exact = precise && !warm && precise.totalCount > 0;
      return {
        requests: r.requests.total,
        rps: r.requests.total / r.duration,
        p50_ms: exact ? precise.getValueAtPercentile(50) / 1000 : r.latency.p50,
        p99_ms: exact ? precise.getValueAtPercentile(99) / 1000 : r.latency.p99,
        errors: r.errors + r.non2xx,
        ...(rate ? { achieved_rps: (r.requests.sent ?? r.requests.total) / r.duration } : {}),
        ...(exact ? { reported_p50_ms: r.latency.p50, reported_p99_ms: r.latency.p99 } : {}),
      };
    };
  } else {
    await initHistograms();
    run = async (warm) => {
      // The warm-up writes no raw rows, so the file holds the measured run only.
      const sink = !warm && values.raw ? new RawCsvWriter(values.raw) : undefined;
      const plan: LevelPlan = {
        scenario: 'perf',
        concurrency: connections,
        url: new URL(url),
        method: 'POST',
        headers: HEADERS,
        body: BODY,
        challengeId: 'perf',
        durationSeconds: warm ? warmup : requests ? undefined : seconds,
        requestsPerLevel: warm ? undefined : requests,
        warmupSeconds: 0,
        timeoutSeconds: 10,
        maxBodyBytes: 1024 * 1024,
        raw: sink,
        threads,
        ...(rate ? { concurrency: rate, open: { rateRps: rate, arrivals: 'constant' as const, seed: 1, maxInFlight: 1000 } } : {}),
      };
      const m = await runLevel(plan);
      await sink?.close();
      return {
        requests: m.requests,
        rps: m.throughput_rps,
        ...(m.open_loop ? { achieved_rps: m.open_loop.achieved_rate_rps } : {}),
        p50_ms: m.latency_ms.p50,
        p99_ms: m.latency_ms.p99,
        errors: m.failures,
        client_bound: m.generator.client_bound,
      };
    };
  }

  if (warmup > 0) await run(true);
  if (global.gc) global.gc();
  let peak = process.memoryUsage().rss;
  const rssStart = peak;
  const sampler = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, 50);
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const result = await run(false);
  const wallMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  clearInterval(sampler);
  peak = Math.max(peak, process.memoryUsage().rss);
  const cpuUs = cpu.user + cpu.system;
  const out: GeneratorResult = {
    generator: values.label ?? values.kind!,
    ...result,
    cpu_us_per_request: result.requests > 0 ? cpuUs / result.requests : 0,
    cpu_pct: wallMs > 0 ? (cpuUs / 1000 / wallMs) * 100 : 0,
    rss_start_mb: rssStart / 2 ** 20,
    rss_peak_mb: peak / 2 ** 20,
  };
  process.stdout.write(`${JSON.stringify(out)}\n`);
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`generator: ${(error as Error).stack ?? error}\n`);
    process.exit(1);
  },
);
