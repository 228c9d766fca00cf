/**
 * `loadbench merge` (issue 15), its pure part: checks that run shard summaries belong together
 * (one config, one shard count, every shard exactly once, the same levels) and adds them up
 * exactly into the levels of one run, as one generator with all their connections would have
 * measured them. HDR histograms add exactly; so do counts, error categories, status codes and
 * the per-second timelines (each second's histograms, by wall-clock second), and an open-loop
 * level's arrivals (each shard sent its interleaved part of the level's one schedule).
 */
import { decodeHistogram, encodeHistogram } from '../../engine/histogram.ts';
import { errorRatePct, latencyFromHistogram, throughputRps } from '../../engine/stats.ts';
import { evaluateSlo } from '../gates/slo.ts';
import type { LevelRecord } from '../model/build-summary.ts';
import type { LevelShardMerge, MergedFrom } from '../model/run-shards.ts';
import { ERROR_CATEGORIES, isMeasured, type ErrorCategory, type LevelResult, type MachineFingerprint, type MeasuredLevel, type RunSummary, type ScenarioSnapshot, type TimelinePoint } from '../model/summary.ts';
import { ShardMergeError } from '../errors.ts';
import { runShardName } from './run-shard.ts';
import { SKIP_REASONS } from '../run/scenario-runner.ts';

/** One shard summary as read from its file. */
export interface ShardInput {
  file: string;
  summary: RunSummary;
}

/** The merged run, ready to be recorded level by level like a single-generator run. */
export interface MergedRun {
  /** The whole run's label, as the shards recorded it. */
  runLabel: string;
  records: LevelRecord[];
  mergedFrom: MergedFrom;
  report: RunSummary['report'];
  /** The shards' machine when every shard ran on the same kind (CPU model and count), else none. */
  machine?: MachineFingerprint;
  startedAt: Date;
  finishedAt: Date;
  interrupted: boolean;
}

const MAX_ERROR_SAMPLES_PER_CATEGORY = 3;

const levelKey = (l: { concurrency: number; repetition?: number }): string => `${l.concurrency}/${l.repetition ?? 1}`;
const levelName = (scenario: string, l: { concurrency: number; repetition?: number }): string =>
  `scenario "${scenario}" at concurrency ${l.concurrency}${l.repetition ? ` (repetition ${l.repetition})` : ''}`;

/**
 * Checks the shard summaries and merges them.
 * @throws ShardMergeError with one line saying what does not fit (nothing is merged)
 */
export function mergeShardSummaries(inputs: readonly ShardInput[]): MergedRun {
  if (inputs.length === 0) throw new ShardMergeError('no run shard summary given: name the shards\' *_summary.json files or the folder that holds them');
  for (const { file, summary } of inputs) {
    if (!summary.run_shard) throw new ShardMergeError(`${file}: not a run shard's summary (it has no run_shard): merge the outputs of runs made with LOADBENCH_SHARD=<i>/<n>`);
  }
  const first = inputs[0]!;
  const info = first.summary.run_shard!;
  for (const { file, summary } of inputs) {
    const s = summary.run_shard!;
    if (s.count !== info.count) {
      throw new ShardMergeError(`${file}: ${runShardName(s)}, but ${first.file} is ${runShardName(info)}: every shard of one run has the same shard count`);
    }
  }
  const byIndex = new Map<number, ShardInput>();
  for (const input of inputs) {
    const { index } = input.summary.run_shard!;
    const earlier = byIndex.get(index);
    if (earlier) throw new ShardMergeError(`${runShardName(input.summary.run_shard!)} is given twice (${earlier.file} and ${input.file}): give each shard exactly once`);
    byIndex.set(index, input);
  }
  const missing = Array.from({ length: info.count }, (_, i) => i + 1).filter((i) => !byIndex.has(i));
  if (missing.length) {
    throw new ShardMergeError(
      `${missing.map((i) => runShardName({ index: i, count: info.count })).join(', ')} missing: expected one summary for each shard 1 to ${info.count}, found ${[...byIndex.keys()].sort((a, b) => a - b).join(', ')}`,
    );
  }
  const shards = [...byIndex.values()].sort((a, b) => a.summary.run_shard!.index - b.summary.run_shard!.index);
  // Same levels everywhere, before the hash: a shard that stopped early has a different hash, and deserves a message that says why.
  const shape = (s: RunSummary): string => s.scenarios.map((x) => `${x.name}: ${x.levels.map(levelKey).join(',')}`).join('; ');
  for (const input of shards) {
    if (input.summary.run_label.replace(/\.shard-\d+-of-\d+$/, '') !== shards[0]!.summary.run_label.replace(/\.shard-\d+-of-\d+$/, '') || input.summary.run_shard!.run_label !== info.run_label) {
      throw new ShardMergeError(`${input.file}: run "${input.summary.run_shard!.run_label}", but ${first.file} is of run "${info.run_label}": merge the shards of one run`);
    }
    if (shape(input.summary) !== shape(shards[0]!.summary)) {
      const missingLevel = firstMissingLevel(shards[0]!.summary, input.summary) ?? firstMissingLevel(input.summary, shards[0]!.summary);
      throw new ShardMergeError(
        `${input.file}: ${runShardName(input.summary.run_shard!)} does not have the levels of ${shards[0]!.file}${missingLevel ? ` (${missingLevel})` : ''}: a shard stopped early or ran other bench files; rerun every shard`,
      );
    }
  }
  for (const input of shards) {
    const hash = input.summary.run_shard!.config_hash;
    if (hash !== info.config_hash) {
      throw new ShardMergeError(
        `${input.file}: config hash ${hash} differs from ${info.config_hash} of ${first.file}: the shards ran different configs (workload, SLO, bench files); rerun them with the same config.yaml and bench files`,
      );
    }
  }

  const records: LevelRecord[] = [];
  let maxSkew = 0;
  let maxLate = 0;
  for (const input of shards) maxLate = Math.max(maxLate, input.summary.run_shard!.late_ms ?? 0);
  shards[0]!.summary.scenarios.forEach((scenario, si) => {
    const { levels: _levels, ...snapshot } = scenario;
    for (const level of scenario.levels) {
      const parts = shards.map((input) => {
        const l = input.summary.scenarios[si]!.levels.find((x) => levelKey(x) === levelKey(level))!;
        return { index: input.summary.run_shard!.index, count: info.count, level: l };
      });
      for (const p of parts) maxLate = Math.max(maxLate, p.level.run_shard?.late_ms ?? 0);
      const merged = mergeLevel(snapshot, parts);
      if (isMeasured(merged) && merged.shard_merge) maxSkew = Math.max(maxSkew, merged.shard_merge.start_skew_ms);
      records.push({ scenario: snapshot, level: merged });
    }
  });

  const machines = shards.map((input) => ({
    index: input.summary.run_shard!.index,
    ...(input.summary.machine ? { cpu_model: input.summary.machine.cpu_model, logical_cpus: input.summary.machine.logical_cpus, calibration_ms: input.summary.machine.calibration.ms } : {}),
  }));
  const m0 = shards[0]!.summary.machine;
  const sameKind = m0 !== undefined && shards.every((x) => x.summary.machine?.cpu_model === m0.cpu_model && x.summary.machine?.logical_cpus === m0.logical_cpus);
  return {
    runLabel: info.run_label,
    records,
    mergedFrom: {
      shards: info.count,
      config_hash: info.config_hash,
      files: shards.map((x) => x.file),
      max_start_skew_ms: maxSkew,
      max_late_ms: maxLate,
      shared_start: shards.every((x) => x.summary.run_shard!.start_at_ms !== undefined && x.summary.run_shard!.start_at_ms === info.start_at_ms),
      machines,
    },
    report: shards[0]!.summary.report,
    ...(sameKind ? { machine: m0 } : {}),
    startedAt: new Date(Math.min(...shards.map((x) => Date.parse(x.summary.started_at)))),
    finishedAt: new Date(Math.max(...shards.map((x) => Date.parse(x.summary.finished_at)))),
    interrupted: shards.some((x) => x.summary.interrupted),
  };
}

function firstMissingLevel(has: RunSummary, lacks: RunSummary): string | undefined {
  for (const s of has.scenarios) {
    const other = lacks.scenarios.find((x) => x.name === s.name);
    if (!other) return `no scenario "${s.name}"`;
    for (const l of s.levels) if (!other.levels.some((x) => levelKey(x) === levelKey(l))) return `no ${levelName(s.name, l)}`;
  }
  return undefined;
}

/** One level of every shard, in shard order. */
interface LevelPart {
  index: number;
  count: number;
  level: LevelResult;
}

const hasNoConnections = (l: LevelResult): boolean => l.status === 'skipped' && l.run_shard?.connections === 0 && l.reason.startsWith(SKIP_REASONS.noConnections);

/**
 * Adds up one level over the shards: the shards whose part was no connection are left out; a
 * shard that could not run the level (or was interrupted before it) leaves the merged level
 * skipped, with its reason. Pure.
 */
export function mergeLevel(scenario: Pick<ScenarioSnapshot, 'name' | 'slo'>, parts: readonly LevelPart[]): LevelResult {
  const level = parts[0]!.level;
  // Levels are keyed by concurrency, which holds an open level's rate: one key, closed or open.
  const key = {
    scenario: scenario.name,
    concurrency: level.concurrency,
    ...(level.repetition ? { repetition: level.repetition } : {}),
    ...(level.target_rate_rps !== undefined ? { target_rate_rps: level.target_rate_rps } : {}),
  };
  const notRun = parts.find((p) => p.level.status === 'skipped' && !hasNoConnections(p.level));
  if (notRun && notRun.level.status === 'skipped') {
    return { status: 'skipped', ...key, reason: `${runShardName(notRun)}: ${notRun.level.reason}` };
  }
  const running = parts.filter((p): p is LevelPart & { level: MeasuredLevel } => isMeasured(p.level));
  if (running.length === 0) return { status: 'skipped', ...key, reason: 'no run shard had a connection at this level' };
  const levels = running.map((p) => p.level);
  const sum = (f: (l: MeasuredLevel) => number): number => levels.reduce((a, l) => a + f(l), 0);
  const requests = sum((l) => l.requests);
  const successes = sum((l) => l.successes);
  const failures = requests - successes;

  const histogram = decodeHistogram(levels[0]!.histogram);
  for (const l of levels.slice(1)) histogram.add(decodeHistogram(l.histogram));

  // The merged window: from the first shard's measured start to the last shard's end, as one generator with every connection would have measured it.
  const start = Math.min(...levels.map((l) => l.started_at_ms));
  const end = Math.max(...levels.map((l) => l.started_at_ms + l.duration_s * 1000));
  const durationS = Math.max(0, end - start) / 1000;
  const starts = levels.map((l) => l.started_at_ms);

  const errors = Object.fromEntries(ERROR_CATEGORIES.map((c) => [c, sum((l) => l.errors[c])])) as Record<ErrorCategory, number>;
  const statusCodes = new Map<string, number>();
  for (const l of levels) for (const [code, n] of Object.entries(l.status_codes)) statusCodes.set(code, (statusCodes.get(code) ?? 0) + n);
  const samples: MeasuredLevel['error_samples'] = [];
  for (const category of ERROR_CATEGORIES) {
    const seen = new Set<string>();
    for (const l of levels) for (const e of l.error_samples) if (e.category === category && seen.size < MAX_ERROR_SAMPLES_PER_CATEGORY && !seen.has(e.message)) seen.add(e.message);
    for (const message of seen) samples.push({ category, message });
  }

  const shardMerge: LevelShardMerge = {
    generators: running.length,
    start_skew_ms: Math.max(...starts) - Math.min(...starts),
    shards: parts.map((p) =>
      isMeasured(p.level)
        ? { index: p.index, connections: p.level.run_shard?.connections ?? 0, requests: p.level.requests, successes: p.level.successes, started_at_ms: p.level.started_at_ms, duration_s: p.level.duration_s, ...(p.level.run_shard?.late_ms !== undefined ? { late_ms: p.level.run_shard.late_ms } : {}) }
        : { index: p.index, connections: 0, requests: 0, successes: 0, ...(p.level.run_shard?.late_ms !== undefined ? { late_ms: p.level.run_shard.late_ms } : {}) },
    ),
  };
  const figures = {
    ...key,
    requests,
    successes,
    failures,
    error_rate_pct: errorRatePct(failures, requests),
    throughput_rps: throughputRps(successes, durationS),
    latency_ms: exactExtremes(latencyFromHistogram(histogram), levels),
    duration_s: Math.round(durationS * 1000) / 1000,
    started_at_ms: start,
    warmup_requests: sum((l) => l.warmup_requests),
    errors,
    error_samples: samples,
    status_codes: Object.fromEntries([...statusCodes].sort((a, b) => Number(a[0]) - Number(b[0]))),
    histogram: encodeHistogram(histogram),
    timeline: mergeTimelines(levels.map((l) => l.timeline), start),
    ...(levels.every((l) => l.open_loop) ? { open_loop: mergeOpenLoop(levels.map((l) => l.open_loop!), level.target_rate_rps ?? level.concurrency, durationS) } : {}),
    generator: {
      cpu_pct: Math.max(...levels.map((l) => l.generator.cpu_pct)),
      event_loop_delay_p99_ms: Math.max(...levels.map((l) => l.generator.event_loop_delay_p99_ms)),
      client_bound: levels.some((l) => l.generator.client_bound),
    },
  };
  return {
    status: levels.some((l) => l.status === 'partial') ? 'partial' : 'measured',
    ...figures,
    slo: evaluateSlo(figures, scenario.slo),
    shard_merge: shardMerge,
  };
}

type OpenLoop = NonNullable<MeasuredLevel['open_loop']>;

/**
 * Adds up the open-loop figures of an open level's shards, each of which sent its interleaved part
 * of the level's one schedule: counts add, the service-time and schedule-lag histograms add
 * exactly, and the achieved rate is the sent arrivals over the merged window (`durationS`). The
 * most requests outstanding at once is the sum of each shard's most, an upper bound (the shards'
 * peaks need not coincide); max_in_flight is the sum of the shards' shares, the level's. Pure.
 */
export function mergeOpenLoop(parts: readonly OpenLoop[], rateRps: number, durationS: number): OpenLoop {
  const sum = (f: (o: OpenLoop) => number): number => parts.reduce((a, o) => a + f(o), 0);
  const service = decodeHistogram(parts[0]!.service_histogram);
  const lag = decodeHistogram(parts[0]!.schedule_lag_histogram);
  for (const o of parts.slice(1)) {
    service.add(decodeHistogram(o.service_histogram));
    lag.add(decodeHistogram(o.schedule_lag_histogram));
  }
  const sent = sum((o) => o.sent);
  const first = parts[0]!;
  return {
    target_rate_rps: rateRps,
    achieved_rate_rps: durationS > 0 ? sent / durationS : 0,
    arrivals: first.arrivals,
    ...(first.seed !== undefined ? { seed: first.seed } : {}),
    max_in_flight: sum((o) => o.max_in_flight),
    sent,
    dropped: sum((o) => o.dropped),
    scheduled: sum((o) => o.scheduled),
    max_in_flight_seen: sum((o) => o.max_in_flight_seen),
    in_flight_at_end: sum((o) => o.in_flight_at_end),
    service_time_ms: latencyFromHistogram(service),
    schedule_lag_ms: latencyFromHistogram(lag),
    service_histogram: encodeHistogram(service),
    schedule_lag_histogram: encodeHistogram(lag),
  };
}

/**
 * A decoded histogram knows its smallest and largest value only to its 3 significant digits;
 * the shards measured them exactly, so the merge takes theirs.
 */
function exactExtremes(latency: MeasuredLevel['latency_ms'], levels: readonly MeasuredLevel[]): MeasuredLevel['latency_ms'] {
  const measured = levels.filter((l) => l.successes > 0);
  if (measured.length === 0) return latency;
  return { ...latency, min: Math.min(...measured.map((l) => l.latency_ms.min)), max: Math.max(...measured.map((l) => l.latency_ms.max)) };
}

/**
 * Adds timelines up by wall-clock second: second k of the merge is [start + k s, start + (k+1) s),
 * and each shard's second goes to the one its start is nearest to (the shards' seconds start
 * within the start skew of each other). A second's p95 comes from the shards' histograms of that
 * second added together, so it is exact. Pure.
 */
export function mergeTimelines(timelines: readonly TimelinePoint[][], startMs: number): TimelinePoint[] {
  const seconds = new Map<number, { requests: number; successes: number; failures: number; sent: number | undefined; histogram: ReturnType<typeof decodeHistogram> | undefined; p95: number }>();
  for (const timeline of timelines) {
    for (const p of timeline) {
      const k = Math.round((p.t_ms - startMs) / 1000);
      let s = seconds.get(k);
      if (!s) seconds.set(k, (s = { requests: 0, successes: 0, failures: 0, sent: undefined, histogram: undefined, p95: 0 }));
      s.requests += p.requests;
      if (p.sent !== undefined) s.sent = (s.sent ?? 0) + p.sent;
      s.successes += p.successes;
      s.failures += p.failures;
      if (p.histogram) {
        const h = decodeHistogram(p.histogram);
        if (s.histogram) s.histogram.add(h);
        else s.histogram = h;
      } else s.p95 = Math.max(s.p95, p.p95_ms); // a shard summary without histograms: the highest p95 of the second, not exact
    }
  }
  return [...seconds.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([k, s]) => ({
      t_ms: startMs + k * 1000,
      requests: s.requests,
      successes: s.successes,
      failures: s.failures,
      p95_ms: s.histogram && s.histogram.totalCount > 0 ? Math.max(s.p95, s.histogram.getValueAtPercentile(95) / 1000) : s.p95,
      ...(s.sent !== undefined ? { sent: s.sent } : {}),
    }));
}
