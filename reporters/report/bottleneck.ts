/**
 * Where a level's CPU went, and what limited it (issue 16): from the level's resource figures,
 * the process of the system under test that was CPU-bound (the gateway at 0.97 of a core while
 * each worker used 0.3), or the machine itself (98 % busy), or nothing CPU-bound at all. Used by
 * the report's findings and by the comparison to say why scaling stops. Pure.
 */
import { availableResources, type AvailableLevelResources, type ProcessResources } from '../../core/model/resources.ts';
import type { MeasuredLevel } from '../../core/model/summary.ts';

/**
 * A process at this share of one core or more was CPU-bound: a single-threaded runtime (Node's
 * event loop, a Python worker) cannot go much above one core, and sampling at 250 ms measures to
 * ±0.04 core. A property of such processes, not of one machine.
 */
export const CPU_BOUND_CORES = 0.85;
/** The machine's CPUs this busy (share of all cores) leave nothing to grow into. */
export const MACHINE_BUSY_PCT = 90;
/** Roles below this many cores are left out of the sentence. */
const MINOR_CORES = 0.05;

/** What limited one level, as far as CPU figures tell. */
export interface Bottleneck {
  concurrency: number;
  /** `machine`: every core busy; `process`: one role of the target CPU-bound; `generator`: loadbench itself; `none`: nothing CPU-bound. */
  kind: 'machine' | 'process' | 'generator' | 'none';
  /** The role that was CPU-bound (`gateway`, `worker`), for `process`. */
  role?: string;
  /** A plain sentence with the figures, e.g. "the gateway process used 0.97 of a core while each worker used 0.30: the gateway is the bottleneck". */
  text: string;
}

const c2 = (x: number): string => x.toFixed(2);

/** Processes of the target by role (wrappers left out), the busiest role first. */
function roles(r: AvailableLevelResources): { role: string; processes: ProcessResources[]; max: number; mean: number }[] {
  const byRole = new Map<string, ProcessResources[]>();
  for (const p of r.processes) if (!p.wrapper) byRole.set(p.role, [...(byRole.get(p.role) ?? []), p]);
  return [...byRole.entries()]
    .map(([role, processes]) => ({
      role,
      processes,
      max: Math.max(...processes.map((p) => p.mean_cores)),
      mean: processes.reduce((sum, p) => sum + p.mean_cores, 0) / processes.length,
    }))
    .sort((a, b) => b.max - a.max);
}

/** "the gateway process used 0.97 of a core" or "the 2 worker processes used 0.30 of a core each". */
function roleUse(g: { role: string; processes: ProcessResources[]; mean: number; max: number }): string {
  if (g.processes.length === 1) return `the ${g.role} process used ${c2(g.max)} of a core`;
  const lo = Math.min(...g.processes.map((p) => p.mean_cores));
  return `the ${g.processes.length} ${g.role} processes used ${lo === g.max ? c2(g.max) : `${c2(lo)} to ${c2(g.max)}`} of a core each`;
}

/** "while each worker used 0.30" for the other roles. */
function others(all: { role: string; processes: ProcessResources[]; mean: number; max: number }[]): string {
  // Helpers that hardly ran (a compiler service, an idle sidecar) would only lengthen the sentence.
  const gs = all.filter((g) => g.max >= MINOR_CORES);
  if (gs.length === 0) return '';
  return ` while ${gs
    .slice(0, 3)
    .map((g) => (g.processes.length > 1 ? `each ${g.role} used ${c2(g.mean)}` : `the ${g.role} used ${c2(g.max)}`))
    .join(', ')}`;
}

/** What limited a level, or undefined when it has no resource figures. */
export function levelBottleneck(l: MeasuredLevel): Bottleneck | undefined {
  const r = availableResources(l.resources);
  if (!r) return undefined;
  const concurrency = l.concurrency;
  const m = r.machine;
  const gs = roles(r);
  const target = r.target ? `the system under test ${c2(r.target.mean_cores)}` : undefined;
  const generator = r.generator ? `loadbench ${c2(r.generator.mean_cores)}` : undefined;
  // Time the hypervisor gave to other guests is CPU this machine did not have either.
  if (m && m.mean_cpu_pct + m.steal_pct >= MACHINE_BUSY_PCT) {
    const split = [target, generator, `other work ${c2(m.other_cores)}`].filter(Boolean).join(', ');
    const steal = m.steal_pct >= 1 ? `, and ${m.steal_pct.toFixed(0)} % was taken by the hypervisor (steal)` : '';
    return {
      concurrency,
      kind: 'machine',
      text: `the machine's CPU was ${m.mean_cpu_pct.toFixed(0)} % busy (cores used of ${m.cores}: ${split})${steal}: the machine, not the system's design, is the limit`,
    };
  }
  const top = gs[0];
  if (top && top.max >= CPU_BOUND_CORES) {
    const all = top.processes.every((p) => p.mean_cores >= CPU_BOUND_CORES);
    const role = top.processes.length > 1 && all ? `the ${top.role}s are` : `the ${top.role} is`;
    const which = top.processes.length > 1 && !all ? top.processes.find((p) => p.mean_cores === top.max)!.label : undefined;
    const use = which ? `the ${which} process used ${c2(top.max)} of a core` : roleUse(top);
    return {
      concurrency,
      kind: 'process',
      role: top.role,
      text: `${use}${others(gs.slice(1))}: ${which ? `${which} is` : role} the bottleneck${m ? ` (machine ${m.mean_cpu_pct.toFixed(0)} % busy)` : ''}`,
    };
  }
  if (r.generator && r.generator.mean_cores >= CPU_BOUND_CORES) {
    return {
      concurrency,
      kind: 'generator',
      text: `loadbench's load generator used ${c2(r.generator.mean_cores)} of a core${top ? ` while ${roleUse(top)}` : ''}: the client, not the system, is the limit`,
    };
  }
  const busiest = top ? `${roleUse(top)}${others(gs.slice(1))}` : 'no process of the system under test was seen';
  return {
    concurrency,
    kind: 'none',
    text: `${busiest}${m ? `, the machine was ${m.mean_cpu_pct.toFixed(0)} % busy` : ''}: nothing was CPU-bound, so the limit is not CPU (waiting on I/O, locks, a queue, or too few clients)`,
  };
}
