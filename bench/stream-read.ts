import { BatchWriteItemCommand, DescribeTableCommand, type WriteRequest } from '@aws-sdk/client-dynamodb';
import {
  DescribeStreamCommand,
  GetRecordsCommand,
  GetShardIteratorCommand,
  type DynamoDBStreamsClient,
  type Shard,
} from '@aws-sdk/client-dynamodb-streams';
import type { Clients } from '../src/core/clients.js';
import { app, pipeline } from '../src/core/pipeline.js';
import { sleep } from '../src/core/time.js';
import { silentLogger } from '../src/observe/log.js';
import { destroyClients } from '../src/runtime/clients.js';
import { Runner } from '../src/runtime/runner.js';
import { dynamodbTable } from '../src/sources/dynamodb/source.js';
import { createTable } from '../src/testing/tables.js';
import { AckWatch } from './lib/ack-watch.js';
import { benchClients, fresh, startDynamoLocal } from './lib/emulators.js';
import { fmt, median, progress, type Benchmark, type BenchResult } from './lib/report.js';
import { CountingSink } from './lib/workload.js';

export const TOTAL = 100_000;
const WRITERS = 16;
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const TARGET_RATIO = 0.9;
/** Wait after an empty GetRecords on an open shard: what tributary's pacer starts at. */
const IDLE_WAIT_MS = 100;

/** Writes `TOTAL` small items, 25 per BatchWriteItem, `WRITERS` calls in flight. */
export async function fill(clients: Clients, table: string): Promise<number> {
  const t0 = performance.now();
  let next = 0;
  const writer = async () => {
    while (next < TOTAL) {
      const from = next;
      next = Math.min(TOTAL, next + 25);
      let pending: WriteRequest[] = [];
      for (let i = from; i < next; i++)
        pending.push({
          PutRequest: {
            Item: { id: { S: `item-${String(i).padStart(6, '0')}` }, n: { N: String(i) }, status: { S: 'new' } },
          },
        });
      while (pending.length > 0) {
        const out = await clients.dynamodb.send(new BatchWriteItemCommand({ RequestItems: { [table]: pending } }));
        pending = out.UnprocessedItems?.[table] ?? [];
      }
    }
  };
  await Promise.all(Array.from({ length: WRITERS }, writer));
  return performance.now() - t0;
}

async function listShards(streams: DynamoDBStreamsClient, streamArn: string): Promise<Shard[]> {
  const shards: Shard[] = [];
  let start: string | undefined;
  do {
    const out = await streams.send(new DescribeStreamCommand({ StreamArn: streamArn, ExclusiveStartShardId: start }));
    shards.push(...(out.StreamDescription?.Shards ?? []));
    start = out.StreamDescription?.LastEvaluatedShardId;
  } while (start);
  return shards;
}

/**
 * The baseline: DescribeStream, then every shard read concurrently (as tributary reads them)
 * from TRIM_HORIZON with GetRecords Limit 1,000, counting records, until `TOTAL` are seen. No
 * unmarshalling, no leases, no checkpoints.
 */
export async function rawDrain(
  clients: Clients,
  streamArn: string,
): Promise<{ rps: number; calls: number; shards: number }> {
  const t0 = performance.now();
  let t1 = 0;
  let seen = 0;
  let calls = 0;
  const shards = await listShards(clients.streams, streamArn);
  await Promise.all(
    shards.map(async (s) => {
      let iterator = (
        await clients.streams.send(
          new GetShardIteratorCommand({ StreamArn: streamArn, ShardId: s.ShardId, ShardIteratorType: 'TRIM_HORIZON' }),
        )
      ).ShardIterator;
      while (iterator && seen < TOTAL) {
        const out = await clients.streams.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: 1000 }));
        calls++;
        const n = out.Records?.length ?? 0;
        seen += n;
        if (seen >= TOTAL && !t1) t1 = performance.now();
        iterator = out.NextShardIterator;
        if (n === 0 && iterator && seen < TOTAL) await sleep(IDLE_WAIT_MS);
      }
    }),
  );
  return { rps: TOTAL / ((t1 - t0) / 1000), calls, shards: shards.length };
}

/** tributary: a Runner with one pipeline from the table's stream to a counting sink, on a fresh app name. */
export async function tributary(
  endpoint: string,
  table: string,
): Promise<{ rps: number; counted: number; checkpoints: number; error?: unknown }> {
  const clients = benchClients(endpoint);
  const sink = new CountingSink<unknown>();
  const watch = new AckWatch(TOTAL);
  const def = app(fresh('bench_stream'), [pipeline('drain').from(dynamodbTable(table)).to(sink)]);
  const runner = new Runner(def, { clients, metrics: watch, log: silentLogger });
  try {
    await runner.start();
    // Timed from here: tables exist and the stream is resolved; shard discovery, lease creation
    // and taking are still ahead, and count against tributary.
    const t0 = performance.now();
    const t1 = await watch.done;
    const { error } = await runner.stop();
    return {
      rps: TOTAL / ((t1 - t0) / 1000),
      counted: sink.records,
      checkpoints: await watch.sum('tributary_checkpoints_total'),
      error,
    };
  } finally {
    await runner.stop();
    destroyClients(clients);
  }
}

export const streamRead: Benchmark = {
  name: 'stream-read',
  title: `draining a ${fmt(TOTAL)}-record DynamoDB stream on DynamoDB Local`,
  async run(): Promise<BenchResult> {
    const emu = await startDynamoLocal();
    const clients = benchClients(emu.endpoints.dynamodb);
    const notes: string[] = [];
    const base: number[] = [];
    const trib: number[] = [];
    try {
      const table = fresh('bench_stream_src');
      await createTable(clients.dynamodb, {
        name: table,
        partitionKey: { name: 'id', type: 'S' },
        stream: 'NEW_AND_OLD_IMAGES',
      });
      progress(`writing ${fmt(TOTAL)} items`);
      const fillMs = await fill(clients, table);
      const streamArn = (await clients.dynamodb.send(new DescribeTableCommand({ TableName: table }))).Table!
        .LatestStreamArn!;
      progress('warming up (one untimed raw drain)');
      const warm = await rawDrain(clients, streamArn);
      for (let i = 0; i < RUNS; i++) {
        progress(`round ${i + 1}/${RUNS}`);
        base.push((await rawDrain(clients, streamArn)).rps);
        const t = await tributary(emu.endpoints.dynamodb, table);
        if (t.counted < TOTAL || t.error)
          notes.push(
            `round ${i + 1}: tributary counted ${fmt(t.counted)} records${t.error ? `; runner stopped with ${String(t.error)}` : ''}`,
          );
        trib.push(t.rps);
        if (i === RUNS - 1) notes.push(`${t.checkpoints} checkpoint writes in the last tributary run`);
      }
      notes.unshift(
        `stream: ${warm.shards} shard(s), ${warm.calls} GetRecords calls per raw drain; ${fmt(TOTAL)} items written in ${fmt(fillMs / 1000, 1)} s (${fmt(TOTAL / (fillMs / 1000))} items/s, BatchWriteItem x25, ${WRITERS} in flight)`,
        `tributary runs ${trib.map((x) => fmt(x)).join(', ')}; baseline runs ${base.map((x) => fmt(x)).join(', ')} (median of ${RUNS} alternating rounds after one untimed drain)`,
        'baseline: DescribeStream + all shards concurrently (TRIM_HORIZON, GetRecords Limit 1,000), counting only; tributary: Runner on a fresh app name, DynamoDB source, counting sink, timed from start() resolved to the last acknowledgement',
      );
    } finally {
      destroyClients(clients);
      await emu.stop();
    }
    return {
      name: 'stream-read',
      title: this.title,
      command: 'npm run bench -- stream-read',
      rows: [
        {
          measure: `drain ${fmt(TOTAL)} records`,
          tributary: median(trib),
          baseline: median(base),
          unit: 'records/s',
          target: { on: 'ratio', op: '>=', value: TARGET_RATIO },
        },
      ],
      notes,
    };
  },
};
