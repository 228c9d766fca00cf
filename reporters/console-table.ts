import type { LevelSummary, RunSummary } from '../plugin/types.ts';
import { GENERATOR_DELAY_NOTE_MS } from '../plugin/engine/client-bound.ts';

const fmt = (x: number, digits: number): string => x.toFixed(digits);

function verdict(l: LevelSummary): string {
  if (l.skipped) return 'skipped';
  if (!l.slo.judged) return '-';
  if (l.slo.pass) return 'PASS';
  return `FAIL (${l.slo.checks
    .filter((c) => !c.pass)
    .map((c) => c.metric)
    .join(', ')})`;
}

function notes(l: LevelSummary): string {
  const out: string[] = [];
  if (l.partial) out.push('partial');
  if (l.generator.client_bound) {
    out.push(
      `client-bound (cpu ${fmt(l.generator.cpu_pct, 0)}%, event-loop delay p99 ${fmt(l.generator.event_loop_delay_p99_ms, 1)} ms)`,
    );
  } else if (l.generator.event_loop_delay_p99_ms > GENERATOR_DELAY_NOTE_MS) {
    out.push(`generator delayed (event-loop p99 ${fmt(l.generator.event_loop_delay_p99_ms, 1)} ms; CPU shared with the target?)`);
  }
  if (l.requests > 0 && l.errors.connect_refused === l.requests) out.push('target refused every connection');
  return out.join('; ');
}

/** The end-of-run table: one row per level, with the SLO verdict. Pure; returns text without colours. */
export function formatConsoleTable(summary: RunSummary): string {
  const header = ['scenario', 'conc', 'req/s', 'p50 ms', 'p95 ms', 'p99 ms', 'errors %', 'requests', 'SLO', 'notes'];
  const rows = summary.scenarios.flatMap((s) =>
    s.levels.map((l) => [
      s.name,
      l.repetition ? `${l.concurrency} #${l.repetition}` : String(l.concurrency),
      l.skipped ? '-' : fmt(l.throughput_rps, 1),
      l.skipped ? '-' : fmt(l.latency_ms.p50, 2),
      l.skipped ? '-' : fmt(l.latency_ms.p95, 2),
      l.skipped ? '-' : fmt(l.latency_ms.p99, 2),
      l.skipped ? '-' : fmt(l.error_rate_pct, 2),
      String(l.requests),
      verdict(l),
      notes(l),
    ]),
  );
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const numeric = new Set([1, 2, 3, 4, 5, 6, 7]);
  const line = (cells: string[]): string =>
    cells
      .map((c, i) => (numeric.has(i) ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  const title = `loadbench results: run "${summary.run_label}"${summary.interrupted ? ' (INTERRUPTED: partial results)' : ''}`;
  return [title, line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}
