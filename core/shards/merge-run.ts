/**
 * `loadbench merge` (issue 15), the run: reads the run shard summaries named on the command line
 * (files, or folders holding `*.shard-<i>-of-<n>_summary.json`), checks and merges them
 * (merge-shards.ts), and then acts as a single-generator run of the merged levels through the
 * usual orchestrator: SLOs and the baseline judged, every output written, the exit status.
 * Nothing is written unless every check passed.
 */
import { createReadStream, createWriteStream, existsSync, readdirSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { loadConfig, validateConfig } from '../config/load-config.ts';
import type { LoadbenchConfig } from '../config/schema.ts';
import { ShardMergeError } from '../errors.ts';
import { outputFile, type RunOutputs } from '../model/outputs.ts';
import { readRunSummary } from '../model/read-summary.ts';
import { Sweep, type SweepResult } from '../run/sweep.ts';
import { mergeShardSummaries, type ShardInput } from './merge-shards.ts';
import { RUN_SHARD_ENV } from './run-shard.ts';

/** A shard summary's file name: `<run_label>.shard-<i>-of-<n>_summary.json`. */
export const SHARD_SUMMARY_FILE = /\.shard-(\d+)-of-(\d+)_summary\.json$/;

/** Inputs of {@link mergeRun}. */
export interface MergeRunOptions {
  /** Files or folders, relative to `root`. */
  paths: string[];
  root: string;
  env: NodeJS.ProcessEnv;
  /** The merged run's label (default: the shards' run label). */
  runLabel?: string;
  /** config.yaml for the baseline, output_dir and report settings (default: LOADBENCH_CONFIG or config.yaml when it exists). */
  configPath?: string;
  /** Folder of the merged outputs (default: the config's output_dir, else runs). */
  outputDir?: string;
  makeOutputs: (config: LoadbenchConfig, root: string) => RunOutputs;
  log: (line: string) => void;
}

/** The shard summary files a path names: the file itself, or a folder's `*.shard-<i>-of-<n>_summary.json`. @throws ShardMergeError */
export function shardSummaryFiles(paths: readonly string[], root: string): string[] {
  const files: string[] = [];
  for (const p of paths) {
    const abs = resolve(root, p);
    if (!existsSync(abs)) throw new ShardMergeError(`${p}: no such file or folder`);
    if (statSync(abs).isDirectory()) {
      const found = readdirSync(abs).filter((f) => SHARD_SUMMARY_FILE.test(f)).sort();
      if (found.length === 0) throw new ShardMergeError(`${p}: no run shard summary (<run_label>.shard-<i>-of-<n>_summary.json) in this folder`);
      files.push(...found.map((f) => join(abs, f)));
    } else files.push(abs);
  }
  return [...new Set(files)];
}

/**
 * Checks, merges and writes a merged run. Resolves to the result of the merged run (its exit
 * code: 0 pass, 1 a broken SLO or baseline).
 * @throws ShardMergeError (exit 2) when the shards do not belong together; nothing is written
 * @throws SummaryFileError (exit 2) for an unreadable summary; ConfigError for a bad config.yaml
 */
export async function mergeRun(o: MergeRunOptions): Promise<SweepResult> {
  const files = shardSummaryFiles(o.paths, o.root);
  const inputs: ShardInput[] = [];
  for (const file of files) inputs.push({ file: relative(o.root, file) || file, summary: await readRunSummary(file) });
  // Every check before anything is written.
  const merged = mergeShardSummaries(inputs);
  // The config is read as a single-generator run's: without the shard variables of the environment.
  const env = Object.fromEntries(Object.entries(o.env).filter(([k]) => !(RUN_SHARD_ENV as readonly string[]).includes(k)));
  const defaultConfig = resolve(o.root, o.configPath || env.LOADBENCH_CONFIG || 'config.yaml');
  const loaded = o.configPath || existsSync(defaultConfig) ? loadConfig(o.configPath, o.root, env).config : undefined;
  const first = inputs[0]!.summary.scenarios[0];
  const base: LoadbenchConfig =
    loaded ??
    validateConfig(
      {
        target: { url: first?.workload.url.includes('://') ? first.workload.url : 'http://localhost/', method: first?.workload.method ?? 'GET' },
        workload: { concurrency_levels: [1], duration_seconds: 1 },
      },
      'merge',
      env,
    );
  const runLabel = o.runLabel ?? merged.runLabel;
  const config: LoadbenchConfig = {
    ...base,
    run_label: runLabel,
    output_dir: o.outputDir ?? base.output_dir,
    report: loaded ? base.report : merged.report,
    // A merged run starts nothing: its load was sent by the shards.
    target: { ...base.target, start: undefined },
  };
  // The raw rows of the shards, before anything moves: they are the merged run's raw CSV.
  const raws = files.map((f) => f.replace(/_summary\.json$/, '_raw.csv')).filter((f) => existsSync(f));
  const sweep = new Sweep({ config, root: o.root, outputs: o.makeOutputs(config, o.root), log: o.log, merged: merged.mergedFrom, period: { startedAt: merged.startedAt, finishedAt: merged.finishedAt }, ...(merged.machine ? { machine: merged.machine } : {}) });
  o.log(`loadbench merge: ${merged.mergedFrom.shards} run shards of "${merged.runLabel}" (config ${merged.mergedFrom.config_hash}), ${merged.records.length} level(s); largest level start skew ${merged.mergedFrom.max_start_skew_ms} ms, largest lateness ${merged.mergedFrom.max_late_ms} ms`);
  for (const { level } of merged.records) {
    if (level.status === 'skipped' || !level.shard_merge) continue;
    const m = level.shard_merge;
    const at = level.target_rate_rps !== undefined ? `rate ${level.target_rate_rps} req/s` : `concurrency ${level.concurrency}`;
    const split = level.open_loop ? `interleaved arrivals, requests ${m.shards.map((s) => s.requests).join(' + ')}` : `connections ${m.shards.map((s) => s.connections).join(' + ')}`;
    o.log(`loadbench merge: scenario "${level.scenario}" at ${at}${level.repetition ? ` (repetition ${level.repetition})` : ''}: ${m.generators} generator(s), ${split}, start skew ${m.start_skew_ms} ms`);
  }
  await sweep.start({ target: false });
  if (raws.length) await concatenateRaw(raws, outputFile(o.root, config.output_dir, runLabel, 'raw'));
  for (const record of merged.records) sweep.record(record);
  return sweep.finish();
}

/** Writes the shards' raw CSVs one after the other into `to`, the header once. */
async function concatenateRaw(from: readonly string[], to: string): Promise<void> {
  const out = createWriteStream(to);
  try {
    for (const [i, file] of from.entries()) {
      let skipHeader = i > 0;
      const input = createReadStream(file, { encoding: 'utf8' });
      await pipeline(
        input,
        async function* (source: AsyncIterable<string>) {
          for await (const chunk of source) {
            if (!skipHeader) {
              yield chunk;
              continue;
            }
            const nl = chunk.indexOf('\n');
            if (nl < 0) continue;
            skipHeader = false;
            yield chunk.slice(nl + 1);
          }
        },
        out,
        { end: false },
      );
    }
  } finally {
    await new Promise<void>((resolveEnd, reject) => out.end((error?: Error | null) => (error ? reject(error) : resolveEnd())));
  }
}
