import { DeleteItemCommand, DescribeTableCommand, PutItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { DescribeStreamCommand, GetRecordsCommand, GetShardIteratorCommand } from '@aws-sdk/client-dynamodb-streams';
import {
  GetRecordsCommand as KinesisGetRecords,
  GetShardIteratorCommand as KinesisIterator,
  ListShardsCommand,
  PutRecordsCommand,
} from '@aws-sdk/client-kinesis';
import { marshall } from '@aws-sdk/util-dynamodb';
import { afterAll, describe, expect, it } from 'vitest';
import { destroyClients } from '../../src/runtime/clients.js';
import { toChange } from '../../src/sources/dynamodb/convert.js';
import { getRecordsFast } from '../../src/sources/dynamodb/fast-get-records.js';
import { getKinesisRecordsFast } from '../../src/sources/kinesis/fast-get-records.js';
import { createStream, createTable } from '../../src/testing/tables.js';
import { testClients, unique } from '../helpers.js';

describe('GetRecords parsed with JSON.parse', () => {
  const clients = testClients();
  afterAll(() => destroyClients(clients));

  it('gives the same changes as the SDK deserializer, for every attribute type and event kind', async () => {
    const table = unique('fast_gr');
    await createTable(clients.dynamodb, {
      name: table,
      partitionKey: { name: 'pk', type: 'S' },
      sortKey: { name: 'bk', type: 'B' },
      stream: 'NEW_AND_OLD_IMAGES',
    });
    const bk = Uint8Array.of(0, 1, 2, 250);
    const item = {
      pk: 'a "quoted" \\ key ✓',
      bk,
      n: 42,
      f: -0.125,
      big: 9_007_199_254_740_993n,
      s: 'text',
      yes: true,
      nil: null,
      bin: Uint8Array.of(255, 0, 128),
      ss: new Set(['x', 'y']),
      ns: new Set([1, 2.5]),
      bs: new Set([Uint8Array.of(1), Uint8Array.of(2, 3)]),
      m: { inner: { b: Uint8Array.of(9), l: [1, 'two', Uint8Array.of(3), { deep: Uint8Array.of(4) }] } },
      l: [{ B: 'not binary: a map with a key named B' }],
    };
    await clients.dynamodb.send(
      new PutItemCommand({ TableName: table, Item: marshall(item, { convertClassInstanceToMap: true }) }),
    );
    await clients.dynamodb.send(
      new UpdateItemCommand({
        TableName: table,
        Key: marshall({ pk: item.pk, bk }),
        UpdateExpression: 'SET s = :s',
        ExpressionAttributeValues: marshall({ ':s': 'changed' }),
      }),
    );
    await clients.dynamodb.send(new DeleteItemCommand({ TableName: table, Key: marshall({ pk: item.pk, bk }) }));

    const arn = (await clients.dynamodb.send(new DescribeTableCommand({ TableName: table }))).Table!.LatestStreamArn!;
    const shard = (await clients.streams.send(new DescribeStreamCommand({ StreamArn: arn }))).StreamDescription!
      .Shards![0]!;
    const iterator = async () =>
      (
        await clients.streams.send(
          new GetShardIteratorCommand({ StreamArn: arn, ShardId: shard.ShardId!, ShardIteratorType: 'TRIM_HORIZON' }),
        )
      ).ShardIterator!;

    const sdk = await clients.streams.send(new GetRecordsCommand({ ShardIterator: await iterator(), Limit: 100 }));
    const fast = await getRecordsFast(clients.streams, { ShardIterator: await iterator(), Limit: 100 });
    expect(fast.records).toHaveLength(3);
    expect(fast.records).toEqual(sdk.Records);
    const changes = fast.records.map((r) => toChange(r, 'src', shard.ShardId!));
    expect(changes).toEqual(sdk.Records!.map((r) => toChange(r, 'src', shard.ShardId!)));
    expect(changes.map((c) => c.kind)).toEqual(['insert', 'modify', 'remove']);
    expect(changes[0]!.approximateCreationTime).toBeInstanceOf(Date);
    expect(changes[0]!.newImage).toMatchObject({
      bk,
      bin: item.bin,
      big: item.big,
      m: { inner: { b: Uint8Array.of(9), l: [1, 'two', Uint8Array.of(3), { deep: Uint8Array.of(4) }] } },
      l: [{ B: 'not binary: a map with a key named B' }],
    });
    expect(typeof fast.nextShardIterator).toBe(typeof sdk.NextShardIterator);
  });

  it('leaves error answers to the SDK', async () => {
    await expect(
      getRecordsFast(clients.streams, { ShardIterator: 'not-an-iterator', Limit: 10 }),
    ).rejects.toMatchObject({ name: expect.stringMatching(/Exception$/) });
  });

  it('gives the same Kinesis records as the SDK deserializer: bytes, arrival times, sequence numbers', async () => {
    const stream = unique('fast_kgr');
    await createStream(clients.kinesis, stream, 1);
    const payloads = [
      new TextEncoder().encode('{"a":"é✓"}'),
      Uint8Array.of(0, 255, 128, 10),
      new Uint8Array(0),
      new Uint8Array(2000).fill(7),
    ];
    await clients.kinesis.send(
      new PutRecordsCommand({
        StreamName: stream,
        Records: payloads.map((Data, i) => ({ Data, PartitionKey: `k${i}` })),
      }),
    );
    const shardId = (await clients.kinesis.send(new ListShardsCommand({ StreamName: stream }))).Shards![0]!.ShardId!;
    const iterator = async () =>
      (
        await clients.kinesis.send(
          new KinesisIterator({ StreamName: stream, ShardId: shardId, ShardIteratorType: 'TRIM_HORIZON' }),
        )
      ).ShardIterator!;
    const { $metadata: _, ...sdk } = await clients.kinesis.send(
      new KinesisGetRecords({ ShardIterator: await iterator(), Limit: 100 }),
    );
    const fast = await getKinesisRecordsFast(clients.kinesis, { ShardIterator: await iterator(), Limit: 100 });
    expect(fast.Records).toHaveLength(payloads.length);
    expect({ ...fast, NextShardIterator: typeof fast.NextShardIterator }).toEqual({
      ...sdk,
      NextShardIterator: typeof sdk.NextShardIterator,
    });
    expect(fast.Records!.map((r) => r.Data)).toEqual(payloads);
    expect(fast.Records![0]!.ApproximateArrivalTimestamp).toBeInstanceOf(Date);
  });
});
