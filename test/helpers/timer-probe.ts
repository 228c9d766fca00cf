/**
 * What the machine did beside a timing test, measured over the same seconds: how late it woke a
 * sleeping thread up (a worker thread sleeping 1 ms at a time, lateness beyond the timers' own
 * granularity), and how much CPU other processes and the hypervisor took (the resource sampler's
`machine` figures, as the gates' disturbance rule reads them). The open-loop
 * rate test judges the generator's schedule lag against the 2 ms only when the machine
 * was its own; a pause of the whole machine or a neighbour's job is the machine's. Test-only.
 */
import { Worker } from 'node:worker_threads';
import { startResourceSampler } from '../../core/resources/index.ts';

// Node's timers count whole milliseconds from the loop's cached clock: a 1 ms timer set just
// after a millisecond ticked fires up to 2 ms later on an idle machine. Lateness is counted from there.
const PROBE = `
const { parentPort } = require('node:worker_threads');
const { performance } = require('node:perf_hooks');
const late = [];
let stop = false;
parentPort.on('message', () => { stop = true; });
let set = performance.now();
const tick = () => {
  const now = performance.now();
  late.push(Math.max(0, now - set - 2));
  if (stop) return parentPort.postMessage(late);
  set = performance.now();
  setTimeout(tick, 1);
};
setTimeout(tick, 1);
`;

/** A running probe: `stop()` resolves with its wake-ups' lateness beyond 2 ms, ms, in order. */
export interface TimerProbe {
  stop(): Promise<number[]>;
}

/** Starts a probe thread. */
export function startTimerProbe(): TimerProbe {
  const worker = new Worker(PROBE, { eval: true });
  const done = new Promise<number[]>((resolve, reject) => {
    worker.once('message', (late: number[]) => resolve(late));
    worker.once('error', reject);
  });
  return {
    async stop() {
      worker.postMessage('stop');
      const late = await done;
      await worker.terminate();
      return late;
    },
  };
}

/** The p-th percentile (0-100) of values, nearest rank; 0 for none. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return 0;
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
}

/** CPU used beside a test, in cores (1 = one core busy all the time). */
export interface MachineShare {
  /** Busy cores that were neither the target nor this process: the sampler's `otherCores`. */
  otherCores: number;
  /** Cores the hypervisor gave to other machines. */
  stealCores: number;
}

/**
 * Starts the resource sampler with `targetPid` as the target (this process is the load
 * generator); `stop()` gives what other processes and the hypervisor took meanwhile, or
 * undefined where the sampler cannot measure (not Linux).
 */
export function watchMachine(targetPid: number): { stop(): MachineShare | undefined } {
  const sampler = startResourceSampler({ target: { kind: 'pids', pids: [targetPid] } });
  const nowMs = (): number => performance.timeOrigin + performance.now();
  const startMs = nowMs();
  return {
    stop() {
      const s = sampler.summarize({ startMs, endMs: nowMs() });
      sampler.stop();
      if (!s.available || !s.machine) return undefined;
      return { otherCores: s.machine.otherCores, stealCores: (s.machine.stealPercent / 100) * s.machine.cores };
    },
  };
}
