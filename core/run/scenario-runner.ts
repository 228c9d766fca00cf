import { RawCsvWriter } from '../../engine/raw-csv-writer.ts';
import { runLevel } from '../../engine/level-controller.ts';
import type { ProgressEvent } from '../../engine/types.ts';
import { evaluateSlo } from '../gates/slo.ts';
import { redactErrorSamples } from '../model/redaction.ts';
import { measuredLevel, type LevelResult, type SkippedLevel } from '../model/summary.ts';
import type { LevelRun, ResolvedScenario } from '../scenario/resolve.ts';
import { arrivalPart, connectionPart } from '../shards/split.ts';
import { runShardName } from '../shards/run-shard.ts';

/** Where a level runs from: its interrupt and its progress listener. */
export interface LevelContext {
  /** Aborting ends the running level at once (it is kept, as partial) and skips the rest. */
  signal?: AbortSignal;
  onProgress?: (event: ProgressEvent) => void;
  /** Resolves when the orchestrator lets the level start (a shared start time, a target restarted); rejects when it cannot run. */
  beforeLevel?: () => Promise<void>;
}

/** Why a level was not run. */
export const SKIP_REASONS = {
  sloFailure: 'not run: stop_on_slo_failure, after an earlier level of this scenario broke its SLO',
  interrupted: 'not run: the run was interrupted before this level',
  /** A run shard whose part of the level is no connection (issue 15): the other shards ran it. */
  noConnections: 'no connection for this run shard',
} as const;

/** A run shard records SLOs as not judged: they hold only for the merged run (`loadbench merge`). */
const NOT_JUDGED_IN_A_SHARD = { judged: false, pass: true, checks: [] };

/**
 * Runs the levels of one scenario, one after another, wherever the scenario lives (in the bench
 * process under Vitest, in-process under `runSweep()`): each level through the engine, its error
 * samples redacted, its SLO judged; the levels after an SLO failure are skipped when the scenario
 * says `stop_on_slo_failure`. Owns the raw CSV writer while the scenario runs. Never prints.
 */
export class ScenarioRunner {
  readonly scenario: ResolvedScenario;
  readonly #rawPath: string | ((run: LevelRun) => string);
  /** Replica counts (0 outside a scaling sweep) whose later levels are skipped after an SLO failure. */
  readonly #stopped = new Set<number>();
  #raw: RawCsvWriter | undefined;
  #rawOpenAt: string | undefined;

  /**
   * `rawPath`: the run's raw CSV (appended to; written only when the scenario's `raw_csv` is on);
   * in a scaling sweep, a function of the level run, since each replica count is its own run.
   */
  constructor(scenario: ResolvedScenario, rawPath: string | ((run: LevelRun) => string)) {
    this.scenario = scenario;
    this.#rawPath = rawPath;
  }

  /**
   * Runs (or skips) one level. `last` closes the raw CSV after it. Engine failures propagate;
   * the caller decides how a level that could not run is reported.
   */
  async run(run: LevelRun, context: LevelContext, last: boolean): Promise<LevelResult> {
    const s = this.scenario;
    const stopKey = run.replicas ?? 0;
    try {
      if (this.#stopped.has(stopKey)) return this.skipped(run, SKIP_REASONS.sloFailure);
      if (context.signal?.aborted) return this.skipped(run, SKIP_REASONS.interrupted);
      await context.beforeLevel?.();
      if (context.signal?.aborted) return this.skipped(run, SKIP_REASONS.interrupted);
      // A run shard (issue 15) runs its part of the level. Closed loop: parts of the connections that
      // add up to the level's concurrency. Open loop: the level's one schedule at its full rate, of
      // which this shard sends every count-th arrival (interleaved with the other shards'), with its
      // share of max_in_flight.
      const shard = s.runShard;
      const openRun = s.open && run.rateRps !== undefined ? { rateRps: run.rateRps, ...s.open } : undefined;
      const part = shard && !openRun ? connectionPart(run.concurrency, shard.index, shard.count) : undefined;
      const arrivals = shard && openRun ? arrivalPart(openRun.rateRps, shard.index, shard.count) : undefined;
      // Open loop in shard mode: max_in_flight shared like connections (at least 1 each), raw `worker` numbers in disjoint blocks.
      const inFlightPart = shard && openRun ? connectionPart(openRun.maxInFlight, shard.index, shard.count) : undefined;
      const maxInFlight = inFlightPart ? Math.max(1, inFlightPart.connections) : (openRun?.maxInFlight ?? 0);
      const runShard = shard
        ? part
          ? { index: shard.index, count: shard.count, connections: part.connections, first_worker: part.firstWorker }
          : { index: shard.index, count: shard.count, connections: 0, first_worker: inFlightPart?.firstWorker ?? 0, max_in_flight: maxInFlight }
        : undefined;
      if (shard && part && part.connections === 0) {
        return {
          ...this.skipped(run, `${SKIP_REASONS.noConnections}: concurrency ${run.concurrency} over ${shard.count} shards is ${part.parts.join(' + ')}, none for ${runShardName(shard)}`),
          run_shard: runShard,
        };
      }
      if (s.rawCsv) {
        const path = typeof this.#rawPath === 'string' ? this.#rawPath : this.#rawPath(run);
        if (this.#raw && this.#rawOpenAt !== path) await this.close();
        this.#rawOpenAt = path;
        this.#raw ??= new RawCsvWriter(path);
      }
      const measured = await runLevel({
        scenario: s.name,
        concurrency: part?.connections ?? run.concurrency,
        ...(part ? { levelConcurrency: run.concurrency, firstWorker: part.firstWorker, timelineHistograms: true } : {}),
        ...(inFlightPart ? { levelConcurrency: run.concurrency, firstWorker: inFlightPart.firstWorker, timelineHistograms: true } : {}),
        url: s.url,
        method: s.method,
        headers: s.headers,
        body: s.body,
        challengeId: s.challengeId,
        durationSeconds: s.durationSeconds,
        requestsPerLevel: s.requestsPerLevel,
        warmupSeconds: s.warmupSeconds,
        timeoutSeconds: s.timeoutSeconds,
        maxBodyBytes: s.maxBodyBytes,
        check: s.check,
        threads: s.generatorThreads,
        raw: this.#raw,
        signal: context.signal,
        onProgress: context.onProgress,
        ...(openRun
          ? {
              open: {
                rateRps: openRun.rateRps,
                arrivals: openRun.arrivals,
                seed: openRun.seed,
                maxInFlight,
                ...(arrivals ? { partition: arrivals.partition } : openRun.partition ? { partition: openRun.partition } : {}),
              },
            }
          : {}),
      });
      // Error texts can echo what the target saw (a check that throws with the body, for one).
      measured.error_samples = redactErrorSamples(measured.error_samples, s.secrets);
      const level = measuredLevel(measured, shard ? NOT_JUDGED_IN_A_SHARD : evaluateSlo(measured, s.slo), run.repetition);
      if (!level.slo.pass && s.stopOnSloFailure) this.#stopped.add(stopKey);
      return runShard ? { ...level, run_shard: runShard } : level;
    } finally {
      if (last || this.#stopped.has(stopKey)) await this.close();
    }
  }

  /** A level that was not run, and why. */
  skipped(run: LevelRun, reason: string): SkippedLevel {
    return {
      status: 'skipped',
      scenario: this.scenario.name,
      concurrency: run.concurrency,
      ...(run.rateRps !== undefined ? { target_rate_rps: run.rateRps } : {}),
      ...(run.repetition ? { repetition: run.repetition } : {}),
      reason,
    };
  }

  /** The record of a level for the orchestrator: which replica count it ran at, in a scaling sweep. */
  static replicasOf(run: LevelRun): { replicas?: number } {
    return run.replicas !== undefined ? { replicas: run.replicas } : {};
  }

  /** Flushes and closes the raw CSV (idempotent). */
  async close(): Promise<void> {
    const raw = this.#raw;
    this.#raw = undefined;
    await raw?.close();
  }
}
