import { BatchWriteItemCommand } from '@aws-sdk/client-dynamodb';
import { PutRecordsCommand } from '@aws-sdk/client-kinesis';
import { marshall } from '@aws-sdk/util-dynamodb';
import { afterAll, describe, expect, it } from 'vitest';
import { app, dynamodbTable, kinesisStream, pipeline, Runner, type Sink, type StreamSource } from '../../src/index.js';
import type { SourceRecord } from '../../src/core/records.js';
import { destroyClients } from '../../src/runtime/clients.js';
import { LeaseTable } from '../../src/runtime/leases/table.js';
import { createStream, createTable } from '../../src/testing/tables.js';
import { eventually, fastRunner, testClients, unique } from '../helpers.js';

const clients = testClients();
const COUNT = 20;
/** Old enough that a lag stuck at the first page's age cannot pass for 0. */
const AGE_MS = 2_000;

/** A fresh stream of each service holding COUNT records, the source that reads it from TRIM_HORIZON. */
const backends: Record<string, () => Promise<StreamSource<SourceRecord>>> = {
  'DynamoDB Streams': async () => {
    const table = unique('lag_src');
    await createTable(clients.dynamodb, { name: table, partitionKey: { name: 'id', type: 'S' }, stream: 'NEW_IMAGE' });
    const items = Array.from({ length: COUNT }, (_, i) => ({ PutRequest: { Item: marshall({ id: `item-${i}` }) } }));
    await clients.dynamodb.send(new BatchWriteItemCommand({ RequestItems: { [table]: items } }));
    return dynamodbTable<{ id: string }>(table) as StreamSource<SourceRecord>;
  },
  Kinesis: async () => {
    const stream = unique('lag_stream');
    await createStream(clients.kinesis, stream, 1);
    const records = Array.from({ length: COUNT }, (_, i) => ({
      PartitionKey: `pk-${i}`,
      Data: new TextEncoder().encode(JSON.stringify({ i })),
    }));
    await clients.kinesis.send(new PutRecordsCommand({ StreamName: stream, Records: records }));
    return kinesisStream<{ i: number }>(stream) as StreamSource<SourceRecord>;
  },
};

describe.each(Object.keys(backends))('positions and lag on %s', (backend) => {
  afterAll(() => destroyClients(clients));

  it('a first start from TRIM_HORIZON reports no trimmed data, and the lag falls to 0 once caught up', async () => {
    const source = await backends[backend]!();
    // Let the records age, so the first page is read well behind the tip.
    await new Promise((r) => setTimeout(r, AGE_MS));
    const seen: SourceRecord[] = [];
    const sink: Sink<SourceRecord> = { name: 'collect', write: async (outs) => void seen.push(...outs) };
    const appName = unique('lag_app');
    const runner = new Runner(app(appName, [pipeline('p').from(source).to(sink)]), {
      ...fastRunner,
      clients,
    });
    await runner.start();
    try {
      await eventually(async () => seen.length === COUNT, 60_000, 'every record');
      // Idle at the tip: the lag shown is 0, not the age of the last record read, on the metrics and in the lease
      // (what `tributary status` shows).
      await eventually(async () => (await runner.metrics.sum('tributary_behind_seconds')) === 0, 60_000, 'lag 0');
      const leases = new LeaseTable(clients.dynamodb, `${appName}_leases`);
      await eventually(async () => (await leases.list()).every((l) => l.millisBehind === 0), 60_000, 'lease lag 0');
      expect(await runner.metrics.sum('tributary_trimmed_data_total')).toBe(0);
    } finally {
      await runner.stop();
    }
  });
});
