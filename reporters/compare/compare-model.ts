import { collapseRepetitions } from '../../core/model/build-summary.ts';
import { isOpenLoop, isOpenLoopScenario, levelName, measuredLevels, type LevelRef, type MeasuredLevel, type RunSummary, type ScenarioSummary } from '../../core/model/summary.ts';
import { LITTLE_CLIENT_LIMIT_RATIO, OPEN_SATURATION_RATIO, littlesLawConcurrency, scenarioFindings } from '../report/findings.ts';
import { levelBottleneck } from '../report/bottleneck.ts';

/** One run to compare, with its replica count and where that count came from. */
export interface CompareInput {
  label: string;
  summary: RunSummary;
  replicas: number;
  replicasFrom: 'command line' | 'num_nodes' | 'unknown (assumed 1)' | 'scaling sweep';
}

/** Per label and scenario: the figures the comparison report states. */
export interface LabelFigures {
  label: string;
  scenario: string;
  replicas: number;
  replicasFrom: CompareInput['replicasFrom'];
  /** `target_rate_rps` is set when the level is open-loop (`concurrency` then holds the same rate). */
  peak: { concurrency: number; target_rate_rps?: number; throughput_rps: number; p95_ms: number; client_bound: boolean } | undefined;
  /** Highest shared level meeting every SLO. */
  slo_capacity: { concurrency: number; target_rate_rps?: number; throughput_rps: number } | undefined;
  /** Peak throughput / the first label's peak throughput. */
  speedup: number | undefined;
  /** speedup / (replicas / first label's replicas). */
  efficiency: number | undefined;
  /** What limited the peak level, from its resource figures (issue 16); absent without them. */
  bottleneck?: string;
}

/** The whole comparison, computed on what the runs share. */
export interface Comparison {
  labels: string[];
  /** Scenarios present in every run. */
  scenarios: string[];
  /** Levels measured in every run, per scenario: concurrencies, or offered rates (req/s) of open-loop levels. */
  levels: Record<string, number[]>;
  /** Human-readable differences between the runs' workloads (compared only on what they share). */
  differences: string[];
  /** Why some figures are less certain: interrupted runs, levels where the load generator was the limit. */
  caveats: string[];
  figures: LabelFigures[];
  rows: { label: string; scenario: string; level: MeasuredLevel }[];
  /** Plain sentences on how throughput scales from one label to the next and where it stops. */
  scaling: string[];
}

/**
 * Replica count from `report.num_nodes`: the number given for a worker/replica entry
 * ("gateway=1, worker=2" gives 2), or a bare number ("4").
 */
export function replicasFromNumNodes(numNodes: string): number | undefined {
  const m = /(?:worker|replica|node|instance)s?\s*[=:]\s*(\d+)/i.exec(numNodes);
  if (m) return Number(m[1]);
  const bare = /^\s*(\d+)\s*$/.exec(numNodes);
  return bare ? Number(bare[1]) : undefined;
}

const usable = (s: ScenarioSummary): MeasuredLevel[] => measuredLevels(s).filter((l) => l.requests > 0);

/** Most repetitions of any level: runs with different repetition counts differ in noise, not in load. */
function repetitions(s: ScenarioSummary): number {
  return Math.max(1, ...s.levels.map((l) => l.repetition ?? 1));
}

function describeWorkload(s: ScenarioSummary, reps: number): Record<string, string> {
  const w = s.workload;
  return {
    'repetitions per level': String(reps),
    'concurrency levels': w.arrival_rates?.length ? `open loop: arrival rates ${w.arrival_rates.join(', ')} req/s (${w.arrivals ?? 'constant'})` : w.concurrency_levels.join(', '),
    'payload shape': JSON.stringify(w.payload_shape),
    'per-level amount': w.requests_per_level !== undefined ? `${w.requests_per_level} requests` : `${w.duration_seconds} s`,
    'warm-up': `${w.warmup_seconds} s`,
    timeout: `${w.timeout_seconds} s`,
    target: `${w.method} ${w.url}`,
  };
}

/** The level key of a figure or a level (core's LevelRef without the bare number): `target_rate_rps` set for an open-loop level. */
export type LevelKey = Exclude<LevelRef, number>;

/**
 * How a comparison sentence names a level: `concurrency 4`, or `200 req/s offered` for an
 * open-loop level (whose number is a rate, next to throughputs in req/s in the same sentence).
 */
export function levelPhrase(l: LevelKey): string {
  return isOpenLoop(l) ? `${levelName(l)} offered` : levelName(l);
}

/** Several levels of one kind in a sentence: `concurrency 4, 8`, or `200, 400 req/s offered`. */
function levelsPhrase(ls: readonly LevelKey[]): string {
  const numbers = ls.map((l) => l.concurrency).join(', ');
  return ls.length > 0 && ls.every(isOpenLoop) ? `${numbers} req/s offered` : `concurrency ${numbers}`;
}

const n0 = (x: number): string => x.toFixed(0);
const n1 = (x: number): string => x.toFixed(1);
const pct = (x: number): string => `${x >= 0 ? '+' : ''}${(x * 100).toFixed(0)} %`;

/**
 * Why adding replicas stopped paying, from the data of the run that did not gain: where its own
 * sweep saturates (the knee) and whether Little's law says the requests waited inside the system
 * (a server-side limit) or were held back outside it (the client).
 */
function whyItStops(b: LabelFigures, s: ScenarioSummary, cpuCount: number): string {
  const f = scenarioFindings(s);
  const peak = measuredLevels(s).find((l) => l.concurrency === b.peak!.concurrency)!;
  const ratio = littleRatio(peak);
  const inSystem = (ratio * peak.concurrency).toFixed(1);
  const open = isOpenLoopScenario(s);
  const at = (c: number): string => levelPhrase(open ? { concurrency: c, target_rate_rps: c } : { concurrency: c });
  // Open loop: the saturation finding (arrivals not sent, requests not answered, p95 blowing up) says where, with its reason.
  const knee = f.open?.saturation
    ? `${b.label} saturates at ${at(f.open.saturation.rate_rps)} (${f.open.saturation.reason}). `
    : f.knee
      ? `${b.label} saturates at ${at(f.knee.concurrency)} (throughput ${pct(f.knee.throughput_growth_pct / 100)}, p95 ${pct(f.knee.p95_growth_pct / 100)} vs ${at(f.knee.previous)}). `
      : '';
  // Issue 16: with the CPU of each process measured, say what the limit was instead of inferring it.
  const measuredWhy = levelBottleneck(peak);
  if (measuredWhy) {
    const advice =
      measuredWhy.kind === 'machine'
        ? ' More replicas on this machine cannot help; measure on more cores.'
        : measuredWhy.kind === 'process' && measuredWhy.role !== undefined
          ? ` More replicas help only if they relieve the ${measuredWhy.role}.`
          : measuredWhy.kind === 'generator'
            ? ' Rerun with generator_threads or from another machine.'
            : '';
    return `${knee}At ${b.label}'s peak (${levelPhrase(peak)}) ${measuredWhy.text}.${advice}`;
  }
  const cores =
    b.replicas >= cpuCount
      ? `this machine has ${cpuCount} CPU cores and ${b.label} runs ${b.replicas} replicas beside the gateway and the load generator, so `
      : 'so ';
  // An open-loop level has no fixed client count: the reasoning below about clients does not apply.
  if (isOpenLoop(peak)) return `${knee}${openLoopWhy(b.label, peak, cores)}`;
  if (peak.concurrency < b.replicas) {
    // Fewer clients than replicas: no queue can form at the peak, so Little's law says nothing about queueing there.
    return `${knee}${b.label}'s peak is at concurrency ${peak.concurrency}, fewer clients than its ${b.replicas} replicas, so at most ${peak.concurrency} replicas were busy at a time, and more clients gave less throughput: the shared CPU cores or the gateway, not the replica count, are the limit${b.replicas >= cpuCount ? ` (this machine has ${cpuCount} CPU cores)` : ''}.`;
  }
  if (peak.error_rate_pct < 1 && ratio < LITTLE_CLIENT_LIMIT_RATIO) {
    return `${knee}At ${b.label}'s peak only ${inSystem} of ${peak.concurrency} clients were in the system on average (Little's law: throughput x mean latency), so time outside the target, likely the load generator sharing the CPU cores, held the load back.`;
  }
  return `${knee}At ${b.label}'s peak ${inSystem} of ${peak.concurrency} clients were in the system (Little's law), so requests queued inside it: ${cores}the gateway or the CPU cores, not the replica count, are the limit.`;
}

/**
 * Why an open-loop peak went no higher, from what the level sent: arrivals dropped at
 * max_in_flight (requests piled up inside the system), the generator behind its schedule (the
 * client held the load back), or the system serving no more than it did.
 */
function openLoopWhy(label: string, peak: MeasuredLevel, cores: string): string {
  const o = peak.open_loop;
  const at = `At ${label}'s peak (${levelPhrase(peak)})`;
  // Little's law still gives the requests in flight; it is not compared with a client count, there is none.
  const inFlight = `${littlesLawConcurrency(peak.throughput_rps, peak.latency_ms.mean).toFixed(1)} requests in flight on average (Little's law)`;
  const limit = `${cores}the gateway or the CPU cores, not the replica count, are the limit.`;
  if (o && o.dropped > 0) {
    return `${at} ${o.dropped} arrivals were dropped at max_in_flight ${o.max_in_flight}, so requests piled up inside the system (${inFlight}): ${limit}`;
  }
  if (o && o.achieved_rate_rps < o.target_rate_rps * OPEN_SATURATION_RATIO) {
    return `${at} only ${n1(o.achieved_rate_rps)} req/s were sent (schedule lag p99 ${n1(o.schedule_lag_ms.p99)} ms): the load generator fell behind its schedule, likely sharing the CPU cores, and held the load back.`;
  }
  const sent = o ? `${n1(o.achieved_rate_rps)} req/s were sent and ` : '';
  return `${at} ${sent}${n1(peak.throughput_rps)} req/s succeeded, with ${inFlight}, so the system served no more than that: ${limit}`;
}

/** Share of its clients a level actually kept inside the system (Little's law: throughput x mean latency / concurrency). */
function littleRatio(l: MeasuredLevel): number {
  return l.concurrency > 0 ? littlesLawConcurrency(l.throughput_rps, l.latency_ms.mean) / l.concurrency : 0;
}

/** An open-loop level's rate, to carry along with its key; nothing for a closed level. */
const rateOf = (l: MeasuredLevel): { target_rate_rps?: number } => (l.target_rate_rps !== undefined ? { target_rate_rps: l.target_rate_rps } : {});

/** Whether a peak is an open-loop level at the highest shared rate that the system served in full (successes ≥ {@link OPEN_SATURATION_RATIO} of the rate). */
function keptUpAtTop(peak: NonNullable<LabelFigures['peak']>, shared: readonly number[]): boolean {
  const rate = peak.target_rate_rps;
  return rate !== undefined && peak.concurrency === shared.at(-1) && peak.throughput_rps >= rate * OPEN_SATURATION_RATIO;
}

/**
 * Compares two or more runs on the scenarios and levels they share. A level repeated
 * (`repetitions` > 1) counts once, as its median-throughput repetition, as in single-run charts. Pure.
 */
export function compareRuns(rawInputs: CompareInput[], cpuCount: number): Comparison {
  const reps = new Map(rawInputs.map((i) => [i.label, new Map(i.summary.scenarios.map((s) => [s.name, repetitions(s)]))]));
  const inputs = rawInputs.map((i) => ({ ...i, summary: collapseRepetitions(i.summary) }));
  const labels = inputs.map((i) => i.label);
  const names = inputs.map((i) => new Set(i.summary.scenarios.map((s) => s.name)));
  const scenarios = [...names[0]!].filter((n) => names.every((set) => set.has(n)));
  const differences: string[] = [];
  const caveats: string[] = inputs
    .filter((i) => i.summary.interrupted)
    .map((i) => `${i.label} was interrupted: its last measured level may be partial (cut short), so its figures are less certain`);
  const allNames = new Set(names.flatMap((s) => [...s]));
  for (const n of allNames) {
    if (!scenarios.includes(n)) {
      differences.push(`scenario "${n}" is only in ${inputs.filter((_, k) => names[k]!.has(n)).map((i) => i.label).join(', ')}: left out`);
    }
  }
  const levels: Record<string, number[]> = {};
  const rows: Comparison['rows'] = [];
  const figures: LabelFigures[] = [];
  const scaling: string[] = [];
  for (const name of scenarios) {
    const per = inputs.map((i) => ({ input: i, s: i.summary.scenarios.find((s) => s.name === name)! }));
    const sets = per.map(({ s }) => new Set(usable(s).map((l) => l.concurrency)));
    const shared = [...sets[0]!].filter((c) => sets.every((set) => set.has(c))).sort((a, b) => a - b);
    levels[name] = shared;
    const describe = (label: string, s: ScenarioSummary) => describeWorkload(s, reps.get(label)?.get(name) ?? 1);
    const base = describe(labels[0]!, per[0]!.s);
    for (const { input, s } of per.slice(1)) {
      const other = describe(input.label, s);
      for (const key of Object.keys(base)) {
        if (base[key] !== other[key]) {
          differences.push(`scenario "${name}": ${key} differs: ${labels[0]} has ${base[key]}, ${input.label} has ${other[key]}`);
        }
      }
    }
    if (sets.some((set) => set.size !== shared.length)) {
      const rates = per.every(({ s }) => isOpenLoopScenario(s));
      differences.push(
        rates
          ? `scenario "${name}": compared on the offered rates every run measured: ${shared.length ? `${shared.join(', ')} req/s` : 'none'}`
          : `scenario "${name}": compared on the levels every run measured: ${shared.join(', ') || 'none'}`,
      );
    }
    const first = per[0]!;
    let firstPeak: number | undefined;
    const sharedOnly = new Map<string, ScenarioSummary>();
    for (const { input, s } of per) {
      const ls = usable(s).filter((l) => shared.includes(l.concurrency)).sort((a, b) => a.concurrency - b.concurrency);
      sharedOnly.set(input.label, { ...s, levels: ls });
      for (const level of ls) rows.push({ label: input.label, scenario: name, level });
      const bound = ls.filter((l) => l.generator.client_bound);
      if (bound.length) {
        // A busy machine (other work beside the generator) shows here first: those levels measure the client.
        caveats.push(
          `${scenarios.length > 1 ? `${name}: ` : ''}${input.label}: the load generator was saturated or delayed at ${levelsPhrase(bound)}: those levels say more about the client machine than the system; rerun on a quieter machine before trusting them`,
        );
      }
      const peak = ls.reduce<MeasuredLevel | undefined>((b, l) => (!b || l.throughput_rps > b.throughput_rps ? l : b), undefined);
      const passing = ls.filter((l) => l.slo.judged && l.slo.pass).at(-1);
      if (input === first.input) firstPeak = peak?.throughput_rps;
      const speedup = peak && firstPeak ? peak.throughput_rps / firstPeak : undefined;
      const ratio = input.replicas / first.input.replicas;
      figures.push({
        label: input.label,
        scenario: name,
        replicas: input.replicas,
        replicasFrom: input.replicasFrom,
        peak: peak && {
          concurrency: peak.concurrency,
          ...rateOf(peak),
          throughput_rps: peak.throughput_rps,
          p95_ms: peak.latency_ms.p95,
          client_bound: peak.generator.client_bound,
        },
        slo_capacity: passing && { concurrency: passing.concurrency, ...rateOf(passing), throughput_rps: passing.throughput_rps },
        speedup,
        efficiency: speedup !== undefined && ratio > 0 ? speedup / ratio : undefined,
        ...(peak && levelBottleneck(peak) ? { bottleneck: levelBottleneck(peak)!.text } : {}),
      });
    }
    const fs = figures.filter((f) => f.scenario === name);
    // Only when every step was judged and still paid may the report say that throughput kept growing.
    let stopped = false;
    let undecided = false;
    for (let k = 1; k < fs.length; k++) {
      const a = fs[k - 1]!;
      const b = fs[k]!;
      if (!a.peak || !b.peak) continue;
      const gain = b.peak.throughput_rps / a.peak.throughput_rps - 1;
      // Latency at one and the same concurrency (b's peak): peaks at different levels are not comparable.
      const at = b.peak.concurrency;
      const aAt = measuredLevels(sharedOnly.get(a.label)!).find((l) => l.concurrency === at);
      const p95Then = aAt?.latency_ms.p95 ?? a.peak.p95_ms;
      const latency = `p95 at ${levelPhrase(b.peak)} ${n1(p95Then)} → ${n1(b.peak.p95_ms)} ms (${pct(b.peak.p95_ms / p95Then - 1)})`;
      const replicaGain = b.replicas / a.replicas;
      const stepEfficiency = replicaGain > 0 ? (gain + 1) / replicaGain : 0;
      const eff = `${(stepEfficiency * 100).toFixed(0)} %`;
      const tp = `peak throughput ${n0(a.peak.throughput_rps)} → ${n0(b.peak.throughput_rps)} req/s (${pct(gain)})`;
      const head = `${scenarios.length > 1 ? `${name}: ` : ''}${a.label} to ${b.label} (${a.replicas} to ${b.replicas} replicas)`;
      if (b.peak.client_bound || a.peak.client_bound) {
        scaling.push(`${head}: ${tp}, but the load generator was saturated at a peak level, so this step says more about the client than the system.`);
        undecided = true;
      } else if (replicaGain <= 1) {
        scaling.push(
          `${head}: ${tp}; ${latency}: ${replicaGain === 1 ? 'the same replica count, so this difference is run-to-run variation, not scaling' : 'fewer replicas, so this step is not a scale-up'}.`,
        );
        undecided = true;
      } else if ((gain < 0.1 || stepEfficiency < 0.5) && keptUpAtTop(b.peak, shared)) {
        // Open loop: throughput cannot exceed the offered rate; a run that served the highest one measured the offer, not its capacity.
        scaling.push(
          `${head}: ${tp}; ${latency}: ${b.label} kept up with the highest offered rate (${b.peak.target_rate_rps} req/s), so its peak is the load offered, not its capacity; add higher arrival_rates to find where scaling stops.`,
        );
        undecided = true;
      } else if (gain < 0.1 || stepEfficiency < 0.5) {
        scaling.push(`${head}: ${tp}, step efficiency ${eff}; ${latency}: scaling stops here. ${whyItStops(b, sharedOnly.get(b.label)!, cpuCount)}`);
        stopped = true;
      } else {
        scaling.push(`${head}: ${tp}, step efficiency ${eff}; ${latency}: adding replicas still pays.`);
      }
    }
    if (!stopped && fs.length > 1) {
      const prefix = scenarios.length > 1 ? `${name}: ` : '';
      scaling.push(
        undecided
          ? `${prefix}where scaling stops cannot be told from these runs: a step above was not judged; rerun it on a quiet machine (or with more replicas per step).`
          : `${prefix}throughput kept growing up to ${fs.at(-1)!.label}; measure more replicas to find where scaling stops.`,
      );
    }
  }
  const allOnce = [...reps.values()].every((m) => [...m.values()].every((r) => r === 1));
  if (allOnce && inputs.length > 1) {
    // Single runs cannot separate a small step from noise; the verdicts above must not read as more certain than they are.
    caveats.push(
      'every level of every run was measured once: on a shared machine a level can differ by tens of percent between identical runs, so a smaller step may be noise; set workload.repetitions: 3, or repeat the runs, before trusting the verdicts',
    );
  }
  return { labels, scenarios, levels, differences, caveats, figures, rows, scaling };
}
