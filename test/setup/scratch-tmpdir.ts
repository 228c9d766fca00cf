/**
 * Vitest globalSetup for `npm test`: every temporary folder the tests create (fixture projects,
 * configs, CSVs) goes under one scratch folder that is removed when the run ends, so repeated
 * test runs do not fill the machine's /tmp. `os.tmpdir()` reads TMPDIR, which the test workers
 * inherit because they start after this setup.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export default function setup(): () => void {
  const previous = process.env.TMPDIR;
  const scratch = mkdtempSync(join(tmpdir(), 'loadbench-tests-'));
  process.env.TMPDIR = scratch;
  return () => {
    if (previous === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = previous;
    // KEEP_TEST_TMP=1 keeps the fixture projects for debugging a failure.
    if (process.env.KEEP_TEST_TMP === '1') console.log(`test files kept in ${scratch}`);
    else rmSync(scratch, { recursive: true, force: true });
  };
}
