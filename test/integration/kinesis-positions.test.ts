import { PutRecordCommand, PutRecordsCommand } from '@aws-sdk/client-kinesis';
import { map } from 'rxjs';
import { afterAll, describe, expect, it } from 'vitest';
import { app, kinesisStream, pipeline, Runner, type Sink } from '../../src/index.js';
import { destroyClients } from '../../src/runtime/clients.js';
import { aggregate } from '../../src/sources/decoding/kpl.js';
import { createStream } from '../../src/testing/tables.js';
import { eventually, fastRunner, testClients, unique } from '../helpers.js';

const enc = (v: unknown) => new TextEncoder().encode(JSON.stringify(v));

function collect(into: number[]): Sink<number> {
  return { name: 'collect', write: async (outs) => void into.push(...outs) };
}

describe('Kinesis positions', () => {
  const clients = testClients();
  afterAll(() => destroyClients(clients));

  it('de-aggregates KPL records and resumes after a restart without applying anything twice', async () => {
    const stream = unique('kpl');
    await createStream(clients.kinesis, stream, 1);
    const putAggregate = async (from: number, count: number) => {
      const data = await aggregate(
        Array.from({ length: count }, (_, i) => ({ partitionKey: `pk${(from + i) % 3}`, data: enc({ n: from + i }) })),
      );
      await clients.kinesis.send(new PutRecordCommand({ StreamName: stream, PartitionKey: 'agg', Data: data }));
    };
    for (let i = 0; i < 10; i++) await putAggregate(i * 10, 10);
    await clients.kinesis.send(
      new PutRecordsCommand({
        StreamName: stream,
        Records: [100, 101].map((n) => ({ PartitionKey: 'plain', Data: enc({ n }) })),
      }),
    );

    const appName = unique('kpl_app');
    const seen: number[] = [];
    const def = app(appName, [
      pipeline('p')
        .from(kinesisStream<{ n: number }>(stream, { batchSize: 3 }))
        .pipe(map((r) => r.value.n))
        .to(collect(seen)),
    ]);
    const first = new Runner(def, { ...fastRunner, clients });
    await first.start();
    await eventually(async () => seen.length === 102, 60_000, 'first 102');
    await first.stop();

    for (let i = 0; i < 3; i++) await putAggregate(200 + i * 10, 10);
    const second = new Runner(def, { ...fastRunner, clients });
    await second.start();
    await eventually(async () => seen.length >= 132, 60_000, 'the rest');
    await new Promise((r) => setTimeout(r, 500));
    await second.stop();

    const want = [
      ...Array.from({ length: 100 }, (_, i) => i),
      100,
      101,
      ...Array.from({ length: 30 }, (_, i) => 200 + i),
    ];
    expect(seen).toEqual(want);
  });

  it('starts at LATEST or AT_TIMESTAMP when no checkpoint exists', async () => {
    const stream = unique('pos');
    await createStream(clients.kinesis, stream, 1);
    const put = (ns: number[]) =>
      clients.kinesis.send(
        new PutRecordsCommand({
          StreamName: stream,
          Records: ns.map((n) => ({ PartitionKey: 'k', Data: enc({ n }) })),
        }),
      );
    await put([1, 2, 3]);
    await new Promise((r) => setTimeout(r, 1_100));
    const at = new Date();
    await new Promise((r) => setTimeout(r, 1_100));
    await put([4, 5]);

    const fromTs: number[] = [];
    const tsApp = app(unique('ts'), [
      pipeline('p')
        .from(kinesisStream<{ n: number }>(stream, { startPosition: { atTimestamp: at } }))
        .pipe(map((r) => r.value.n))
        .to(collect(fromTs)),
    ]);
    const r1 = new Runner(tsApp, { ...fastRunner, clients });
    await r1.start();
    await eventually(async () => fromTs.length >= 2, 60_000, 'records after the timestamp');
    await r1.stop();
    expect(fromTs).toEqual([4, 5]);

    const latest: number[] = [];
    const latestApp = app(unique('latest'), [
      pipeline('p')
        .from(kinesisStream<{ n: number }>(stream, { startPosition: 'LATEST' }))
        .pipe(map((r) => r.value.n))
        .to(collect(latest)),
    ]);
    const r2 = new Runner(latestApp, { ...fastRunner, clients });
    await r2.start();
    // Give the reader time to take its lease and acquire a LATEST iterator before writing.
    await new Promise((r) => setTimeout(r, 1_500));
    await put([6, 7]);
    await eventually(async () => latest.length >= 2, 60_000, 'records after start');
    await r2.stop();
    expect(latest).toEqual([6, 7]);
  });
});
