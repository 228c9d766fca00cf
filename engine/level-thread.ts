/**
 * Entry of a generator thread (`generator_threads` > 1): runs one shard of a level and talks to
 * the main thread by messages. Started by thread-shard.ts: directly as `level-thread.js` from
 * built JavaScript, through a bootstrap that registers tsx from the TypeScript sources.
 */
import { performance } from 'node:perf_hooks';
import { parentPort, workerData } from 'node:worker_threads';
import { ThreadLoadMeter } from './generator-load.ts';
import { encodeHistogram, initHistograms } from './histogram.ts';
import { OpenLevelShard } from './open-shard.ts';
import { LevelShard } from './shard.ts';
import type { ShardPlan } from './shard-types.ts';
import type { FromThread, ToThread } from './thread-messages.ts';

const RAW_CREDITS = 2;
const COUNTERS_INTERVAL_MS = 250;

async function main(): Promise<void> {
  const port = parentPort!;
  const plan = (workerData as { plan: ShardPlan }).plan;
  const post = (m: FromThread, transfer?: ArrayBuffer[]): void => port.postMessage(m, transfer);
  await initHistograms();

  // Raw chunks go to the main thread, which writes them; at most RAW_CREDITS are unacknowledged.
  let credits = RAW_CREDITS;
  let creditWaiters: (() => void)[] = [];
  const Shard = plan.open ? OpenLevelShard : LevelShard;
  const shard = new Shard(plan, {
    raw: (chunk) => {
      credits--;
      post({ type: 'raw', chunk }, [chunk.buffer as ArrayBuffer]);
      return credits > 0;
    },
    rawDrain: () => (credits > 0 ? Promise.resolve() : new Promise<void>((resolve) => creditWaiters.push(resolve))),
    second: (report, histogram) => post({ type: 'second', report, histogram: encodeHistogram(histogram) }),
  });
  const load = new ThreadLoadMeter();
  let counters: NodeJS.Timeout | undefined;

  port.on('message', (m: ToThread) => {
    switch (m.type) {
      case 'start':
        load.start();
        counters = setInterval(() => post({ type: 'counters', counters: shard.counters() }), COUNTERS_INTERVAL_MS);
        // An open schedule's t0, on this thread's clock: every thread follows the same schedule.
        shard.start(m.epochMs - performance.timeOrigin);
        break;
      case 'measure':
        // The main thread's measure start, on this thread's clock: every shard counts the same window.
        shard.beginMeasure(m.epochMs - performance.timeOrigin);
        break;
      case 'stop':
        shard.stop();
        break;
      case 'raw-ack': {
        credits++;
        const waiters = creditWaiters;
        creditWaiters = [];
        for (const w of waiters) w();
        break;
      }
    }
  });
  post({ type: 'ready' });

  await shard.idle;
  clearInterval(counters);
  load.stopEventLoop();
  const result = shard.finish();
  post({ type: 'result', result, histogram: encodeHistogram(shard.histogram), load: load.result() });
  shard.dispose();
  port.close();
}

main().catch((error: unknown) => {
  parentPort!.postMessage({ type: 'error', message: (error as Error).stack ?? String(error) } satisfies FromThread);
});
