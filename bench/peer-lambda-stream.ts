import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { filter, map } from 'rxjs';
import { app, pipeline } from '../src/core/pipeline.js';
import { silentLogger } from '../src/observe/log.js';
import { destroyClients } from '../src/runtime/clients.js';
import { Runner } from '../src/runtime/runner.js';
import { decodePage } from '../src/sources/decoding/decoder.js';
import { json } from '../src/sources/decoding/json.js';
import { memorySource } from '../src/testing/memory-source.js';
import { AckWatch } from './lib/ack-watch.js';
import type { Emulators } from '../src/testing/emulators.js';
import { benchClients, fresh, startDynamoLocal } from './lib/emulators.js';
import { emulatorsQuiet } from './lib/quiet.js';
import { fmt, median, progress, type Benchmark, type BenchResult } from './lib/report.js';
import { CountingSink, observedSource } from './lib/workload.js';

const TOTAL = 200_000;
/** Records per Lambda event and per tributary batch: the most a Kinesis event source mapping or one GetRecords gives. */
const BATCH = 10_000;
/** Rounds; more than the other benchmarks' 3, as both sides vary by a third from round to round on this VM. */
const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const TARGET_RATIO = 20;

// The small part of aws-lambda-stream (plain CommonJS, no types) that this benchmark uses.
/** A record of a Lambda Kinesis event, as `toKinesisRecords` builds it. */
interface LambdaKinesisRecord {
  readonly eventID: string;
  readonly kinesis: { readonly sequenceNumber: string; readonly data: string };
}
interface LambdaKinesisEvent {
  readonly Records: readonly LambdaKinesisRecord[];
}
/** The few Highland stream methods used here. */
interface HighlandStream<T> {
  filter(f: (x: T) => boolean): HighlandStream<T>;
  map<U>(f: (x: T) => U): HighlandStream<U>;
  reduce<U>(memo: U, f: (acc: U, x: T) => U): HighlandStream<U>;
  toCallback(cb: (err: Error | null | undefined, x?: T) => void): void;
}
interface AwsLambdaStream {
  /** One unit of work per record: `event` is the decoded JSON plus the record's `eventID` as `id`. */
  fromKinesis<E>(
    event: LambdaKinesisEvent,
  ): HighlandStream<{ readonly record: LambdaKinesisRecord; readonly event: E & { readonly id: string } }>;
  /** Its test helper: each event as JSON in base64, in a Lambda Kinesis event. */
  toKinesisRecords(events: readonly unknown[]): LambdaKinesisEvent;
}

const PEERS = fileURLToPath(new URL('./peers/', import.meta.url));

/**
 * Loads aws-lambda-stream from bench/peers, installing bench/peers/package.json there first if
 * needed: the peer and the AWS clients it requires at import time stay out of the project's own
 * dependencies.
 */
export function loadPeer(): AwsLambdaStream {
  // Checks the peer itself rather than node_modules, so that an interrupted install is completed.
  if (!existsSync(`${PEERS}node_modules/aws-lambda-stream/package.json`)) {
    progress('installing bench/peers (aws-lambda-stream and what it loads)');
    execFileSync('npm', ['install', '--prefix', PEERS, '--no-audit', '--no-fund'], { stdio: ['ignore', 2, 2] });
  }
  return createRequire(`${PEERS}package.json`)('aws-lambda-stream') as AwsLambdaStream;
}

interface OrderEvent {
  readonly type: 'order-placed' | 'order-viewed';
  readonly timestamp: number;
  readonly partitionKey: string;
  readonly order: { readonly id: string; readonly amount: number };
}
interface Priced {
  readonly id: string;
  readonly cents: number;
}

// The work both sides do after decoding: a filter that keeps half the records, and a map.
const placed = (e: OrderEvent): boolean => e.type === 'order-placed';
const price = (e: OrderEvent): Priced => ({ id: e.order.id, cents: e.order.amount * 100 });

export const orderEvent = (i: number): OrderEvent => ({
  type: i % 2 ? 'order-placed' : 'order-viewed',
  timestamp: 1_700_000_000_000 + i,
  partitionKey: `customer-${i % 100}`,
  order: { id: `order-${i}`, amount: i % 1000 },
});

/** aws-lambda-stream: `fromKinesis` + filter + map + count, one Lambda event after another as one shard's invocations. */
async function peerRun(
  peer: AwsLambdaStream,
  events: readonly LambdaKinesisEvent[],
): Promise<{ rps: number; counted: number }> {
  const one = (event: LambdaKinesisEvent) =>
    new Promise<number>((resolve, reject) =>
      peer
        .fromKinesis<OrderEvent>(event)
        .filter((uow) => placed(uow.event))
        .map((uow) => price(uow.event))
        .reduce(0, (n) => n + 1)
        .toCallback((err, n) => (err ? reject(err) : resolve(n ?? 0))),
    );
  const records = events.reduce((n, e) => n + e.Records.length, 0);
  let counted = 0;
  const t0 = performance.now();
  for (const event of events) counted += await one(event);
  return { rps: records / ((performance.now() - t0) / 1000), counted };
}

const decoder = json<OrderEvent>();
/** A Lambda Kinesis record's payload: its base64 data as bytes, as the Kinesis client hands GetRecords data over. */
const payload = (r: LambdaKinesisRecord): Uint8Array => Buffer.from(r.kinesis.data, 'base64');

/**
 * The decoding floors: the same decode, filter, map and count as plain loops, no stream library,
 * no runner. `perRecord` calls json()'s `decode` once per record; `perPage` decodes each 10,000
 * at once with `decodePage`, as tributary's sources do.
 */
export function loopRun(
  records: readonly LambdaKinesisRecord[],
  mode: 'perRecord' | 'perPage',
): { rps: number; counted: number } {
  let counted = 0;
  const t0 = performance.now();
  for (let i = 0; i < records.length; i += BATCH) {
    const outputs: Priced[] = [];
    const payloads = records.slice(i, i + BATCH).map(payload);
    const results = mode === 'perPage' ? decodePage(decoder, payloads) : payloads.map((p) => decoder.decode(p));
    if (results instanceof Promise) throw new Error('json() without a schema decodes synchronously');
    for (const res of results) {
      if (res instanceof Promise || !res.ok) throw new Error('every record is valid JSON');
      if (placed(res.value)) outputs.push(price(res.value));
    }
    counted += outputs.length;
  }
  return { rps: records.length / ((performance.now() - t0) / 1000), counted };
}

/** The real Runner on one shard of the same records: leases and checkpoints in DynamoDB Local, a counting sink. */
export async function tributaryRun(
  emu: Emulators,
  records: readonly LambdaKinesisRecord[],
  batchSize = BATCH,
): Promise<{ rps: number; counted: number; error?: unknown }> {
  const clients = benchClients(emu.endpoints.dynamodb);
  const sink = new CountingSink<Priced>();
  const watch = new AckWatch(records.length);
  let t0: number | undefined;
  const first = () => void (t0 ??= performance.now());
  // memorySource lets the event loop run before every batch, as a fetch over the network does.
  // The first fetch waits until DynamoDB Local is done with the tables start() created.
  let open!: () => void;
  const gate = new Promise<void>((r) => (open = r));
  // The source decodes as tributary's Kinesis source does: base64 data to bytes, then json() a page at a time.
  const orders = memorySource('orders', [{ shardId: 'shardId-000000000000', values: records }], {
    batchSize,
    decode: { decoder, payload },
  });
  const src = observedSource(orders, first, { gate });
  const def = app(fresh('bench_peer'), [
    pipeline('price')
      .from(src)
      .pipe(
        filter((r) => placed(r.value)),
        map((r) => price(r.value)),
      )
      .to(sink),
  ]);
  const runner = new Runner(def, { clients, metrics: watch, log: silentLogger });
  try {
    await runner.start();
    await emulatorsQuiet(emu.pids);
    open();
    const t1 = await watch.done;
    const { error } = await runner.stop();
    return { rps: records.length / ((t1 - t0!) / 1000), counted: sink.outputs, error };
  } finally {
    await runner.stop();
    destroyClients(clients);
  }
}

export const peerLambdaStream: Benchmark = {
  name: 'peer-lambda-stream',
  title: `against a peer: ${fmt(TOTAL)} Kinesis records (base64 JSON) decoded, filtered, mapped, counted, in aws-lambda-stream and in tributary`,
  async run(): Promise<BenchResult> {
    const peer = loadPeer();
    progress(`building ${fmt(TOTAL)} records with aws-lambda-stream's toKinesisRecords`);
    const records = peer.toKinesisRecords(Array.from({ length: TOTAL }, (_, i) => orderEvent(i))).Records;
    const events: LambdaKinesisEvent[] = [];
    for (let i = 0; i < TOTAL; i += BATCH) events.push({ Records: records.slice(i, i + BATCH) });
    const eventBytes = Buffer.byteLength(JSON.stringify(events[0]));

    const emu = await startDynamoLocal();
    const notes: string[] = [];
    const peerRps: number[] = [];
    const tribRps: number[] = [];
    const loopRps: number[] = [];
    const recordLoopRps: number[] = [];
    try {
      // A whole untimed round first: both sides' hot paths optimized before any is timed.
      progress('warming up both sides with a full round');
      await peerRun(peer, events);
      await tributaryRun(emu, records);
      loopRun(records, 'perPage');
      loopRun(records, 'perRecord');
      for (let i = 0; i < RUNS; i++) {
        progress(`round ${i + 1}/${RUNS}`);
        const p = await peerRun(peer, events);
        const t = await tributaryRun(emu, records);
        const l = loopRun(records, 'perPage');
        const r = loopRun(records, 'perRecord');
        if (p.counted !== t.counted || l.counted !== t.counted || r.counted !== t.counted || t.error)
          notes.push(
            `round ${i + 1}: tributary counted ${fmt(t.counted)} outputs, aws-lambda-stream ${fmt(p.counted)}, the loops ${fmt(l.counted)} and ${fmt(r.counted)}${t.error ? `; runner stopped with ${String(t.error)}` : ''}`,
          );
        peerRps.push(p.rps);
        tribRps.push(t.rps);
        loopRps.push(l.rps);
        recordLoopRps.push(r.rps);
      }
    } finally {
      await emu.stop();
    }
    notes.push(
      `tributary runs ${tribRps.map((x) => fmt(x)).join(', ')}; aws-lambda-stream runs ${peerRps.map((x) => fmt(x)).join(', ')} records/s`,
    );
    notes.push(
      `both sides get the records ${fmt(BATCH)} at a time: aws-lambda-stream as ${events.length} Lambda events (${fmt(eventBytes / 1e6, 1)} MB each, under the 6 MB invocation limit) run one after another, tributary as batches of one shard through the real Runner (leases, acknowledgements, checkpoints in DynamoDB Local)`,
    );
    notes.push(
      `the decoding floor: a plain loop doing the same base64 decode, json() a page at a time (decodePage), filter, map and count runs at ${fmt(median(loopRps))} records/s (median; runs ${loopRps.map((x) => fmt(x)).join(', ')}), ${fmt(median(loopRps) / median(tribRps), 2)} times tributary and ${fmt(median(loopRps) / median(peerRps), 1)} times aws-lambda-stream; decoding record by record (json().decode) it runs at ${fmt(median(recordLoopRps))} records/s`,
    );
    notes.push(
      'the emulator is left to finish the tables that start() created before the clock starts (bench/lib/quiet.ts): on 2 cores its JIT and GC otherwise run beside the first second of tributary alone',
    );
    notes.push(
      'aws-lambda-stream timed from the first fromKinesis to the last count; tributary from its first fetch to the last acknowledgement; median of alternating rounds',
    );
    notes.push(
      `aws-lambda-stream's fromKinesis also parses with a reviver (its decompression) and passes every record through its S3 claim-check step (a promise per record, parallel 8); tributary decodes with json() and does neither`,
    );
    return {
      name: 'peer-lambda-stream',
      title: this.title,
      command: 'npm run bench -- peer-lambda-stream',
      columns: { tributary: 'tributary', baseline: 'aws-lambda-stream' },
      rows: [
        {
          measure: `${fmt(TOTAL)} records, events/batches of ${fmt(BATCH)}`,
          tributary: median(tribRps),
          baseline: median(peerRps),
          unit: 'records/s',
          target: { on: 'ratio', op: '>=', value: TARGET_RATIO },
        },
      ],
      notes,
    };
  },
};
