import { tmpdir } from 'node:os';
import { basename } from 'node:path';
import { describe, expect, it } from 'vitest';

describe('test scratch folder', () => {
  it('points os.tmpdir() of the test workers at the run-scoped folder that the global setup removes', () => {
    expect(basename(tmpdir())).toMatch(/^loadbench-tests-/);
  });
});
