import {
  ConditionalCheckFailedException,
  CreateTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  PutItemCommand,
  QueryCommand,
  TransactWriteItemsCommand,
  TransactionCanceledException,
  UpdateItemCommand,
  DeleteItemCommand,
} from '@aws-sdk/client-dynamodb';
import {
  DescribeStreamCommand,
  DynamoDBStreamsClient,
  GetRecordsCommand,
  GetShardIteratorCommand,
} from '@aws-sdk/client-dynamodb-streams';
import {
  CreateStreamCommand,
  GetRecordsCommand as KinesisGetRecords,
  GetShardIteratorCommand as KinesisIterator,
  KinesisClient,
  ListShardsCommand,
  PutRecordsCommand,
  SplitShardCommand,
} from '@aws-sdk/client-kinesis';
import { createTable } from '../../src/testing/tables.js';
import { describe, expect, it } from 'vitest';
import { InProcessHandler } from '../../src/testing/driver/handler.js';
import { MemoryDynamoDB } from '../../src/testing/driver/memory-dynamodb.js';
import { MemoryKinesis } from '../../src/testing/driver/memory-kinesis.js';

function services() {
  const ddb = new MemoryDynamoDB();
  const kinesis = new MemoryKinesis('us-east-1');
  const requestHandler = new InProcessHandler({
    DynamoDB_20120810: (op, body) => ddb.call(op, body),
    DynamoDBStreams_20120810: (op, body) => ddb.streams.call(op, body),
    Kinesis_20131202: (op, body) => kinesis.call(op, body),
  });
  const cfg = {
    region: 'us-east-1',
    endpoint: 'http://in-process',
    credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
    requestHandler,
  };
  return {
    ddb,
    dynamodb: new DynamoDBClient(cfg),
    streams: new DynamoDBStreamsClient(cfg),
    kinesis: new KinesisClient(cfg),
  };
}

async function streamRecords(c: ReturnType<typeof services>, table: string) {
  const arn = (await c.dynamodb.send(new DescribeTableCommand({ TableName: table }))).Table!.LatestStreamArn!;
  const shards = (await c.streams.send(new DescribeStreamCommand({ StreamArn: arn }))).StreamDescription!.Shards!;
  const it = await c.streams.send(
    new GetShardIteratorCommand({ StreamArn: arn, ShardId: shards[0]!.ShardId!, ShardIteratorType: 'TRIM_HORIZON' }),
  );
  return (await c.streams.send(new GetRecordsCommand({ ShardIterator: it.ShardIterator }))).Records!;
}

describe('the test driver in-process services, through the SDK clients', () => {
  it('parse and apply condition and update expressions, and stream the images of each write that changed something', async () => {
    const c = services();
    await c.dynamodb.send(
      new CreateTableCommand({
        TableName: 'orders',
        KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
        AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
        BillingMode: 'PAY_PER_REQUEST',
        StreamSpecification: { StreamEnabled: true, StreamViewType: 'NEW_AND_OLD_IMAGES' },
      }),
    );
    await c.dynamodb.send(new PutItemCommand({ TableName: 'orders', Item: { id: { S: 'a' }, n: { N: '1' } } }));
    await c.dynamodb.send(new PutItemCommand({ TableName: 'orders', Item: { id: { S: 'a' }, n: { N: '1' } } })); // changes nothing
    await c.dynamodb.send(
      new UpdateItemCommand({
        TableName: 'orders',
        Key: { id: { S: 'a' } },
        UpdateExpression: 'SET #c = if_not_exists(#c, :z) + :one ADD n :two',
        ExpressionAttributeNames: { '#c': 'count' },
        ExpressionAttributeValues: { ':z': { N: '0' }, ':one': { N: '1' }, ':two': { N: '2' } },
      }),
    );
    await expect(
      c.dynamodb.send(
        new PutItemCommand({
          TableName: 'orders',
          Item: { id: { S: 'a' } },
          ConditionExpression: 'attribute_not_exists(id)',
        }),
      ),
    ).rejects.toBeInstanceOf(ConditionalCheckFailedException);
    await c.dynamodb.send(new DeleteItemCommand({ TableName: 'orders', Key: { id: { S: 'a' } } }));
    const records = await streamRecords(c, 'orders');
    expect(records.map((r) => r.eventName)).toEqual(['INSERT', 'MODIFY', 'REMOVE']);
    expect(records[1]!.dynamodb!.OldImage).toEqual({ id: { S: 'a' }, n: { N: '1' } });
    expect(records[1]!.dynamodb!.NewImage).toEqual({ id: { S: 'a' }, n: { N: '3' }, count: { N: '1' } });
    const seqs = records.map((r) => BigInt(r.dynamodb!.SequenceNumber!));
    expect([...seqs].sort((a, b) => (a < b ? -1 : 1))).toEqual(seqs);
  });

  it('cancel a transaction with a reason per item, and apply every write of one whose conditions hold', async () => {
    const c = services();
    await createTable(c.dynamodb, {
      name: 'counts',
      partitionKey: { name: 'pk', type: 'S' },
      sortKey: { name: 'sk', type: 'S' },
    });
    const put = (sk: string) => ({
      Put: {
        TableName: 'counts',
        Item: { pk: { S: 'p' }, sk: { S: sk } },
        ConditionExpression: 'attribute_not_exists(pk)',
      },
    });
    await c.dynamodb.send(new TransactWriteItemsCommand({ TransactItems: [put('a'), put('b')] }));
    const failed = await c.dynamodb
      .send(new TransactWriteItemsCommand({ TransactItems: [put('c'), put('a')] }))
      .catch((e: unknown) => e);
    expect(failed).toBeInstanceOf(TransactionCanceledException);
    expect((failed as TransactionCanceledException).CancellationReasons!.map((r) => r.Code)).toEqual([
      'None',
      'ConditionalCheckFailed',
    ]);
    const items = await c.dynamodb.send(
      new QueryCommand({
        TableName: 'counts',
        KeyConditionExpression: 'pk = :p AND begins_with(sk, :x)',
        ExpressionAttributeValues: { ':p': { S: 'p' }, ':x': { S: '' } },
      }),
    );
    expect(items.Items!.map((i) => i.sk!.S)).toEqual(['a', 'b']);
  });

  it('route Kinesis records by partition key hash, in order per shard, and close a split parent with its children', async () => {
    const c = services();
    await c.kinesis.send(new CreateStreamCommand({ StreamName: 'clicks', ShardCount: 2 }));
    const put = (n: number, from: number) =>
      c.kinesis.send(
        new PutRecordsCommand({
          StreamName: 'clicks',
          Records: Array.from({ length: n }, (_, i) => ({
            PartitionKey: `k${(from + i) % 5}`,
            Data: Buffer.from(String(from + i)),
          })),
        }),
      );
    const first = await put(20, 0);
    const [s0] = (await c.kinesis.send(new ListShardsCommand({ StreamName: 'clicks' }))).Shards!;
    await c.kinesis.send(
      new SplitShardCommand({
        StreamName: 'clicks',
        ShardToSplit: s0!.ShardId!,
        NewStartingHashKey: (BigInt(s0!.HashKeyRange!.StartingHashKey!) + 2n ** 125n).toString(),
      }),
    );
    await put(20, 20);
    const shards = (await c.kinesis.send(new ListShardsCommand({ StreamName: 'clicks' }))).Shards!;
    expect(shards).toHaveLength(4);
    expect(shards.filter((s) => s.ParentShardId === s0!.ShardId)).toHaveLength(2);
    const it = await c.kinesis.send(
      new KinesisIterator({ StreamName: 'clicks', ShardId: s0!.ShardId!, ShardIteratorType: 'TRIM_HORIZON' }),
    );
    const got = await c.kinesis.send(new KinesisGetRecords({ ShardIterator: it.ShardIterator }));
    // The parent holds exactly the records put on it before the split, in order, and is closed.
    const onParent = first.Records!.flatMap((r, i) => (r.ShardId === s0!.ShardId ? [String(i)] : []));
    expect(got.Records!.map((r) => Buffer.from(r.Data!).toString())).toEqual(onParent);
    expect(got.NextShardIterator).toBeUndefined();
    expect(got.ChildShards).toHaveLength(2);
  });
});
