/**
 * How busy the load generator itself was during a level, and whether that made it the limit
 * (`client_bound`): process CPU and event-loop delay on the main thread, event-loop utilisation
 * and delay per generator thread. The thresholds are in client-bound.ts.
 */
import { monitorEventLoopDelay, performance, type IntervalHistogram } from 'node:perf_hooks';
import { CLIENT_BOUND_LIMITS, isClientBound, type ClientBoundLimits } from './client-bound.ts';
import type { GeneratorLoad } from './types.ts';

/** How busy a generator thread's event loop was. Structured-cloneable (sent from the thread). */
export interface ThreadLoad {
  /** Event-loop utilization, 0-1 (busy time / wall time of this thread). */
  utilization: number;
  eventLoopDelayP99Ms: number;
}

const ELD_RESOLUTION_MS = 10;

function startDelayMonitor(): IntervalHistogram {
  const eld = monitorEventLoopDelay({ resolution: ELD_RESOLUTION_MS });
  eld.enable();
  return eld;
}

/** p99 of an event-loop delay histogram, ms. It holds whole timer intervals, so the resolution itself is subtracted. */
function delayP99Ms(eld: IntervalHistogram): number {
  return eld.count > 0 ? Math.max(0, eld.percentile(99) / 1e6 - ELD_RESOLUTION_MS) : 0;
}

const round1 = (x: number): number => Math.round(x * 10) / 10;
const round3 = (x: number): number => Math.round(x * 1000) / 1000;

/**
 * Measures the process that runs a level, from construction: its CPU time (every thread) and its
 * main thread's event-loop delay. With generator threads, saturation is judged per thread from
 * the loads they report, since process CPU spans all of them.
 */
export class GeneratorLoadMeter {
  readonly #cpuStart = process.cpuUsage();
  readonly #eld = startDelayMonitor();
  readonly #tStart = performance.now();

  /** Stops watching the event loop (the level's shards are done). */
  stopEventLoop(): void {
    this.#eld.disable();
  }

  /** The load over the level so far. `threadLoads`: one per generator thread, when the level ran on threads. */
  result(threadLoads: ThreadLoad[] | undefined, limits: ClientBoundLimits = CLIENT_BOUND_LIMITS): GeneratorLoad {
    const wallMs = performance.now() - this.#tStart;
    const cpu = process.cpuUsage(this.#cpuStart);
    const cpuPct = wallMs > 0 ? ((cpu.user + cpu.system) / 1000 / wallMs) * 100 : 0;
    if (threadLoads === undefined) {
      const eldP99 = delayP99Ms(this.#eld);
      return {
        cpu_pct: round1(cpuPct),
        event_loop_delay_p99_ms: round3(eldP99),
        client_bound: isClientBound(cpuPct, eldP99, limits),
      };
    }
    // Process CPU spans every thread; saturation is judged per generator thread, by how busy its event loop was.
    const busiest = Math.max(...threadLoads.map((l) => l.utilization)) * 100;
    const eldP99 = Math.max(...threadLoads.map((l) => l.eventLoopDelayP99Ms));
    return {
      cpu_pct: round1(cpuPct),
      event_loop_delay_p99_ms: round3(eldP99),
      client_bound: isClientBound(busiest, eldP99, limits),
      threads: threadLoads.length,
    };
  }
}

/** Measures one generator thread's event loop between `start` and `finish` (run inside the thread). */
export class ThreadLoadMeter {
  readonly #eld = monitorEventLoopDelay({ resolution: ELD_RESOLUTION_MS });
  #elu0 = performance.eventLoopUtilization();

  /** The thread starts sending. */
  start(): void {
    this.#eld.enable();
    this.#elu0 = performance.eventLoopUtilization();
  }

  /** Stops watching the event loop (the shard is idle). */
  stopEventLoop(): void {
    this.#eld.disable();
  }

  /** The load since `start`. */
  result(): ThreadLoad {
    const elu = performance.eventLoopUtilization(this.#elu0);
    return { utilization: elu.utilization, eventLoopDelayP99Ms: delayP99Ms(this.#eld) };
  }
}
