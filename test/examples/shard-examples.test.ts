/**
 * The shipped engines of a distributed run (issue 15): the Kubernetes Indexed Job and merge Job,
 * the bench image's Dockerfile and the GitHub Actions matrix workflow. They cannot run here (no
 * container runtime, no cluster, no GitHub): their structure and environment wiring are checked,
 * each pod's or matrix job's environment fed to the same parser loadbench uses.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import { describe, expect, it } from 'vitest';
import { runShardFromEnv } from '../../core/shards/run-shard.ts';
import { REPO_ROOT } from '../helpers/fixture-project.ts';

const read = (path: string): string => readFileSync(join(REPO_ROOT, path), 'utf8');
type Env = { name: string; value?: string; valueFrom?: unknown }[];

describe('examples/kubernetes', () => {
  const START_AT = '2026-12-02T16:00:00Z';
  // As the README creates the Job: envsubst '$START_AT'.
  const docs = parseAllDocuments(read('examples/kubernetes/indexed-job.yaml').replaceAll('${START_AT}', START_AT)).map((d) => d.toJS());
  const job = docs.find((d) => d.kind === 'Job');
  const pvc = docs.find((d) => d.kind === 'PersistentVolumeClaim');
  const container = job.spec.template.spec.containers[0];
  const env = Object.fromEntries((container.env as Env).filter((e) => e.value !== undefined).map((e) => [e.name, e.value!]));

  it('is an Indexed Job with completions = parallelism = LOADBENCH_SHARDS, and one start time', () => {
    expect(job.apiVersion).toBe('batch/v1');
    expect(job.spec.completionMode).toBe('Indexed');
    expect(job.spec.completions).toBe(job.spec.parallelism);
    expect(env.LOADBENCH_SHARDS).toBe(String(job.spec.completions));
    expect(env.LOADBENCH_START_AT).toBe(START_AT);
    expect(job.spec.template.spec.restartPolicy).toBe('Never');
    expect(container.command).toEqual(['npx', 'vitest', 'bench']);
    expect((container.env as Env).find((e) => e.name === 'LOADBENCH_TOKEN')?.valueFrom).toEqual({ secretKeyRef: { name: 'loadbench', key: 'token' } });
  });

  it('makes each pod a different shard: JOB_COMPLETION_INDEX 0..n-1 is shard 1..n of n, with the shared start', () => {
    const n = job.spec.completions as number;
    const shards = Array.from({ length: n }, (_, i) => runShardFromEnv({ ...env, JOB_COMPLETION_INDEX: String(i) }, 'x'));
    expect(shards.map((s) => `${s?.index}/${s?.count}`)).toEqual(Array.from({ length: n }, (_, i) => `${i + 1}/${n}`));
    expect(new Set(shards.map((s) => s?.startAtMs))).toEqual(new Set([Date.parse(START_AT)]));
  });

  it('writes to a shared volume at the image\'s runs/, which the merge Job reads', () => {
    const merge = parse(read('examples/kubernetes/merge-job.yaml'));
    const workdir = /^WORKDIR (\S+)$/m.exec(read('examples/kubernetes/Dockerfile'))![1];
    expect(read('examples/kubernetes/Dockerfile')).toMatch(/^RUN npm ci$/m);
    expect(pvc.spec.accessModes).toEqual(['ReadWriteMany']);
    for (const j of [job, merge]) {
      const volume = j.spec.template.spec.volumes[0];
      expect(volume.persistentVolumeClaim.claimName).toBe(pvc.metadata.name);
      expect(j.spec.template.spec.containers[0].volumeMounts).toEqual([{ name: volume.name, mountPath: `${workdir}/runs` }]);
    }
    expect(merge.spec.template.spec.containers[0].command).toEqual(['npx', 'loadbench', 'merge', 'runs', '--run-label', env.LOADBENCH_RUN_LABEL]);
  });
});

describe('examples/github-actions/sharded-load-test.yml', () => {
  const wf = parse(read('examples/github-actions/sharded-load-test.yml'));
  const shard = wf.jobs.shard;
  const run = shard.steps.find((s: { run?: string }) => s.run === 'npx vitest bench');
  const upload = shard.steps.find((s: { uses?: string }) => s.uses?.startsWith('actions/upload-artifact'));

  it('runs a matrix of n shards, each LOADBENCH_SHARD=<i>/<n> with the start time of the first job', () => {
    const matrix = shard.strategy.matrix.shard as number[];
    expect(matrix).toEqual([1, 2, 3]);
    expect(shard.strategy['fail-fast']).toBe(false);
    expect(run.env.LOADBENCH_SHARD).toBe('${{ matrix.shard }}/${{ strategy.job-total }}');
    expect(run.env.LOADBENCH_START_AT).toBe('${{ needs.schedule.outputs.start_at }}');
    expect(shard.needs).toBe('schedule');
    expect(wf.jobs.schedule.outputs.start_at).toBe('${{ steps.start.outputs.start_at }}');
    // What each matrix job's environment gives, once GitHub has filled the expressions in.
    const shards = matrix.map((i) => runShardFromEnv({ LOADBENCH_SHARD: `${i}/${matrix.length}`, LOADBENCH_START_AT: '2026-12-02T16:00:00Z' }, 'x'));
    expect(shards.map((s) => [s?.index, s?.count])).toEqual([[1, 3], [2, 3], [3, 3]]);
  });

  it("uploads each shard's outputs and merges them in a last job that fails on a broken SLO", () => {
    expect(upload.if).toBe('always()');
    expect(upload.with.name).toBe('loadbench-shard-${{ matrix.shard }}');
    expect(upload.with.path).toBe(`runs/${run.env.LOADBENCH_RUN_LABEL}.shard-*`);
    const merge = wf.jobs.merge;
    expect(merge.needs).toBe('shard');
    const download = merge.steps.find((s: { uses?: string }) => s.uses?.startsWith('actions/download-artifact'));
    expect(download.with).toEqual({ pattern: 'loadbench-shard-*', path: 'shards', 'merge-multiple': true });
    expect(merge.steps.map((s: { run?: string }) => s.run).filter(Boolean)).toContain(`npx loadbench merge ${download.with.path} --run-label ${run.env.LOADBENCH_RUN_LABEL}`);
  });
});
