import { map } from 'rxjs';
import { app, pipeline } from '../src/core/pipeline.js';
import { silentLogger } from '../src/observe/log.js';
import { createClients } from '../src/runtime/clients.js';
import { Runner } from '../src/runtime/runner.js';
import { tableWriter } from '../src/sinks/table-writer.js';
import { put } from '../src/sinks/table-writes.js';
import { memorySource } from '../src/testing/memory-source.js';
import { AckWatch } from './lib/ack-watch.js';
import { fresh } from './lib/emulators.js';

/**
 * One case of the backpressure benchmark, in a process of its own so that its RSS is its own: a
 * stream holding BENCH_BP_BACKLOG records, written by a producer at BENCH_BP_ARRIVALS records/s
 * that keeps writing while the consumer runs, drained by a Runner into a table of tiny write
 * capacity (BENCH_BP_TABLE, behind the throttling proxy at TRIBUTARY_DYNAMODB_ENDPOINT) for
 * BENCH_BP_SECONDS. Samples RSS, acknowledgements, records behind and iterator age every 250 ms;
 * prints one JSON line.
 */
const backlog = Number(process.env.BENCH_BP_BACKLOG);
const seconds = Number(process.env.BENCH_BP_SECONDS ?? 35);
const arrivalsPerSecond = Number(process.env.BENCH_BP_ARRIVALS ?? 1_000);
const table = process.env.BENCH_BP_TABLE!;
const batchSize = Number(process.env.BENCH_BP_BATCH ?? 100);

export interface Sample {
  /** Seconds since the runner started. */
  readonly t: number;
  readonly rss: number;
  readonly heapUsed: number;
  readonly acknowledged: number;
  /** Records in the stream not yet acknowledged: written so far less acknowledged. */
  readonly behind: number;
  /** Iterator age: now less the creation time of the last acknowledged record (ms). */
  readonly ageMs: number;
}

const t0 = Date.now();
// Record i was written at t0 + (i - backlog) / rate: the backlog by the same producer before the
// consumer started, the rest while it runs. Nothing is held: records are built when read.
const createdAt = (i: number) => t0 + ((i - backlog) / arrivalsPerSecond) * 1000;
const written = () => backlog + Math.floor(((Date.now() - t0) / 1000) * arrivalsPerSecond);
const values = {
  get count() {
    return written();
  },
  at: (i: number) => ({
    id: `e-${i}`,
    createdAt: createdAt(i),
    payload: `event ${i} `.padEnd(180, 'abcdefghijklmnopqrstuvwxyz'),
  }),
};

const source = memorySource('stream', [{ shardId: 'shard-0', values, closed: false }], { batchSize });
const clients = createClients({ region: 'us-east-1' });
const watch = new AckWatch(Number.MAX_SAFE_INTEGER);
const runner = new Runner(
  app(fresh('bench_bp'), [
    pipeline('drain')
      .from(source)
      .pipe(map((r) => put(r.value)))
      .to(tableWriter(table)),
  ]),
  {
    clients,
    metrics: watch,
    log: silentLogger,
  },
);

const startRss = process.memoryUsage.rss();
const samples: Sample[] = [];
let started = 0;
const sample = () => {
  const now = Date.now();
  const acknowledged = watch.acknowledged;
  samples.push({
    t: (performance.now() - started) / 1000,
    rss: process.memoryUsage.rss(),
    heapUsed: process.memoryUsage().heapUsed,
    acknowledged,
    behind: written() - acknowledged,
    // One shard, written in order: the last acknowledged record is record `acknowledged - 1`.
    ageMs: now - createdAt(acknowledged - 1),
  });
};

await runner.start();
started = performance.now();
const timer = setInterval(sample, 250);
await new Promise((r) => setTimeout(r, seconds * 1000));
clearInterval(timer);
sample();
console.log(
  JSON.stringify({
    backlog,
    arrivalsPerSecond,
    startRss,
    samples,
    capacityWaitSeconds: await watch.sum('tributary_capacity_wait_seconds_total'),
    throttled: await watch.sum('tributary_capacity_throttled_total'),
  }),
);
// The writes in flight would take seconds to drain at this capacity; nothing here needs them.
process.exit(0);
