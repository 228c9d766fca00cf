/**
 * Fault injection for exercising loadbench's error handling against a real
 * server: extra latency, injected 500s, and requests that are never answered.
 * Everything is off by default.
 */

/** How error/hang decisions are drawn. */
export type FaultMode = 'random' | 'counter';

/** Fault settings. Rates are shares in 0…1. */
export interface FaultOptions {
  /** Extra delay before every /submit answer. */
  readonly latencyMs: number;
  /** Share of valid requests answered 500 without doing work. */
  readonly errorRate: number;
  /** Share of valid requests never answered (socket left open). */
  readonly hangRate: number;
  /**
   * 'random': independent draws (seeded by `seed` when given, so runs are reproducible).
   * 'counter': exact and evenly spread — with rate r, request k faults when
   * floor(k·r) increments, e.g. r = 0.25 faults requests 4, 8, 12, …
   */
  readonly mode: FaultMode;
  /** Seed for 'random' mode; Math.random is used when absent. */
  readonly seed?: number;
}

/** Defaults: no faults. */
export const NO_FAULTS: FaultOptions = { latencyMs: 0, errorRate: 0, hangRate: 0, mode: 'random' };

/** What to do with one request. */
export type FaultDecision = 'none' | 'error' | 'hang';

/** Per-gateway fault state (the counter and PRNG are stateful). */
export interface FaultInjector {
  readonly options: FaultOptions;
  /** True when any fault is configured. */
  readonly enabled: boolean;
  /** Decide the fate of the next valid request. Hang takes precedence over error. */
  decide(): FaultDecision;
}

/** Small, fast seeded PRNG (mulberry32); statistical quality is ample for picking faulty requests. */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Throws a RangeError when an option is out of range. */
export function validateFaultOptions(options: FaultOptions): void {
  const rate = (name: string, value: number): void => {
    if (!Number.isFinite(value) || value < 0 || value > 1) throw new RangeError(`${name} must be between 0 and 1, got ${value}`);
  };
  rate('fault error rate', options.errorRate);
  rate('fault hang rate', options.hangRate);
  if (!Number.isFinite(options.latencyMs) || options.latencyMs < 0) {
    throw new RangeError(`fault latency must be a non-negative number of ms, got ${options.latencyMs}`);
  }
  if (options.mode !== 'random' && options.mode !== 'counter') {
    throw new RangeError(`fault mode must be 'random' or 'counter', got ${String(options.mode)}`);
  }
  if (options.seed !== undefined && !Number.isInteger(options.seed)) {
    throw new RangeError(`fault seed must be an integer, got ${options.seed}`);
  }
}

/** Build the injector for one gateway instance. */
export function createFaultInjector(partial: Partial<FaultOptions> = {}): FaultInjector {
  const options: FaultOptions = { ...NO_FAULTS, ...partial };
  validateFaultOptions(options);
  const enabled = options.latencyMs > 0 || options.errorRate > 0 || options.hangRate > 0;
  const { errorRate, hangRate } = options;

  if (options.mode === 'counter') {
    let k = 0;
    // Float rounding (e.g. r = 0.1) may move a fault by one request, but the sequence is still
    // fully deterministic and the long-run share stays exactly r.
    const fires = (rate: number): boolean => rate > 0 && Math.floor(k * rate) > Math.floor((k - 1) * rate);
    return {
      options,
      enabled,
      decide() {
        k++;
        if (fires(hangRate)) return 'hang';
        if (fires(errorRate)) return 'error';
        return 'none';
      },
    };
  }

  const random = options.seed === undefined ? Math.random : mulberry32(options.seed);
  return {
    options,
    enabled,
    decide() {
      if (hangRate === 0 && errorRate === 0) return 'none';
      // One draw per request keeps the two rates additive and the seeded sequence stable.
      const u = random();
      if (u < hangRate) return 'hang';
      if (u < hangRate + errorRate) return 'error';
      return 'none';
    },
  };
}
