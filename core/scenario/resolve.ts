import { randomArrivalSeed, type ArrivalProcess } from '../../engine/arrival-schedule.ts';
import { generatorThreadsProblem } from '../../engine/thread-policy.ts';
import { BODYLESS_METHODS, type HttpMethod } from '../../engine/http-syntax.ts';
import type { ResponseCheck } from '../../engine/types.ts';
import { formatIssues } from '../config/load-config.ts';
import { DEFAULT_MIN_ACHIEVED_RATE_PCT } from '../gates/slo.ts';
import type { LoadbenchConfig } from '../config/schema.ts';
import { ConfigError } from '../errors.ts';
import { redactUrl, secretValues } from '../model/redaction.ts';
import type { BaselineTolerances, ScenarioSnapshot, SloSpec } from '../model/summary.ts';
import { scenarioOptionsSchema, type ScenarioOptions } from './options.ts';
import { buildHeaders, payloadShape, renderPayload } from './request.ts';
import { shardModeProblems } from '../shards/run-shard.ts';

/** The scenario's settings after merging its options over config.yaml: everything a level needs. */
export interface ResolvedScenario {
  name: string;
  url: URL;
  method: HttpMethod;
  headers: Record<string, string>;
  challengeId: string;
  body: ReturnType<typeof renderPayload>;
  payloadShape: unknown;
  /** Concurrencies (closed loop) or arrival rates in req/s (open loop): the levels' keys. */
  levels: number[];
  /** Set for an open-loop scenario (`arrival_rates`). */
  open?: ResolvedOpenLoop;
  durationSeconds?: number;
  requestsPerLevel?: number;
  warmupSeconds: number;
  timeoutSeconds: number;
  maxBodyBytes: number;
  rawCsv: boolean;
  repetitions: number;
  generatorThreads: number | 'auto';
  baselineOverride?: false | Partial<BaselineTolerances>;
  slo: SloSpec;
  stopOnSloFailure: boolean;
  check?: ResponseCheck;
  /** Values never to be written anywhere (token, credential headers). */
  secrets: string[];
  /** In shard mode (issue 15): this process's run shard, whose part of every level it runs. */
  runShard?: import('../config/schema.ts').RunShard;
  /** A scaling sweep's replica counts (config.yaml `scaling.replicas`, issue 16): every level runs once per count. */
  replicas?: number[];
}

/** How an open-loop scenario's arrivals come. */
export interface ResolvedOpenLoop {
  arrivals: ArrivalProcess;
  /** The seed of a Poisson schedule, given or drawn once for the scenario (so every level and repetition records it). */
  seed: number;
  maxInFlight: number;
  /**
   * The part of every level's schedule this process sends (distributed shards, issue 15): arrivals
   * i with `i % count === index - 1`. Absent: the whole schedule.
   */
  partition?: { index: number; count: number };
}

/** The options once validated: the schema normalised them (method in upper case, header values as text). */
type ValidOptions = Omit<ScenarioOptions, 'method' | 'headers'> & { method?: HttpMethod; headers?: Record<string, string> };

/**
 * Merges scenario options over the config, validating them at this edge with the rules of config.yaml.
 * @throws ConfigError naming the scenario and each bad option
 */
export function resolveScenario(name: string, options: ScenarioOptions, config: LoadbenchConfig): ResolvedScenario {
  if (!name || typeof name !== 'string') throw new ConfigError('scenario()', ['name: expected a non-empty string']);
  const where = `scenario "${name}"`;
  const parsed = scenarioOptionsSchema.safeParse(options ?? {});
  if (!parsed.success) throw new ConfigError(where, formatIssues(parsed.error.issues, options, undefined, scenarioOptionsSchema));
  const o = parsed.data as ValidOptions;
  if (o.requests_per_level !== undefined && o.duration_seconds !== undefined) {
    throw new ConfigError(where, ['duration_seconds and requests_per_level are both set: expected exactly one of them']);
  }
  if (o.concurrency_levels !== undefined && o.arrival_rates !== undefined) {
    throw new ConfigError(where, ['concurrency_levels and arrival_rates are both set: expected exactly one of them (closed loop or open loop)']);
  }
  const w = config.workload;
  // A scenario's own choice of levels replaces config.yaml's, whichever kind either is.
  const rates = o.arrival_rates ?? (o.concurrency_levels === undefined ? w.arrival_rates : undefined);
  const open: ResolvedOpenLoop | undefined = rates && {
    arrivals: o.arrivals ?? w.arrivals,
    seed: o.seed ?? w.seed ?? randomArrivalSeed(),
    maxInFlight: o.max_in_flight ?? w.max_in_flight,
  };
  const method = o.method ?? config.target.method;
  const hasBody = !BODYLESS_METHODS.has(method);
  const durationSeconds = o.requests_per_level !== undefined ? undefined : (o.duration_seconds ?? w.duration_seconds);
  const requestsPerLevel = o.duration_seconds !== undefined ? undefined : (o.requests_per_level ?? w.requests_per_level);
  const challengeId = o.challenge_id ?? w.challenge_id;
  const payload = o.payload !== undefined ? o.payload : w.payload;
  const token = o.token ?? config.target.token;
  const headers = buildHeaders({ token, headers: { ...config.target.headers, ...o.headers }, hasBody: payload !== undefined && hasBody });
  const generatorThreads = o.generator_threads ?? w.generator_threads;
  if (config.run_shard) {
    // Scenario options may bring back what config.yaml could not have in shard mode.
    // An open scenario's Poisson schedule needs one seed for every shard, from the options or config.yaml.
    const refused = shardModeProblems({
      requestsPerLevel: o.requests_per_level,
      stopOnSloFailure: o.stop_on_slo_failure === true,
      ...(open ? { arrivals: open.arrivals, seed: o.seed ?? w.seed } : {}),
    });
    if (refused.length) throw new ConfigError(where, refused);
  }
  const threadsProblem = generatorThreadsProblem(generatorThreads, typeof payload === 'function' && hasBody, o.check !== undefined);
  if (threadsProblem) throw new ConfigError(where, [threadsProblem]);
  return {
    name,
    url: new URL(o.url ?? config.target.url),
    method,
    headers,
    challengeId,
    body: hasBody ? renderPayload(payload, challengeId) : undefined,
    payloadShape: payloadShape(payload),
    levels: rates ?? o.concurrency_levels ?? w.concurrency_levels ?? [],
    ...(open ? { open } : {}),
    durationSeconds,
    requestsPerLevel,
    warmupSeconds: o.warmup_seconds ?? w.warmup_seconds,
    timeoutSeconds: o.timeout_seconds ?? w.timeout_seconds,
    maxBodyBytes: o.max_body_bytes ?? w.max_body_bytes,
    rawCsv: o.raw_csv ?? w.raw_csv,
    repetitions: o.repetitions ?? w.repetitions,
    generatorThreads,
    ...(o.baseline !== undefined ? { baselineOverride: o.baseline as false | Partial<BaselineTolerances> } : {}),
    slo: o.slo === false ? {} : { ...(open ? { min_achieved_rate_pct: DEFAULT_MIN_ACHIEVED_RATE_PCT } : {}), ...config.slo, ...o.slo },
    stopOnSloFailure: o.stop_on_slo_failure ?? config.stop_on_slo_failure,
    check: o.check,
    secrets: secretValues(token, headers),
    ...(config.scaling ? { replicas: config.scaling.replicas } : {}),
    ...(config.run_shard ? { runShard: config.run_shard } : {}),
  };
}

/** One run of a level: its concurrency and, with `repetitions` > 1, which repetition. */
export interface LevelRun {
  /** The level's key: its concurrency, or for an open-loop level its rate (req/s). */
  concurrency: number;
  /** Set for an open-loop level: its arrival rate, req/s (equal to `concurrency`). */
  rateRps?: number;
  repetition?: number;
  /** In a scaling sweep, the replica count the level runs at (the target restarted for each count). */
  replicas?: number;
}

/**
 * The runs of a scenario in the order they happen: every level in turn, each `repetitions` times;
 * in a scaling sweep, all of that once per replica count, the counts in the configured order.
 */
export function levelRuns(s: Pick<ResolvedScenario, 'levels' | 'repetitions' | 'open'> & { replicas?: number[] }): LevelRun[] {
  const once = s.levels.flatMap((concurrency) =>
    Array.from({ length: s.repetitions }, (_, r): LevelRun => ({
      concurrency,
      ...(s.open ? { rateRps: concurrency } : {}),
      ...(s.repetitions > 1 ? { repetition: r + 1 } : {}),
    })),
  );
  if (!s.replicas?.length) return once;
  return s.replicas.flatMap((replicas) => once.map((run) => ({ ...run, replicas })));
}

/**
 * What the summary keeps of a scenario (credentials removed); `file` is its bench file relative to
 * the project, or '', and `line` the line of its `scenario()` call there, when known.
 */
export function scenarioSnapshot(s: ResolvedScenario, file: string, line?: number): ScenarioSnapshot {
  return {
    name: s.name,
    file,
    ...(line !== undefined ? { line } : {}),
    workload: {
      url: redactUrl(s.url),
      method: s.method,
      header_names: Object.keys(s.headers),
      payload_shape: s.payloadShape,
      concurrency_levels: s.open ? [] : s.levels,
      ...(s.open
        ? {
            arrival_rates: s.levels,
            arrivals: s.open.arrivals,
            ...(s.open.arrivals === 'poisson' ? { seed: s.open.seed } : {}),
            max_in_flight: s.open.maxInFlight,
          }
        : {}),
      ...(s.durationSeconds !== undefined ? { duration_seconds: s.durationSeconds } : {}),
      ...(s.requestsPerLevel !== undefined ? { requests_per_level: s.requestsPerLevel } : {}),
      warmup_seconds: s.warmupSeconds,
      timeout_seconds: s.timeoutSeconds,
      challenge_id: s.challengeId,
      ...(s.repetitions > 1 ? { repetitions: s.repetitions } : {}),
    },
    slo: s.slo,
    ...(s.baselineOverride !== undefined ? { baseline_override: s.baselineOverride } : {}),
  };
}
