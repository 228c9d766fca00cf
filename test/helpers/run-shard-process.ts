/**
 * A loadbench process of a distributed run, for tests (issue 15): runs `runSweep()` with the
 * config object in LOADBENCH_TEST_CONFIG (JSON) and one scenario, in the project folder
 * LOADBENCH_TEST_ROOT (default: the current directory); LOADBENCH_SHARD and
 * LOADBENCH_START_AT come from its environment like in a pod. Prints the run's lines and exits
 * with the run's exit code (2 and the message for a ConfigError).
 *   node --import tsx test/helpers/run-shard-process.ts
 */
import { runSweep } from '../../api/run-sweep.ts';
import { LoadbenchError } from '../../core/errors.ts';

const config = JSON.parse(process.env.LOADBENCH_TEST_CONFIG ?? '{}') as Record<string, unknown>;
try {
  const summary = await runSweep({ config, root: process.env.LOADBENCH_TEST_ROOT || process.cwd(), scenarios: [{ name: process.env.LOADBENCH_TEST_SCENARIO ?? 'fixed' }], log: (line) => console.log(line) });
  process.exitCode = summary.outcome?.exit_code ?? 1;
} catch (error) {
  if (!(error instanceof LoadbenchError)) throw error;
  console.error(error.message);
  process.exitCode = error.exitCode;
}
