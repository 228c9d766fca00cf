import { levelBottleneck, type Bottleneck } from './bottleneck.ts';
import { ERROR_CATEGORIES, isOpenLoopScenario, measuredLevels, type ErrorCategory, type MeasuredLevel, type ScenarioSummary } from '../../core/model/summary.ts';

/**
 * Little's law: the mean number of requests in the system is throughput x mean latency.
 * In a closed loop with C workers and no think time it should be close to C; a value well
 * below C means time was spent outside the request (in the client) rather than in the target.
 */
export function littlesLawConcurrency(throughputRpsValue: number, meanLatencyMs: number): number {
  return throughputRpsValue * (meanLatencyMs / 1000);
}

/** Little's law per level: the concurrency the target actually held vs the concurrency offered. */
export interface LittleCheck {
  concurrency: number;
  /** throughput x mean latency: requests in the system on average. */
  in_system: number;
  /** in_system / concurrency. */
  ratio: number;
  /** True when the client (or time outside the request) rather than the system was the limit. */
  client_limited: boolean;
  client_bound: boolean;
  /** False when 1 % or more of the level's requests failed: latency covers successes only, so the check cannot be made. */
  judged: boolean;
}

/** Facts computed from one scenario's levels; every number the report states comes from here. */
export interface ScenarioFindings {
  scenario: string;
  peak: { concurrency: number; throughput_rps: number; p95_ms: number } | undefined;
  /** First level where throughput grows < 10 % while p95 grows > 50 % vs the previous level. */
  knee:
    | { concurrency: number; previous: number; throughput_growth_pct: number; p95_growth_pct: number }
    | undefined;
  /** Highest level meeting every SLO check (judged levels only); undefined when none does. */
  slo_capacity: { concurrency: number; throughput_rps: number; p95_ms: number } | undefined;
  /** True when the scenario has SLO thresholds at all. */
  has_slo: boolean;
  /** Levels that broke the SLO, lowest first. */
  slo_failures: { concurrency: number; metrics: string[] }[];
  /** First level with any error, and the categories seen there and above. */
  errors_start: { concurrency: number; error_rate_pct: number; categories: ErrorCategory[] } | undefined;
  little: LittleCheck[];
  partial_levels: number[];
  client_bound_levels: number[];
  /** What limited each level, from the resource figures of the system under test (issue 16); empty without them. */
  bottlenecks: Bottleneck[];
  /** Set for an open-loop scenario (`arrival_rates`): levels are offered rates, the findings are about rates. */
  open?: OpenLoopFindings;
}

/** The findings of an open-loop scenario, in req/s of offered rate. */
export interface OpenLoopFindings {
  /** Highest offered rate meeting every SLO check ("capacity at the SLO"); undefined when none does. */
  capacity: { rate_rps: number; achieved_rps: number; throughput_rps: number; p95_ms: number } | undefined;
  /**
   * Lowest offered rate the system did not keep up with: fewer than {@link OPEN_SATURATION_RATIO} of the due
   * arrivals sent, or of the sent requests answered with success, or p95 more than {@link OPEN_LATENCY_BLOWUP} times the previous rate's.
   */
  saturation: { rate_rps: number; reason: string } | undefined;
  /** Offered rates with dropped arrivals, and how many. */
  dropped: { rate_rps: number; dropped: number }[];
}

/** Open loop: below this share of the offered rate in successes, the system did not keep up. */
export const OPEN_SATURATION_RATIO = 0.95;
/** Open loop: p95 growing this many times from one offered rate to the next is latency growing without bound. */
export const OPEN_LATENCY_BLOWUP = 5;

/** The open-loop findings of a scenario's levels (offered rates, lowest first). Pure. */
export function openLoopFindings(levels: MeasuredLevel[]): OpenLoopFindings {
  const judged = levels.filter((l) => l.slo.judged && l.slo.pass);
  const cap = judged.at(-1);
  let saturation: OpenLoopFindings['saturation'];
  for (let i = 0; i < levels.length && !saturation; i++) {
    const l = levels[i]!;
    const o = l.open_loop;
    if (!o) continue;
    const prev = levels[i - 1];
    if (o.sent < o.scheduled * OPEN_SATURATION_RATIO) {
      saturation = { rate_rps: o.target_rate_rps, reason: `${o.sent} of the ${o.scheduled} arrivals due were sent (${o.achieved_rate_rps.toFixed(1)} req/s achieved), below ${OPEN_SATURATION_RATIO * 100} %` };
    } else if (l.successes < o.sent * OPEN_SATURATION_RATIO) {
      saturation = { rate_rps: o.target_rate_rps, reason: `${l.successes} of the ${o.sent} requests sent succeeded (${l.throughput_rps.toFixed(1)} req/s), below ${OPEN_SATURATION_RATIO * 100} %` };
    } else if (prev && prev.latency_ms.p95 > 0 && l.latency_ms.p95 > prev.latency_ms.p95 * OPEN_LATENCY_BLOWUP) {
      saturation = { rate_rps: o.target_rate_rps, reason: `p95 ${l.latency_ms.p95.toFixed(1)} ms, over ${OPEN_LATENCY_BLOWUP} x the ${prev.latency_ms.p95.toFixed(1)} ms at ${prev.concurrency} req/s` };
    }
  }
  return {
    capacity: cap && {
      rate_rps: cap.concurrency,
      achieved_rps: cap.open_loop?.achieved_rate_rps ?? 0,
      throughput_rps: cap.throughput_rps,
      p95_ms: cap.latency_ms.p95,
    },
    saturation,
    dropped: levels.filter((l) => (l.open_loop?.dropped ?? 0) > 0).map((l) => ({ rate_rps: l.concurrency, dropped: l.open_loop!.dropped })),
  };
}

/** Below this share of the offered concurrency, the client (not the target) held requests back. */
export const LITTLE_CLIENT_LIMIT_RATIO = 0.8;
const KNEE_MAX_THROUGHPUT_GROWTH_PCT = 10;
const KNEE_MIN_P95_GROWTH_PCT = 50;

const growthPct = (from: number, to: number): number => (from > 0 ? ((to - from) / from) * 100 : to > 0 ? Infinity : 0);

/** Computes the findings of one scenario. Pure. */
export function scenarioFindings(s: ScenarioSummary): ScenarioFindings {
  const levels = measuredLevels(s).filter((l) => l.requests > 0);
  const peakLevel = levels.reduce<MeasuredLevel | undefined>(
    (best, l) => (!best || l.throughput_rps > best.throughput_rps ? l : best),
    undefined,
  );
  let knee: ScenarioFindings['knee'];
  for (let i = 1; i < levels.length && !knee; i++) {
    const prev = levels[i - 1]!;
    const cur = levels[i]!;
    const tg = growthPct(prev.throughput_rps, cur.throughput_rps);
    const pg = growthPct(prev.latency_ms.p95, cur.latency_ms.p95);
    if (tg < KNEE_MAX_THROUGHPUT_GROWTH_PCT && pg > KNEE_MIN_P95_GROWTH_PCT) {
      knee = { concurrency: cur.concurrency, previous: prev.concurrency, throughput_growth_pct: tg, p95_growth_pct: pg };
    }
  }
  const judged = levels.filter((l) => l.slo.judged);
  const passing = judged.filter((l) => l.slo.pass);
  const cap = passing.at(-1);
  const firstError = levels.find((l) => l.failures > 0);
  const categories = firstError
    ? ERROR_CATEGORIES.filter((c) => levels.some((l) => l.concurrency >= firstError.concurrency && l.errors[c] > 0))
    : [];
  return {
    scenario: s.name,
    peak: peakLevel && {
      concurrency: peakLevel.concurrency,
      throughput_rps: peakLevel.throughput_rps,
      p95_ms: peakLevel.latency_ms.p95,
    },
    knee,
    slo_capacity: cap && { concurrency: cap.concurrency, throughput_rps: cap.throughput_rps, p95_ms: cap.latency_ms.p95 },
    has_slo: Object.keys(s.slo).some((k) => k !== 'up_to_concurrency'),
    slo_failures: judged
      .filter((l) => !l.slo.pass)
      .map((l) => ({ concurrency: l.concurrency, metrics: l.slo.checks.filter((c) => !c.pass).map((c) => c.metric) })),
    errors_start: firstError && {
      concurrency: firstError.concurrency,
      error_rate_pct: firstError.error_rate_pct,
      categories,
    },
    little: levels.map((l) => {
      const inSystem = littlesLawConcurrency(l.throughput_rps, l.latency_ms.mean);
      const ratio = l.concurrency > 0 ? inSystem / l.concurrency : 0;
      // Only meaningful when requests succeed; with errors the mean latency covers successes only.
      const judged = l.error_rate_pct < 1;
      const clientLimited = judged && ratio < LITTLE_CLIENT_LIMIT_RATIO;
      return {
        concurrency: l.concurrency,
        in_system: inSystem,
        ratio,
        client_limited: clientLimited,
        client_bound: l.generator.client_bound,
        judged,
      };
    }),
    partial_levels: s.levels.filter((l) => l.status === 'partial').map((l) => l.concurrency),
    client_bound_levels: levels.filter((l) => l.generator.client_bound).map((l) => l.concurrency),
    bottlenecks: levels.map(levelBottleneck).filter((b): b is Bottleneck => b !== undefined),
    ...(isOpenLoopScenario(s) ? { open: openLoopFindings(levels) } : {}),
  };
}
