import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { arch, cpus, release, totalmem, type as osType } from 'node:os';
import type { RunSummary } from '../../core/model/summary.ts';
import type { EnvironmentFacts } from './report-model.ts';

/** loadbench's version, from its package.json, found by the package's own name (the same from the sources and from dist/). */
export function loadbenchVersion(): string {
  try {
    return (createRequire(import.meta.url)('loadbench/package.json') as { version?: string }).version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

/** Reads hardware, software and git facts from this machine, where the report asks for `auto`. */
export function readEnvironment(summary: RunSummary, projectRoot: string): EnvironmentFacts {
  const cpu = cpus();
  const hardware =
    summary.report.hardware_env === 'auto'
      ? `${cpu[0]?.model.trim() ?? 'unknown CPU'}, ${cpu.length} logical CPUs, ${(totalmem() / 2 ** 30).toFixed(1)} GiB memory, ${osType()} ${release()} (${arch()}), Node.js ${process.version}`
      : summary.report.hardware_env;
  const software =
    summary.report.software_env === 'auto'
      ? `Node.js ${process.version}, loadbench ${loadbenchVersion()}, ${osType()} ${release()}`
      : summary.report.software_env;
  let gitCommit: string | undefined;
  try {
    gitCommit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], {
      cwd: projectRoot,
      stdio: ['ignore', 'pipe', 'ignore'],
      timeout: 2000,
    })
      .toString()
      .trim();
  } catch {
    gitCommit = undefined;
  }
  return { hardware, software, gitCommit };
}
