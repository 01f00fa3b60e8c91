import { map } from 'rxjs';
import { app, pipeline } from '../src/core/pipeline.js';
import type { Sink } from '../src/core/sink.js';
import { sleep } from '../src/core/time.js';
import { silentLogger } from '../src/observe/log.js';
import { createClients, destroyClients } from '../src/runtime/clients.js';
import { Runner } from '../src/runtime/runner.js';
import { memorySource } from '../src/testing/memory-source.js';
import { AckWatch } from './lib/ack-watch.js';
import { fresh } from './lib/emulators.js';

/**
 * One case of the memory benchmark, in a process of its own so that its RSS is its own: a backlog
 * of BENCH_MEMORY_RECORDS generated records (~200 bytes each) through one pipeline to a slow sink,
 * until all are acknowledged. Prints one JSON line. The lease table is on the DynamoDB endpoint
 * in TRIBUTARY_DYNAMODB_ENDPOINT, started by the parent. Run with --expose-gc.
 */
const records = Number(process.env.BENCH_MEMORY_RECORDS);
const batchSize = Number(process.env.BENCH_MEMORY_BATCH ?? 100);
const sinkDelayMs = Number(process.env.BENCH_MEMORY_SINK_MS ?? 5);

interface Event {
  readonly id: number;
  readonly payload: string;
}

/** Sleeps `sinkDelayMs` per batch, one batch after another: a sink far slower than the source. */
class SlowSink implements Sink<Event> {
  readonly name = 'slow';
  private tail: Promise<void> = Promise.resolve();
  write(): Promise<void> {
    this.tail = this.tail.then(() => sleep(sinkDelayMs));
    return this.tail;
  }
}

let peakRss = process.memoryUsage.rss();
let peakHeap = process.memoryUsage().heapUsed;
const startRss = peakRss;
const sampler = setInterval(() => {
  peakRss = Math.max(peakRss, process.memoryUsage.rss());
  peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed);
}, 50);

// A fresh ~200-byte string per record, built only when the source reaches it.
const event = (i: number): Event => ({ id: i, payload: `event ${i} `.padEnd(190, 'abcdefghijklmnopqrstuvwxyz') });
const source = memorySource<Event>('backlog', [{ shardId: 'shard-0', values: { count: records, at: event } }], {
  batchSize,
});
const clients = createClients({ region: 'us-east-1' });
const watch = new AckWatch(records);
const runner = new Runner(
  app(fresh('bench_memory'), [
    pipeline('slow')
      .from(source)
      .pipe(map((r) => r.value))
      .to(new SlowSink()),
  ]),
  { clients, metrics: watch, log: silentLogger },
);
const t0 = performance.now();
try {
  await runner.start();
  await watch.done;
  // What is still reachable when the last record is acknowledged: garbage aside, this is what
  // the runner holds, and it should not depend on how long the backlog was.
  (globalThis as unknown as { gc: () => void }).gc();
  const liveHeapAtEnd = process.memoryUsage().heapUsed;
  const { error } = await runner.stop();
  clearInterval(sampler);
  peakRss = Math.max(peakRss, process.memoryUsage.rss());
  console.log(
    JSON.stringify({
      records,
      acknowledged: watch.acknowledged,
      startRss,
      peakRss,
      peakHeap,
      liveHeapAtEnd,
      ms: performance.now() - t0,
      error: error ? String(error) : undefined,
    }),
  );
} finally {
  await runner.stop();
  destroyClients(clients);
}
process.exit(0);
