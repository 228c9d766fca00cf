/**
 * The main-thread side of a generator thread (`generator_threads` > 1): starts the thread that runs
 * one shard of a level (level-thread.ts), drives it by messages and turns its messages back into a
 * {@link ShardHandle}. Run from built JavaScript, the thread loads the sibling `level-thread.js`
 * directly; run from the TypeScript sources (tests, tsx), a small bootstrap registers tsx in the
 * thread first, since worker threads get no TypeScript loader of their own.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { Histogram } from 'hdr-histogram-js';
import type { ThreadLoad } from './generator-load.ts';
import { decodeHistogramWasm } from './histogram.ts';
import type { SecondReport, ShardCounters, ShardHandle, ShardPlan, ShardResult } from './shard-types.ts';
import type { FromThread, ToThread } from './thread-messages.ts';

/** Where a thread's per-second reports and raw rows go. */
export interface ThreadShardHooks {
  /** One finished second of the thread's measured phase; the histogram is only valid during the call. */
  second(report: SecondReport, histogram: Histogram): void;
  /** Writes a chunk of raw rows; settles when the thread may send the next one (back-pressure). */
  writeRaw?(chunk: Buffer): Promise<void>;
}

/**
 * A shard running in its own generator thread. A thread that fails (an error, an exit before its
 * result) rejects `ready` or `done`, which fails the level.
 */
export function threadShard(plan: ShardPlan, hooks: ThreadShardHooks): ShardHandle {
  const worker = startThread(plan);
  let counters: ShardCounters = { requests: 0, successes: 0, failures: 0, warmupRequests: 0 };
  const post = (m: ToThread): void => worker.postMessage(m);
  let resolveReady!: () => void;
  let resolveDone!: (v: { result: ShardResult; histogram: Histogram; load: ThreadLoad }) => void;
  let fail!: (e: Error) => void;
  const ready = new Promise<void>((resolve) => (resolveReady = resolve));
  const done = new Promise<{ result: ShardResult; histogram: Histogram; load: ThreadLoad }>((resolve) => (resolveDone = resolve));
  const failed = new Promise<never>((_, reject) => (fail = reject));
  // Whichever comes first: a thread that fails fails the level.
  const readyOrFail = Promise.race([ready, failed]);
  const doneOrFail = Promise.race([done, failed]);
  readyOrFail.catch(() => undefined);
  doneOrFail.catch(() => undefined);
  let finished = false;
  worker.on('message', (m: FromThread) => {
    switch (m.type) {
      case 'ready':
        resolveReady();
        break;
      case 'counters':
        counters = m.counters;
        break;
      case 'second': {
        const h = decodeHistogramWasm(m.histogram);
        hooks.second(m.report, h);
        h.destroy();
        break;
      }
      case 'raw': {
        const chunk = Buffer.from(m.chunk.buffer, m.chunk.byteOffset, m.chunk.byteLength);
        void hooks.writeRaw?.(chunk).then(() => {
          if (!finished) post({ type: 'raw-ack' });
        });
        break;
      }
      case 'result':
        finished = true;
        counters = { requests: m.result.requests, successes: m.result.successes, failures: m.result.requests - m.result.successes, warmupRequests: m.result.warmupRequests };
        resolveDone({ result: m.result, histogram: decodeHistogramWasm(m.histogram), load: m.load });
        break;
      case 'error':
        fail(new Error(`generator thread failed: ${m.message}`));
        break;
    }
  });
  worker.on('error', (e) => fail(new Error(`generator thread failed: ${e.message}`)));
  worker.on('exit', (code) => {
    if (!finished) fail(new Error(`generator thread exited (code ${code}) before its result`));
  });
  return {
    ready: readyOrFail,
    start: (epochMs) => post({ type: 'start', epochMs }),
    measure: (epochMs) => post({ type: 'measure', epochMs }),
    stop: () => post({ type: 'stop' }),
    counters: () => counters,
    done: doneOrFail,
    dispose: async () => {
      await worker.terminate();
    },
  };
}

/** Whether this module runs from the TypeScript sources (then so does the thread's entry) rather than built JavaScript. */
const FROM_SOURCES = import.meta.url.endsWith('.ts');

/**
 * The thread's entry: the sibling of this module, `level-thread.ts` beside the sources,
 * `level-thread.js` beside the built JavaScript (tsc rewrites imports, not this URL).
 */
export function threadEntry(): URL {
  return new URL(FROM_SOURCES ? './level-thread.ts' : './level-thread.js', import.meta.url);
}

// Worker threads get no TypeScript loader: the bootstrap registers tsx's, then imports the entry.
const BOOTSTRAP = `
const { workerData, parentPort } = require('node:worker_threads');
import(workerData.tsx)
  .then((api) => api.register(), (error) => {
    throw new Error('cannot load tsx in the generator thread: ' + error.message);
  })
  .then(() => import(workerData.entry))
  .catch((error) => parentPort.postMessage({ type: 'error', message: String((error && error.stack) || error) }));
`;

let tsxApi: string | undefined;

/** URL of tsx's ESM API (`register()`), found through its package exports. */
function tsxApiUrl(): string {
  if (tsxApi) return tsxApi;
  try {
    const require = createRequire(import.meta.url);
    const manifest = require.resolve('tsx/package.json');
    const pkg = JSON.parse(readFileSync(manifest, 'utf8')) as { exports: Record<string, { import?: { default?: string } }> };
    const file = pkg.exports['./esm/api']?.import?.default;
    if (!file) throw new Error('tsx has no ./esm/api export');
    tsxApi = pathToFileURL(join(dirname(manifest), file)).href;
    return tsxApi;
  } catch (error) {
    throw new Error(`generator_threads > 1 from the TypeScript sources needs the tsx package (it loads the engine in worker threads): ${(error as Error).message}`);
  }
}

/** A generator thread running the level-thread entry. No inherited flags: the parent's loaders and profilers are not the thread's business. */
function startThread(plan: ShardPlan): Worker {
  const entry = threadEntry();
  if (!FROM_SOURCES) return new Worker(entry, { workerData: { plan }, execArgv: [] });
  return new Worker(BOOTSTRAP, { eval: true, workerData: { tsx: tsxApiUrl(), entry: entry.href, plan }, execArgv: [] });
}
