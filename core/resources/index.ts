/**
 * Resource figures of a load test: CPU and memory of every process of the system under test, of
 * loadbench itself and of the machine, sampled from Linux's procfs while levels run.
 * Self-contained: node built-ins only. See README.md beside this file.
 */
export { ResourceSampler, startResourceSampler } from './sampler.ts';
export type { Availability, ResourceSamplerOptions, SamplerDiagnostics } from './sampler.ts';
export { summarizeWindow, resourceTimeline, roleCounts } from './summary.ts';
export type { TimelineOptions } from './summary.ts';
export { deriveRole, processLabel } from './roles.ts';
export type { ProcessRole, LabelSubject } from './roles.ts';
export { resolveCgroup, readCgroup } from './cgroup.ts';
export type { CgroupLocation, CgroupReading, CgroupFiles } from './cgroup.ts';
export { ProcFs } from './proc-fs.ts';
export type { ProcFsOptions, ProcessReading, ConstantSource } from './proc-fs.ts';
export * from './proc-parse.ts';
export type * from './types.ts';
