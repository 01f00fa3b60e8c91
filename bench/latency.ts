import { GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { DescribeStreamCommand, GetRecordsCommand, GetShardIteratorCommand } from '@aws-sdk/client-dynamodb-streams';
import {
  GetRecordsCommand as KinesisGetRecords,
  GetShardIteratorCommand as KinesisIterator,
  ListShardsCommand,
  PutRecordCommand,
} from '@aws-sdk/client-kinesis';
import { map } from 'rxjs';
import type { Clients } from '../src/core/clients.js';
import { app, pipeline } from '../src/core/pipeline.js';
import { startHttpServer } from '../src/observe/http/server.js';
import { silentLogger } from '../src/observe/log.js';
import { count } from '../src/operators/windows/exact-aggregations.js';
import { tumblingWindows } from '../src/operators/windows/assigners.js';
import { createClients, destroyClients } from '../src/runtime/clients.js';
import { Runner } from '../src/runtime/runner.js';
import { tableWriter } from '../src/sinks/table-writer.js';
import { put } from '../src/sinks/table-writes.js';
import { dynamodbTable, IDLE_POLL_MS as DYNAMODB_POLL_MS } from '../src/sources/dynamodb/source.js';
import { kinesisStream, IDLE_POLL_MS as KINESIS_POLL_MS } from '../src/sources/kinesis/source.js';
import { tap } from '../src/taps/tap.js';
import { startEmulators } from '../src/testing/emulators.js';
import { createStream, createTable } from '../src/testing/tables.js';
import { fresh } from './lib/emulators.js';
import { fmt, progress, type Benchmark, type BenchResult, type ResultRow } from './lib/report.js';

/** Samples per source: each a write, then the wait for the three readers to see it. */
const SAMPLES = Number(process.env.BENCH_LATENCY_SAMPLES ?? 80);

const quantile = (xs: readonly number[], q: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)]!;
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Reads a tap's NDJSON feed and notes when each key is first seen. */
async function followTap(url: string, seen: Map<string, number>, signal: AbortSignal): Promise<void> {
  const res = await fetch(`${url}?format=ndjson`, { signal });
  const reader = res.body!.getReader();
  let buf = '';
  for (;;) {
    const { value, done } = await reader.read().catch(() => ({ value: undefined, done: true as const }));
    if (done) return;
    buf += Buffer.from(value).toString();
    for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      if (!line) continue;
      const e = JSON.parse(line) as { type: string; key?: string };
      if (e.type === 'update' && e.key && !seen.has(e.key)) seen.set(e.key, Date.now());
    }
  }
}

interface Probe {
  /** Writes sample `id` to the source. */
  write(id: string): Promise<void>;
  /** A raw poller over the source's shard, at tributary's default idle poll: notes when each id is first seen. */
  poll(seen: Map<string, number>, signal: AbortSignal): Promise<void>;
}

function dynamoProbe(clients: Clients, table: string, streamArn: string): Probe {
  return {
    write: async (id) => {
      await clients.dynamodb.send(new PutItemCommand({ TableName: table, Item: { id: { S: id } } }));
    },
    poll: async (seen, signal) => {
      const d = await clients.streams.send(new DescribeStreamCommand({ StreamArn: streamArn }));
      const shardId = d.StreamDescription!.Shards!.at(-1)!.ShardId!;
      let it = (
        await clients.streams.send(
          new GetShardIteratorCommand({ StreamArn: streamArn, ShardId: shardId, ShardIteratorType: 'LATEST' }),
        )
      ).ShardIterator;
      while (!signal.aborted && it) {
        const out = await clients.streams.send(new GetRecordsCommand({ ShardIterator: it }));
        const now = Date.now();
        for (const r of out.Records ?? []) {
          const id = r.dynamodb?.Keys?.id?.S;
          if (id && !seen.has(id)) seen.set(id, now);
        }
        it = out.NextShardIterator;
        if (!out.Records?.length) await sleep(DYNAMODB_POLL_MS);
      }
    },
  };
}

function kinesisProbe(clients: Clients, stream: string): Probe {
  return {
    write: async (id) => {
      await clients.kinesis.send(
        new PutRecordCommand({ StreamName: stream, PartitionKey: 'one', Data: Buffer.from(JSON.stringify({ id })) }),
      );
    },
    poll: async (seen, signal) => {
      const shards = await clients.kinesis.send(new ListShardsCommand({ StreamName: stream }));
      let it = (
        await clients.kinesis.send(
          new KinesisIterator({
            StreamName: stream,
            ShardId: shards.Shards![0]!.ShardId!,
            ShardIteratorType: 'LATEST',
          }),
        )
      ).ShardIterator;
      while (!signal.aborted && it) {
        const out = await clients.kinesis.send(new KinesisGetRecords({ ShardIterator: it }));
        const now = Date.now();
        for (const r of out.Records ?? []) {
          const id = (JSON.parse(Buffer.from(r.Data!).toString()) as { id: string }).id;
          if (!seen.has(id)) seen.set(id, now);
        }
        it = out.NextShardIterator;
        if (!out.Records?.length) await sleep(KINESIS_POLL_MS);
      }
    },
  };
}

/** One source: an app copying it to a table and tapping it, a raw poller, and SAMPLES writes. */
async function measure(
  clients: Clients,
  what: string,
  source: ReturnType<typeof dynamodbTable> | ReturnType<typeof kinesisStream>,
  idOf: (r: unknown) => string,
  probe: Probe,
) {
  const view = fresh(`lat_${what}_view`);
  await createTable(clients.dynamodb, { name: view, partitionKey: { name: 'id', type: 'S' } });
  const def = app(fresh(`lat_${what}`), [
    pipeline('copy')
      .from(source as ReturnType<typeof kinesisStream>)
      .pipe(map((r: unknown) => put({ id: idOf(r) })))
      .to(tableWriter(view)),
    tap('seen', {
      from: source as ReturnType<typeof kinesisStream>,
      window: tumblingWindows(3_600_000),
      key: (r: unknown) => idOf(r),
      aggregate: { n: count() },
    }),
  ]);
  const runner = new Runner(def, { clients, log: silentLogger, leaseTakeIntervalMs: 200, discoveryIntervalMs: 1_000 });
  await runner.start();
  const server = await startHttpServer(runner, { port: 0, host: '127.0.0.1' });
  const stop = new AbortController();
  const polled = new Map<string, number>();
  const tapped = new Map<string, number>();
  const polling = probe.poll(polled, stop.signal);
  const following = followTap(`${server.url}/taps/seen`, tapped, stop.signal);
  const row: number[] = [];
  const raw: number[] = [];
  const sse: number[] = [];
  try {
    // The runner's readers reach the tip first: a warm-up write until the view has it.
    await probe.write('warm');
    for (;;) {
      const got = await clients.dynamodb.send(new GetItemCommand({ TableName: view, Key: { id: { S: 'warm' } } }));
      if (got.Item) break;
      await sleep(50);
    }
    for (let i = 0; i < SAMPLES; i++) {
      const id = `s${i}`;
      const t0 = Date.now();
      await probe.write(id);
      for (;;) {
        const got = await clients.dynamodb.send(new GetItemCommand({ TableName: view, Key: { id: { S: id } } }));
        if (got.Item) break;
        await sleep(5);
      }
      row.push(Date.now() - t0);
      while (!polled.has(id) || !tapped.has(id)) await sleep(5);
      raw.push(polled.get(id)! - t0);
      sse.push(tapped.get(id)! - t0);
      // A random pause, so that writes land at every phase of the pollers' cycles.
      await sleep(200 + Math.random() * 1_300);
      if (i % 20 === 19) progress(`${what}: ${i + 1}/${SAMPLES}`);
    }
  } finally {
    stop.abort();
    await Promise.allSettled([polling, following]);
    await server.close();
    await runner.stop();
  }
  return { row, raw, sse };
}

export const latency: Benchmark = {
  name: 'latency',
  title:
    'From a source write to the view row readable and to the tap update on an SSE client, against a raw GetRecords poller',
  async run(): Promise<BenchResult> {
    const emu = await startEmulators();
    const clients = createClients({
      region: 'us-east-1',
      dynamodbEndpoint: emu.endpoints.dynamodb,
      kinesisEndpoint: emu.endpoints.kinesis,
    });
    const rows: ResultRow[] = [];
    const notes: string[] = [];
    try {
      const table = fresh('lat_src');
      await createTable(clients.dynamodb, {
        name: table,
        partitionKey: { name: 'id', type: 'S' },
        stream: 'NEW_AND_OLD_IMAGES',
      });
      const streamArn = (
        await clients.dynamodb.send(
          new (await import('@aws-sdk/client-dynamodb')).DescribeTableCommand({ TableName: table }),
        )
      ).Table!.LatestStreamArn!;
      const stream = fresh('lat_kin');
      await createStream(clients.kinesis, stream, 1);
      const sources = [
        {
          what: 'dynamodb',
          m: await measure(
            clients,
            'ddb',
            dynamodbTable(table),
            (r) => String((r as { keys: { id: string } }).keys.id),
            dynamoProbe(clients, table, streamArn),
          ),
        },
        {
          what: 'kinesis',
          m: await measure(
            clients,
            'kin',
            kinesisStream<{ id: string }>(stream),
            (r) => (r as { value: { id: string } }).value.id,
            kinesisProbe(clients, stream),
          ),
        },
      ];
      for (const { what, m } of sources) {
        for (const q of [0.5, 0.99] as const) {
          const label = q === 0.5 ? 'p50' : 'p99';
          const base = quantile(m.raw, q);
          rows.push({
            measure: `${what}: write → view row readable, ${label}`,
            tributary: quantile(m.row, q),
            baseline: base,
            unit: 'ms',
            ...(q === 0.99 ? { target: { on: 'ratio' as const, op: '<=' as const, value: 1.2 } } : {}),
          });
          rows.push({
            measure: `${what}: write → tap update on an SSE client, ${label}`,
            tributary: quantile(m.sse, q),
            baseline: base,
            unit: 'ms',
            ...(q === 0.99 ? { target: { on: 'ratio' as const, op: '<=' as const, value: 1.2 } } : {}),
          });
        }
        notes.push(
          `${what}: p99 under 1 s with default settings: view ${quantile(m.row, 0.99) < 1_000 ? 'yes' : 'no'}, tap ${quantile(m.sse, 0.99) < 1_000 ? 'yes' : 'no'} (${fmt(quantile(m.row, 0.99))} / ${fmt(quantile(m.sse, 0.99))} ms)`,
        );
      }
      notes.push(
        `${SAMPLES} writes per source, 0.2–1.5 s apart, default settings (tap updateEveryMs 250 ms); baseline: GetRecords on the shard, waiting after an empty answer as long as tributary's default idle poll (DynamoDB Streams ${DYNAMODB_POLL_MS} ms, Kinesis ${KINESIS_POLL_MS} ms)`,
      );
    } finally {
      destroyClients(clients);
      await emu.stop();
    }
    return {
      name: 'latency',
      title: latency.title,
      command: 'npm run bench -- latency',
      rows,
      notes,
      columns: { tributary: 'tributary (ms)', baseline: 'raw poller (ms)' },
    };
  },
};
