import { describe, expect, it } from 'vitest';
import { CALIBRATION_LOOP, canonicalJson, machineFingerprint, measureCalibration, workloadHash, workloadIdentity } from '../../../core/gates/fingerprint.ts';
import { machineFingerprintSchema } from '../../../core/model/summary.ts';

const submit = {
  name: 'submit',
  workload: {
    url: 'http://localhost:8080/submit',
    method: 'POST',
    header_names: ['authorization', 'content-type'],
    payload_shape: { challenge_id: 'string' },
    concurrency_levels: [1, 2, 4],
    duration_seconds: 5,
    warmup_seconds: 1,
    timeout_seconds: 10,
    challenge_id: 'demo-challenge',
  },
};
const start = { command: 'node gw.js', ready_url: 'http://127.0.0.1:8080/healthz', timeout_seconds: 30, env: {} };

describe('workloadHash', () => {
  it('has stable reference values: committed baselines hold them, a change of the hashing would make them all unjudged', () => {
    expect(workloadHash(submit, undefined)).toBe('9dfc8ce8027b972a');
    expect(workloadHash(submit, start)).toBe('1f2fbeb23caf53f6');
  });

  it('ignores key order and repetitions, and changes with anything that defines the workload', () => {
    const h = workloadHash(submit, start);
    const reordered = { workload: Object.fromEntries(Object.entries(submit.workload).reverse()) as typeof submit.workload, name: 'submit' };
    expect(workloadHash(reordered, start)).toBe(h);
    expect(workloadHash({ ...submit, workload: { ...submit.workload, repetitions: 3 } }, start)).toBe(h);
    // start.timeout_seconds is how long loadbench waits, not the workload.
    expect(workloadHash(submit, { ...start, timeout_seconds: 99 })).toBe(h);
    for (const changed of [
      { ...submit, name: 'other' },
      { ...submit, workload: { ...submit.workload, duration_seconds: 3 } },
      { ...submit, workload: { ...submit.workload, concurrency_levels: [1, 2] } },
      { ...submit, workload: { ...submit.workload, warmup_seconds: 0 } },
      { ...submit, workload: { ...submit.workload, url: 'http://localhost:8080/other' } },
      { ...submit, workload: { ...submit.workload, method: 'PUT' } },
      { ...submit, workload: { ...submit.workload, payload_shape: { challenge_id: 'number' } } },
    ]) {
      expect(workloadHash(changed, start)).not.toBe(h);
    }
    expect(workloadHash(submit, { ...start, command: 'node gw.js --difficulty 12' })).not.toBe(h);
    expect(workloadHash(submit, { ...start, env: { WORKERS: '4' } })).not.toBe(h);
    // A scaling sweep's replica variable is not part of the workload: the sweep sets it per count,
    // a single run (WORKERS=4 npx vitest bench) from the shell.
    expect(workloadHash(submit, { ...start, env: { WORKERS: '4' } }, 'WORKERS')).toBe(h);
    expect(workloadHash(submit, { ...start, env: { WORKERS: '4', DIFFICULTY: '12' } }, 'WORKERS')).not.toBe(h);
    expect(workloadIdentity(submit, undefined)).toMatchObject({ scenario: 'submit', target_start: null });
  });

  it('hashes canonical JSON: sorted keys at every depth, undefined left out', () => {
    expect(canonicalJson({ b: 1, a: [{ d: 2, c: undefined }] })).toBe('{"a":[{"d":2}],"b":1}');
  });
});

describe('machineFingerprint', () => {
  it('describes this machine and times the calibration loop', () => {
    const c = measureCalibration(3, 5_000);
    expect(c.runs_ms).toHaveLength(3);
    expect(c.ms).toBeGreaterThan(0);
    // The score is the median of the runs.
    expect(c.ms).toBe([...c.runs_ms].sort((a, b) => a - b)[1]);
    expect(c.loop).toBe('sha256 chain of 32 bytes x 5000, median of 3');
    const m = machineFingerprint(c);
    expect(machineFingerprintSchema.parse(m)).toEqual(m);
    expect(m.logical_cpus).toBeGreaterThan(0);
    expect(m.node).toBe(process.version);
    expect(CALIBRATION_LOOP).toBe('sha256 chain of 32 bytes x 100000, median of 5');
  });

  it('takes longer for more hashes (the loop is not optimised away)', () => {
    const small = measureCalibration(3, 2_000).ms;
    const large = measureCalibration(3, 40_000).ms;
    expect(large).toBeGreaterThan(small * 4);
  });
});
