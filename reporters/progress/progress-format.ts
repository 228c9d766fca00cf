import type { ProgressEvent } from '../../core/model/summary.ts';

const int = (x: number): string => Math.round(x).toLocaleString('en-US');

/** One human-readable progress line for a running level. Pure. */
export function formatProgressLine(e: ProgressEvent): string {
  const total =
    e.phase === 'warmup'
      ? `warm-up ${e.elapsed_s.toFixed(1)}/${(e.total_s ?? 0).toFixed(1)} s`
      : e.total_s !== undefined
        ? `${e.elapsed_s.toFixed(1)}/${e.total_s.toFixed(1)} s`
        : `${e.elapsed_s.toFixed(1)} s, ${int(e.requests)}/${int(e.total_requests ?? 0)} req`;
  return (
    `loadbench ▸ ${e.scenario} @ ${e.target_rate_rps !== undefined ? `${e.target_rate_rps} req/s offered` : `${e.concurrency} conc`} [${total}] ` +
    `${int(e.requests)} req, ${int(e.current_rps)} req/s, p95 ${e.p95_ms.toFixed(2)} ms, ${int(e.failures)} errors`
  );
}
