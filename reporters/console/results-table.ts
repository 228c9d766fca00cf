import { GENERATOR_DELAY_NOTE_MS, isMeasured, type LevelResult, type MeasuredLevel, type RunSummary } from '../../core/model/summary.ts';

const fmt = (x: number, digits: number): string => x.toFixed(digits);
const figure = (l: LevelResult, text: (m: MeasuredLevel) => string): string => (isMeasured(l) ? text(l) : '-');

function verdict(l: LevelResult): string {
  if (!isMeasured(l)) return 'skipped';
  if (!l.slo.judged) return '-';
  if (l.slo.pass) return 'PASS';
  return `FAIL (${l.slo.checks
    .filter((c) => !c.pass)
    .map((c) => c.metric)
    .join(', ')})`;
}

function notes(l: LevelResult): string {
  if (!isMeasured(l)) return l.reason;
  const out: string[] = [];
  if (l.status === 'partial') out.push('partial');
  if (l.generator.client_bound) {
    out.push(
      `client-bound (cpu ${fmt(l.generator.cpu_pct, 0)}%, event-loop delay p99 ${fmt(l.generator.event_loop_delay_p99_ms, 1)} ms)`,
    );
  } else if (l.generator.event_loop_delay_p99_ms > GENERATOR_DELAY_NOTE_MS) {
    out.push(`generator delayed (event-loop p99 ${fmt(l.generator.event_loop_delay_p99_ms, 1)} ms; CPU shared with the target?)`);
  }
  if (l.requests > 0 && l.errors.connect_refused === l.requests) out.push('target refused every connection');
  // Open loop: what the schedule achieved; latency columns are then timed from the due time.
  const o = l.open_loop;
  if (o) {
    out.push(`open loop: sent ${fmt(o.achieved_rate_rps, 1)} req/s, service p99 ${fmt(o.service_time_ms.p99, 2)} ms, lag p99 ${fmt(o.schedule_lag_ms.p99, 2)} ms`);
    if (o.dropped > 0) out.push(`${o.dropped} dropped (max_in_flight ${o.max_in_flight})`);
  }
  return out.join('; ');
}

/** The end-of-run table: one row per level, with the SLO verdict. Pure; returns text without colours. */
export function formatConsoleTable(summary: RunSummary): string {
  const header = ['scenario', 'conc', 'req/s', 'p50 ms', 'p95 ms', 'p99 ms', 'errors %', 'requests', 'SLO', 'notes'];
  const rows = summary.scenarios.flatMap((s) =>
    s.levels.map((l) => [
      s.name,
      (l.target_rate_rps !== undefined ? `@${l.concurrency}/s` : String(l.concurrency)) + (l.repetition ? ` #${l.repetition}` : ''),
      figure(l, (m) => fmt(m.throughput_rps, 1)),
      figure(l, (m) => fmt(m.latency_ms.p50, 2)),
      figure(l, (m) => fmt(m.latency_ms.p95, 2)),
      figure(l, (m) => fmt(m.latency_ms.p99, 2)),
      figure(l, (m) => fmt(m.error_rate_pct, 2)),
      isMeasured(l) ? String(l.requests) : '0',
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
