/**
 * Where a run was measured and what it measured (issue 13): the machine fingerprint (CPU model,
 * logical CPUs, memory, OS, Node, and a CPU calibration score measured at the start of the run)
 * and the workload hash of each scenario. A baseline carries both, so that a later run can tell
 * whether its absolute figures are comparable with the baseline's before judging them
 * (core/gates/baseline-applicability.ts).
 */
import { createHash, hash } from 'node:crypto';
import { availableParallelism, cpus, totalmem, type as osType, release, arch } from 'node:os';
import type { LoadbenchConfig } from '../config/schema.ts';
import type { MachineFingerprint, ScenarioSnapshot } from '../model/summary.ts';

/** Hashes per calibration loop: about 100-200 ms on a current server core. */
export const CALIBRATION_HASHES = 100_000;
/** Loops per calibration; the score is their median. */
export const CALIBRATION_RUNS = 5;
/** What the loop does, stored beside the score: a score is only comparable with one of the same loop. */
export const CALIBRATION_LOOP = `sha256 chain of 32 bytes x ${CALIBRATION_HASHES}, median of ${CALIBRATION_RUNS}`;

/**
 * One calibration loop: a chain of SHA-256 hashes of 32 bytes, each hashing the previous digest
 * (so it can be neither skipped nor parallelised), like the proof-of-work of the reference
 * system: one short hash per call, so the score moves with the per-call cost of the core as well
 * as its hashing speed. Returns the wall time in ms.
 */
function calibrationLoop(hashes: number): number {
  let digest = Buffer.alloc(32);
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < hashes; i++) digest = hash('sha256', digest, 'buffer');
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  // Keep the result observable so the loop is never optimised away.
  if (digest.length !== 32) throw new Error('unreachable');
  return ms;
}

/**
 * Measures the calibration score: the median wall time of {@link CALIBRATION_RUNS} loops of
 * {@link CALIBRATION_HASHES} hashes, after one short warm-up loop. Lower is faster. Blocks the
 * event loop for about a second on a slow core: call it before any load or target starts.
 */
export function measureCalibration(runs = CALIBRATION_RUNS, hashes = CALIBRATION_HASHES): MachineFingerprint['calibration'] {
  calibrationLoop(Math.ceil(hashes / 5));
  const runsMs = Array.from({ length: runs }, () => calibrationLoop(hashes));
  const sorted = [...runsMs].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  const median = sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  const round = (x: number): number => Math.round(x * 100) / 100;
  return { ms: round(median), runs_ms: runsMs.map(round), loop: runs === CALIBRATION_RUNS && hashes === CALIBRATION_HASHES ? CALIBRATION_LOOP : `sha256 chain of 32 bytes x ${hashes}, median of ${runs}` };
}

/** This machine's fingerprint, with a fresh calibration (about a second). */
export function machineFingerprint(calibration: MachineFingerprint['calibration'] = measureCalibration()): MachineFingerprint {
  const cpuList = cpus();
  return {
    cpu_model: (cpuList[0]?.model ?? 'unknown').trim().replace(/\s+/g, ' '),
    logical_cpus: availableParallelism(),
    memory_bytes: totalmem(),
    os: `${osType()} ${release()} ${arch()}`,
    node: process.version,
    calibration,
  };
}

/** JSON with object keys sorted at every depth, so that equal values always give equal text. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/**
 * What defines a scenario's workload, hashed: its name, the workload snapshot (URL with
 * credentials removed, method, header names, payload shape, levels, duration or request count,
 * warm-up, request timeout, challenge id) and the target's start command, ready URL and `env`.
 * Repetitions are left out: they change how often a level is measured, not what one measures;
 * so is a Poisson schedule's seed (drawn anew each run unless set): the same rates give the same load.
 * `replicaEnv` (a scaling sweep's `scaling.env`) is left out of `env` too: the sweep sets it for each
 * count, while a single run gets it from the shell (`WORKERS=4 npx vitest bench`), and the baseline
 * file of each count (`baselines/submit-${WORKERS}x.json`) already says which count it holds.
 */
export function workloadIdentity(scenario: Pick<ScenarioSnapshot, 'name' | 'workload'>, start: LoadbenchConfig['target']['start'], replicaEnv?: string): unknown {
  const { repetitions: _repetitions, seed: _seed, ...workload } = scenario.workload;
  const env = start && replicaEnv !== undefined ? Object.fromEntries(Object.entries(start.env).filter(([k]) => k !== replicaEnv)) : start?.env;
  return {
    scenario: scenario.name,
    workload,
    target_start: start ? { command: start.command, ready_url: start.ready_url, env } : null,
  };
}

/** The workload hash: the first 16 hex digits of the SHA-256 of {@link workloadIdentity}'s canonical JSON. */
export function workloadHash(scenario: Pick<ScenarioSnapshot, 'name' | 'workload'>, start: LoadbenchConfig['target']['start'], replicaEnv?: string): string {
  return createHash('sha256').update(canonicalJson(workloadIdentity(scenario, start, replicaEnv))).digest('hex').slice(0, 16);
}
