/**
 * One measured run of a load generator, in its own process, for `npm run perf`:
 *   node --import tsx perf/generator.ts <loadbench|autocannon> <url> <connections> <seconds> [raw.csv]
 * Prints one JSON line: requests, req/s, generator CPU µs per request (this process's own
 * CPU time over the run, same method for both generators), p50/p99 (ms), RSS figures.
 */
import { performance } from 'node:perf_hooks';
import { createRequire } from 'node:module';
import { runLevel } from '../plugin/engine/run-level.ts';
import { RawCsvWriter } from '../plugin/engine/raw-csv-writer.ts';

/** What one generator run reports. */
export interface GeneratorResult {
  generator: string;
  requests: number;
  rps: number;
  cpu_us_per_request: number;
  p50_ms: number;
  p99_ms: number;
  rss_start_mb: number;
  rss_peak_mb: number;
  errors: number;
}

async function main(): Promise<void> {
  const [kind, url, conns, seconds, raw, requestsArg] = process.argv.slice(2);
  const connections = Number(conns);
  const duration = Number(seconds);
  let peak = process.memoryUsage().rss;
  const rssStart = peak;
  const sampler = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, 100);
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  let result: Omit<GeneratorResult, 'cpu_us_per_request' | 'rss_start_mb' | 'rss_peak_mb' | 'generator'>;
  if (kind === 'autocannon') {
    const autocannon = createRequire(import.meta.url)('autocannon') as (
      opts: object,
    ) => Promise<{ requests: { total: number; average: number }; latency: { p50: number; p99: number }; errors: number; non2xx: number; duration: number }>;
    const r = await autocannon({ url, connections, duration, method: 'POST', body: '{"challenge_id":"perf"}', headers: { 'content-type': 'application/json' } });
    result = { requests: r.requests.total, rps: r.requests.total / r.duration, p50_ms: r.latency.p50, p99_ms: r.latency.p99, errors: r.errors + r.non2xx };
  } else {
    const sink = raw ? new RawCsvWriter(raw) : undefined;
    const m = await runLevel({
      scenario: 'perf',
      concurrency: connections,
      url: new URL(url!),
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"challenge_id":"perf"}',
      challengeId: 'perf',
      durationSeconds: requestsArg ? undefined : duration,
      requestsPerLevel: requestsArg ? Number(requestsArg) : undefined,
      warmupSeconds: 0,
      timeoutSeconds: 10,
      maxBodyBytes: 1024 * 1024,
      raw: sink,
    });
    await sink?.close();
    result = { requests: m.requests, rps: m.throughput_rps, p50_ms: m.latency_ms.p50, p99_ms: m.latency_ms.p99, errors: m.failures };
  }
  const cpu = process.cpuUsage(cpu0);
  clearInterval(sampler);
  peak = Math.max(peak, process.memoryUsage().rss);
  void t0;
  const out: GeneratorResult = {
    generator: kind === 'autocannon' ? 'autocannon' : raw ? 'loadbench+raw' : 'loadbench',
    ...result,
    cpu_us_per_request: result.requests > 0 ? (cpu.user + cpu.system) / result.requests : 0,
    rss_start_mb: rssStart / 2 ** 20,
    rss_peak_mb: peak / 2 ** 20,
  };
  process.stdout.write(`${JSON.stringify(out)}\n`);
}

void main().then(() => process.exit(0));
