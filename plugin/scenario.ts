import { relative } from 'node:path';
import { bench, describe, inject } from 'vitest';
import { z } from 'zod';
import { ConfigError, formatIssues, loadConfig } from './config/load-config.ts';
import {
  baselineTolerancesSchema,
  durationSeconds,
  headersSchema,
  tokenSchema,
  requestTimeoutSeconds,
  sloSchema,
  warmupSeconds,
  workloadSchema,
  type LoadbenchConfig,
} from './config/schema.ts';
import { buildHeaders, payloadShape, redactSecrets, redactUrl, renderPayload, secretValues } from './request-builder.ts';
import { ERROR_SAMPLE_LENGTH, MAX_ERROR_SAMPLE_SOURCE_LENGTH } from './engine/level-shard.ts';
import { RawCsvWriter } from './engine/raw-csv-writer.ts';
import { generatorThreadsProblem, runLevel, type CheckResponse, type LevelPlan, type PayloadContext } from './engine/run-level.ts';
import { rawCsvPath } from './output-paths.ts';
import { interruptSignal } from './interrupt.ts';
import { evaluateSlo } from './slo.ts';
import { emptyErrorCounts } from './stats.ts';
import type { LevelMeta, LevelSummary, ProgressEvent, ScenarioSummary, SloSpec } from './types.ts';
import { RUN_ONCE, captureLastTask } from './vitest-internals.ts';
import type { Dispatcher } from 'undici';
import { connectProgress, type ProgressMessage } from '../reporters/progress/progress-channel.ts';

/** What the plugin hands to bench files through Vitest's `provide`/`inject`. */
export interface ProvidedLoadbench {
  config: LoadbenchConfig;
  configPath: string;
  root: string;
  /** Unix socket of the reporter's live progress display, when there is one. */
  progressSocket?: string;
}

declare module 'vitest' {
  interface ProvidedContext {
    loadbench: ProvidedLoadbench;
  }
}

/** Options of {@link scenario}; each one overrides the same key of config.yaml. */
export interface ScenarioOptions {
  url?: string;
  method?: string;
  token?: string;
  headers?: Record<string, string>;
  challenge_id?: string;
  /** A JSON body, or a function of the request context returning one (an object, or a string sent as is). */
  payload?: unknown | ((ctx: PayloadContext) => unknown);
  concurrency_levels?: number[];
  duration_seconds?: number;
  requests_per_level?: number;
  warmup_seconds?: number;
  timeout_seconds?: number;
  max_body_bytes?: number;
  raw_csv?: boolean;
  /** Run each level this many times; the baseline gate judges the median (default 1). */
  repetitions?: number;
  /** Worker threads sharing each level's connections: 1 (default), N or "auto"; N > 1 needs a static payload and no check. */
  generator_threads?: number | 'auto';
  /** Baseline tolerances for this scenario (over config.yaml `baseline:`, whose `file` applies), or `false` to leave it out of the gate. */
  baseline?: false | Partial<z.input<typeof baselineTolerancesSchema>>;
  /** SLO thresholds for this scenario (merged over config.yaml `slo`), or `false` to judge nothing. */
  slo?: SloSpec | false;
  stop_on_slo_failure?: boolean;
  /** A request succeeds when its status is 2xx and this returns anything but `false` (throwing fails it too). */
  check?: (response: CheckResponse) => boolean | void;
}

const fn = z.custom<(...args: never[]) => unknown>((v) => typeof v === 'function', { message: 'expected a function' });

const optionsSchema = z.strictObject({
  url: z.string().optional(),
  method: z.string().optional(),
  token: tokenSchema.optional(),
  headers: headersSchema.optional(),
  challenge_id: z.string().optional(),
  payload: z.unknown().optional(),
  concurrency_levels: workloadSchema.shape.concurrency_levels.optional(),
  duration_seconds: durationSeconds.optional(),
  requests_per_level: z.number().int().positive().optional(),
  warmup_seconds: warmupSeconds.optional(),
  timeout_seconds: requestTimeoutSeconds.optional(),
  max_body_bytes: z.number().int().positive().optional(),
  raw_csv: z.boolean().optional(),
  repetitions: z.number().int().min(1).max(20).optional(),
  generator_threads: workloadSchema.shape.generator_threads.unwrap().optional(),
  baseline: z.union([z.literal(false), baselineTolerancesSchema.partial()]).optional(),
  slo: z.union([z.literal(false), sloSchema.unwrap()]).optional(),
  stop_on_slo_failure: z.boolean().optional(),
  check: fn.optional(),
});

/** Reads the config the plugin provided, or loads config.yaml when the plugin is not in use. */
function providedConfig(): ProvidedLoadbench {
  let provided: ProvidedLoadbench | undefined;
  try {
    provided = inject('loadbench');
  } catch {
    provided = undefined;
  }
  if (provided) return provided;
  const loaded = loadConfig();
  return { config: loaded.config, configPath: loaded.path, root: process.cwd() };
}

/** The scenario's settings after merging its options over config.yaml. Exported for tests. */
export interface ResolvedScenario {
  name: string;
  url: URL;
  method: Dispatcher.HttpMethod;
  headers: Record<string, string>;
  challengeId: string;
  body: LevelPlan['body'];
  payloadShape: unknown;
  levels: number[];
  durationSeconds?: number;
  requestsPerLevel?: number;
  warmupSeconds: number;
  timeoutSeconds: number;
  maxBodyBytes: number;
  rawCsv: boolean;
  repetitions: number;
  generatorThreads: number | 'auto';
  baselineOverride?: false | Partial<z.output<typeof baselineTolerancesSchema>>;
  slo: SloSpec;
  stopOnSloFailure: boolean;
  check?: ScenarioOptions['check'];
  headerNames: string[];
  /** Values never to be written anywhere (token, credential headers). */
  secrets: string[];
}

/**
 * Merges scenario options over the config. Validates the options at this edge.
 * @throws ConfigError naming the scenario and each bad option
 */
export function resolveScenario(name: string, options: ScenarioOptions, config: LoadbenchConfig): ResolvedScenario {
  const where = `scenario "${name}"`;
  if (!name || typeof name !== 'string') throw new ConfigError('scenario()', ['name: expected a non-empty string']);
  const parsed = optionsSchema.safeParse(options);
  if (!parsed.success) throw new ConfigError(where, formatIssues(parsed.error.issues, options, undefined, optionsSchema));
  const o = parsed.data;
  const problems: string[] = [];

  let url: URL | undefined;
  const rawUrl = o.url ?? config.target.url;
  try {
    url = new URL(rawUrl);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('protocol');
  } catch {
    problems.push(`url: found ${JSON.stringify(rawUrl)}, expected an absolute http:// URL`);
  }
  const method = (o.method ?? config.target.method).toUpperCase();
  if (!['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'].includes(method)) {
    problems.push(`method: found ${JSON.stringify(method)}, expected GET, POST, PUT, PATCH, DELETE, HEAD or OPTIONS`);
  }
  const usesRequests = o.requests_per_level !== undefined;
  const usesDuration = o.duration_seconds !== undefined;
  if (usesRequests && usesDuration) {
    problems.push('duration_seconds and requests_per_level are both set: expected exactly one of them');
  }
  if (problems.length) throw new ConfigError(where, problems);

  const w = config.workload;
  const durationSeconds = usesRequests ? undefined : (o.duration_seconds ?? w.duration_seconds);
  const requestsPerLevel = usesDuration ? undefined : (o.requests_per_level ?? w.requests_per_level);
  const challengeId = o.challenge_id ?? w.challenge_id;
  const payload = o.payload !== undefined ? o.payload : w.payload;
  const headers = buildHeaders({
    token: o.token ?? config.target.token,
    headers: { ...config.target.headers, ...o.headers },
    hasBody: payload !== undefined && method !== 'GET' && method !== 'HEAD',
  });
  const slo: SloSpec = o.slo === false ? {} : { ...config.slo, ...o.slo };
  const generatorThreads = o.generator_threads ?? w.generator_threads;
  const payloadIsFunction = typeof payload === 'function' && method !== 'GET' && method !== 'HEAD';
  const threadsProblem = generatorThreadsProblem(generatorThreads, payloadIsFunction, o.check !== undefined);
  if (threadsProblem) throw new ConfigError(where, [threadsProblem]);
  return {
    name,
    url: url!,
    method: method as Dispatcher.HttpMethod,
    headers,
    challengeId,
    body: method === 'GET' || method === 'HEAD' ? undefined : renderPayload(payload, challengeId),
    payloadShape: payloadShape(payload),
    levels: o.concurrency_levels ?? w.concurrency_levels,
    durationSeconds,
    requestsPerLevel,
    warmupSeconds: o.warmup_seconds ?? w.warmup_seconds,
    timeoutSeconds: o.timeout_seconds ?? w.timeout_seconds,
    maxBodyBytes: o.max_body_bytes ?? w.max_body_bytes,
    rawCsv: o.raw_csv ?? w.raw_csv,
    repetitions: o.repetitions ?? w.repetitions,
    generatorThreads,
    baselineOverride: o.baseline,
    slo,
    stopOnSloFailure: o.stop_on_slo_failure ?? config.stop_on_slo_failure,
    check: o.check as ScenarioOptions['check'],
    headerNames: Object.keys(headers),
    secrets: secretValues(o.token ?? config.target.token, headers),
  };
}

/**
 * Error samples as the results keep them: the secrets redacted in the engine's long text, and
 * only then cut to {@link ERROR_SAMPLE_LENGTH} characters (a secret cut first would no longer
 * match, and its prefix would be written); samples that now read the same are dropped. Pure;
 * exported for tests.
 */
export function redactErrorSamples(samples: LevelSummary['error_samples'], secrets: readonly string[]): LevelSummary['error_samples'] {
  const seen = new Set<string>();
  const out: LevelSummary['error_samples'] = [];
  for (const { category, message } of samples) {
    let text = redactSecrets(message, secrets);
    // The engine cut this text: a secret that starts before its cut ends past it.
    if (message.length >= MAX_ERROR_SAMPLE_SOURCE_LENGTH) text = dropCutSecret(text, secrets);
    text = text.slice(0, ERROR_SAMPLE_LENGTH);
    const key = `${category}\n${text}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push({ category, message: text });
  }
  return out;
}

/** `text` without the longest start of a secret it ends with (what is left of a secret cut off). */
function dropCutSecret(text: string, secrets: readonly string[]): string {
  let cut = 0;
  for (const secret of secrets) {
    for (let k = Math.min(secret.length - 1, text.length); k > cut; k--) {
      if (text.endsWith(secret.slice(0, k))) {
        cut = k;
        break;
      }
    }
  }
  return cut > 0 ? text.slice(0, -cut) : text;
}

function skippedLevel(scenario: string, concurrency: number): LevelSummary {
  return {
    scenario,
    concurrency,
    requests: 0,
    successes: 0,
    failures: 0,
    error_rate_pct: 0,
    throughput_rps: 0,
    latency_ms: { min: 0, mean: 0, stddev: 0, p50: 0, p90: 0, p95: 0, p99: 0, p999: 0, max: 0 },
    duration_s: 0,
    started_at_ms: Date.now(),
    warmup_requests: 0,
    errors: emptyErrorCounts(),
    error_samples: [],
    status_codes: {},
    histogram: '',
    timeline: [],
    slo: { judged: false, pass: true, checks: [] },
    generator: { cpu_pct: 0, event_loop_delay_p99_ms: 0, client_bound: false },
    partial: false,
    skipped: true,
  };
}

let progressSender: ((m: ProgressMessage) => void) | undefined;

/** Sends progress to the reporter's live display (one connection per bench process). */
function sendProgress(provided: ProvidedLoadbench, message: ProgressMessage): void {
  if (!provided.progressSocket) return;
  progressSender ??= connectProgress(provided.progressSocket);
  progressSender(message);
}

/**
 * Declares a load scenario: one Vitest bench task per concurrency level, run in order.
 * Every option overrides the same key of config.yaml. A level that breaks the SLO fails its
 * task, so `vitest bench` exits non-zero and names scenario, level, metric, value and limit.
 */
export function scenario(name: string, options: ScenarioOptions = {}): void {
  const provided = providedConfig();
  const { config, root } = provided;
  const s = resolveScenario(name, options, config);
  const rawPath = rawCsvPath(root, config.output_dir, config.run_label);
  const state: { stopped: boolean; raw?: RawCsvWriter } = { stopped: false };

  const runs = s.levels.flatMap((concurrency) =>
    Array.from({ length: s.repetitions }, (_, r) => ({ concurrency, repetition: s.repetitions > 1 ? r + 1 : undefined })),
  );
  describe(name, () => {
    runs.forEach(({ concurrency, repetition }, index) => {
      const isLast = index === runs.length - 1;
      bench(
        repetition ? `concurrency ${concurrency} (rep ${repetition}/${s.repetitions})` : `concurrency ${concurrency}`,
        async () => {
          const file = handle.file();
          const meta = (level: LevelSummary): LevelMeta => ({
            scenario: { ...snapshot, file: file ? relative(root, file) : '' },
            level: repetition ? { ...level, repetition } : level,
          });
          try {
            if (state.stopped || interruptSignal().aborted) {
              handle.setMeta(meta(skippedLevel(name, concurrency)));
              return;
            }
            if (s.rawCsv) state.raw ??= new RawCsvWriter(rawPath);
            const measured = await runLevel({
              scenario: name,
              concurrency,
              url: s.url,
              method: s.method,
              headers: s.headers,
              body: s.body,
              challengeId: s.challengeId,
              durationSeconds: s.durationSeconds,
              requestsPerLevel: s.requestsPerLevel,
              warmupSeconds: s.warmupSeconds,
              timeoutSeconds: s.timeoutSeconds,
              maxBodyBytes: s.maxBodyBytes,
              check: s.check,
              threads: s.generatorThreads,
              raw: state.raw,
              signal: interruptSignal(),
              onProgress: (event: ProgressEvent) => sendProgress(provided, { type: 'progress', event }),
            });
            sendProgress(provided, { type: 'level-end' });
            // Error texts can echo what the target saw (a check that throws with the body, for one).
            measured.error_samples = redactErrorSamples(measured.error_samples, s.secrets);
            const slo = evaluateSlo(measured, s.slo);
            handle.setMeta(meta({ ...measured, slo, skipped: false }));
            // The verdict travels in the meta; the reporter prints it and sets the exit code.
            // (Throwing here would fail the suite too, but Vitest reports only the first such error.)
            if (!slo.pass && s.stopOnSloFailure) state.stopped = true;
          } finally {
            if (isLast || state.stopped) {
              await state.raw?.close();
              state.raw = undefined;
            }
          }
        },
        RUN_ONCE,
      );
      const handle = captureLastTask();
    });
  });

  const snapshot: Omit<ScenarioSummary, 'levels'> = {
    name,
    file: '',
    workload: {
      url: redactUrl(s.url),
      method: s.method,
      header_names: s.headerNames,
      payload_shape: s.payloadShape,
      concurrency_levels: s.levels,
      ...(s.durationSeconds !== undefined ? { duration_seconds: s.durationSeconds } : {}),
      ...(s.requestsPerLevel !== undefined ? { requests_per_level: s.requestsPerLevel } : {}),
      warmup_seconds: s.warmupSeconds,
      timeout_seconds: s.timeoutSeconds,
      challenge_id: s.challengeId,
    },
    slo: s.slo,
    ...(s.baselineOverride !== undefined ? { baseline_override: s.baselineOverride } : {}),
  };
}
