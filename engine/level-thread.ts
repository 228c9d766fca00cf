/**
 * Entry of a generator thread (`generator_threads` > 1): runs one shard of a level and talks to
 * the main thread by messages. Started by run-level.ts through a small bootstrap that registers
 * tsx first, since worker threads get no TypeScript loader of their own.
 */
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { parentPort, workerData } from 'node:worker_threads';
import { encodeHistogram, initHistograms } from './histogram.ts';
import { LevelShard, type ShardPlan } from './shard.ts';
import type { FromThread, ToThread } from './thread-messages.ts';

const RAW_CREDITS = 2;
const COUNTERS_INTERVAL_MS = 250;
const ELD_RESOLUTION_MS = 10;

async function main(): Promise<void> {
  const port = parentPort!;
  const plan = (workerData as { plan: ShardPlan }).plan;
  const post = (m: FromThread, transfer?: ArrayBuffer[]): void => port.postMessage(m, transfer);
  await initHistograms();

  // Raw chunks go to the main thread, which writes them; at most RAW_CREDITS are unacknowledged.
  let credits = RAW_CREDITS;
  let creditWaiters: (() => void)[] = [];
  const shard = new LevelShard(plan, {
    raw: (chunk) => {
      credits--;
      post({ type: 'raw', chunk }, [chunk.buffer as ArrayBuffer]);
      return credits > 0;
    },
    rawDrain: () => (credits > 0 ? Promise.resolve() : new Promise<void>((resolve) => creditWaiters.push(resolve))),
    second: (report, histogram) => post({ type: 'second', report, histogram: encodeHistogram(histogram) }),
  });
  const eld = monitorEventLoopDelay({ resolution: ELD_RESOLUTION_MS });
  let elu0 = performance.eventLoopUtilization();
  let counters: NodeJS.Timeout | undefined;

  port.on('message', (m: ToThread) => {
    switch (m.type) {
      case 'start':
        eld.enable();
        elu0 = performance.eventLoopUtilization();
        counters = setInterval(() => post({ type: 'counters', counters: shard.counters() }), COUNTERS_INTERVAL_MS);
        shard.start();
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
  eld.disable();
  const result = shard.finish();
  const elu = performance.eventLoopUtilization(elu0);
  post({
    type: 'result',
    result,
    histogram: encodeHistogram(shard.histogram),
    load: {
      utilization: elu.utilization,
      eventLoopDelayP99Ms: eld.count > 0 ? Math.max(0, eld.percentile(99) / 1e6 - ELD_RESOLUTION_MS) : 0,
    },
  });
  shard.dispose();
  port.close();
}

main().catch((error: unknown) => {
  parentPort!.postMessage({ type: 'error', message: (error as Error).stack ?? String(error) } satisfies FromThread);
});
