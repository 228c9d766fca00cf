import type { TestProject } from 'vitest/node';
import { TargetError, hostPort, isListening, startTarget, type RunningTarget } from './target/target-process.ts';

/**
 * Vitest global setup of `vitest bench`: runs once in the main process before the first bench
 * file and tears down after the last. Starts the system under test when config.yaml has
 * `target.start`, otherwise checks that something answers at `target.url`.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  try {
    return await prepareTarget(project);
  } catch (error) {
    if (!(error instanceof TargetError)) throw error;
    // A target problem is the user's to fix, not a crash: one clear message, no stack, no load sent.
    process.stderr.write(`loadbench: ${error.message}\n`);
    process.exit(error.exitCode);
  }
}

async function prepareTarget(project: TestProject): Promise<() => Promise<void>> {
  const provided = project.getProvidedContext().loadbench;
  if (!provided) return async () => undefined;
  const { config, root } = provided;
  let target: RunningTarget | undefined;
  if (config.target.start) {
    process.stdout.write(`loadbench: starting the target: ${config.target.start.command}\n`);
    target = await startTarget(config.target.start, config.target.url, root);
    process.stdout.write(`loadbench: target ready (${config.target.start.ready_url}, pid ${target.pid})\n`);
  } else {
    const { host, port } = hostPort(config.target.url);
    if (!(await isListening(host, port, 2000))) {
      throw new TargetError(
        `nothing answers at ${host}:${port} (target.url ${config.target.url}): start your system first, ` +
          `set target.url / LOADBENCH_TARGET_URL, or add target.start to config.yaml`,
      );
    }
  }
  return async () => {
    await target?.stop();
  };
}
