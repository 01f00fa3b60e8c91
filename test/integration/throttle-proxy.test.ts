import {
  BatchGetItemCommand,
  BatchWriteItemCommand,
  CreateTableCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  TransactWriteItemsCommand,
  UpdateItemCommand,
  UpdateTableCommand,
  type WriteRequest,
} from '@aws-sdk/client-dynamodb';
import { DescribeStreamCommand, DynamoDBStreamsClient, ListStreamsCommand } from '@aws-sdk/client-dynamodb-streams';
import { marshall } from '@aws-sdk/util-dynamodb';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { Agent } from 'node:http';
import { crc32 } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { sleep } from '../../src/core/time.js';
import { destroyClients } from '../../src/runtime/clients.js';
import {
  startThrottleProxy,
  type ThrottleProxy,
  type ThrottleProxyOptions,
  type ThrottleStats,
} from '../../src/testing/index.js';
import { createTable, scanAll } from '../../src/testing/tables.js';
import { testClients, unique } from '../helpers.js';

const PTEE_MESSAGE =
  'The level of configured provisioned throughput for the table was exceeded. Consider increasing your provisioning level with the UpdateTable API.';
const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };

/** A client through the proxy that surfaces every throttle (no SDK retries). */
const through = (p: ThrottleProxy) =>
  new DynamoDBClient({
    endpoint: p.endpoint,
    region: 'us-east-1',
    credentials,
    maxAttempts: 1,
    requestHandler: new NodeHttpHandler({ httpAgent: new Agent({ keepAlive: true, maxSockets: 32 }) }),
  });

interface SdkError {
  name: string;
  message: string;
  $metadata: { httpStatusCode?: number };
  ThrottlingReasons?: { reason?: string; resource?: string }[];
  CancellationReasons?: { Code?: string; Message?: string }[];
}
const failure = async (p: Promise<unknown>): Promise<SdkError> => {
  try {
    await p;
  } catch (e) {
    return e as SdkError;
  }
  throw new Error('expected the call to fail');
};
const isThrottle = (e: unknown) => (e as Error).name === 'ProvisionedThroughputExceededException';

describe('throttle proxy in front of DynamoDB Local', () => {
  const direct = testClients();
  const proxies: ThrottleProxy[] = [];
  const clients: DynamoDBClient[] = [];
  const start = async (o: Omit<ThrottleProxyOptions, 'target'>) => {
    const p = await startThrottleProxy({ target: inject('endpoints').dynamodb, ...o });
    proxies.push(p);
    const c = through(p);
    clients.push(c);
    return { proxy: p, ddb: c };
  };
  const table = async (prefix: string, provisioned?: { read: number; write: number }) => {
    const name = unique(prefix);
    await createTable(direct.dynamodb, {
      name,
      partitionKey: { name: 'pk', type: 'S' },
      provisioned,
      stream: 'NEW_IMAGE',
    });
    return name;
  };
  afterAll(async () => {
    for (const c of clients) c.destroy();
    await Promise.all(proxies.map((p) => p.stop()));
    destroyClients(direct);
  });

  it('refuses a write over budget with the error DynamoDB sends, which the SDK parses, and does not forward it', async () => {
    const t = await table('ptee');
    const { proxy, ddb } = await start({ tables: { [t]: { wcu: 1 } } });
    let refused: SdkError | undefined;
    let i = 0;
    for (; i < 10 && !refused; i++)
      refused = await ddb.send(new PutItemCommand({ TableName: t, Item: marshall({ pk: `k${i}` }) })).then(
        () => undefined,
        (e: SdkError) => e,
      );
    expect(refused?.name).toBe('ProvisionedThroughputExceededException');
    expect(refused?.$metadata.httpStatusCode).toBe(400);
    expect(refused?.message).toBe(PTEE_MESSAGE);
    expect(refused?.ThrottlingReasons).toEqual([
      { reason: 'TableWriteProvisionedThroughputExceeded', resource: expect.stringContaining(`:table/${t}`) },
    ]);
    // The refused put never reached DynamoDB Local; the ones before it did.
    expect(
      (
        await direct.dynamodb.send(
          new GetItemCommand({ TableName: t, Key: marshall({ pk: `k${i - 1}` }), ConsistentRead: true }),
        )
      ).Item,
    ).toBeUndefined();
    expect((await scanAll(direct.dynamodb, t)).length).toBe(i - 1);
    expect(proxy.stats(t)).toMatchObject({
      requests: i,
      throttledRequests: 1,
      acceptedItems: i - 1,
      rejectedItems: 1,
      consumedWcu: i - 1,
    });

    await proxy.setBudget(t, { wcu: 0 });
    // On the wire (with the budget at zero, so that the refill cannot let this one through): HTTP 400, DynamoDB's content type, a request id, and a CRC32 of the very body.
    const res = await fetch(proxy.endpoint, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-amz-json-1.0',
        'x-amz-target': 'DynamoDB_20120810.PutItem',
        authorization:
          'AWS4-HMAC-SHA256 Credential=local/20200101/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=0',
      },
      body: JSON.stringify({ TableName: t, Item: { pk: { S: 'raw' } } }),
    });
    const body = Buffer.from(await res.arrayBuffer());
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toBe('application/x-amz-json-1.0');
    expect(res.headers.get('x-amzn-requestid')).toMatch(/^[0-9a-f-]{36}$/);
    expect(res.headers.get('x-amz-crc32')).toBe(String(crc32(body)));
    expect(JSON.parse(body.toString())).toMatchObject({
      __type: 'com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException',
      message: PTEE_MESSAGE,
    });
  });

  it('forwards only the affordable part of a BatchWriteItem and returns exactly the rest as UnprocessedItems', async () => {
    const t = await table('batch');
    const { proxy, ddb } = await start({ tables: { [t]: { wcu: 5 } } });
    const requests: WriteRequest[] = Array.from({ length: 25 }, (_, i) => ({
      PutRequest: { Item: marshall({ pk: `b${String(i).padStart(2, '0')}`, v: 'x'.repeat(100) }) },
    }));
    const out = await ddb.send(
      new BatchWriteItemCommand({ RequestItems: { [t]: requests }, ReturnConsumedCapacity: 'TOTAL' }),
    );
    const unprocessed = (out.UnprocessedItems?.[t] ?? []).map((r) => r.PutRequest!.Item!.pk!.S!);
    expect(unprocessed.length).toBeGreaterThan(0);
    expect(unprocessed.length).toBeLessThan(25);
    const written = (await scanAll<{ pk: string }>(direct.dynamodb, t)).map((i) => i.pk).sort();
    const all = requests.map((r) => r.PutRequest!.Item!.pk!.S!);
    expect(written).toEqual(all.filter((k) => !unprocessed.includes(k)));
    // TOTAL is what the client asked for: no per-index breakdown leaks from the proxy's INDEXES.
    expect(out.ConsumedCapacity).toEqual([{ TableName: t, CapacityUnits: written.length }]);
    expect(proxy.stats(t)).toMatchObject({
      requests: 1,
      partialRequests: 1,
      acceptedItems: written.length,
      unprocessedItems: unprocessed.length,
      consumedWcu: written.length,
    });

    // Nothing affordable at all: the whole batch is refused, as DynamoDB refuses it.
    await proxy.setBudget(t, { wcu: 0 });
    const e = await failure(ddb.send(new BatchWriteItemCommand({ RequestItems: { [t]: requests.slice(0, 3) } })));
    expect(e.name).toBe('ProvisionedThroughputExceededException');
    expect(proxy.stats(t)).toMatchObject({ throttledRequests: 1, rejectedItems: 3 });
  });

  it('returns the keys of a BatchGetItem over budget as UnprocessedKeys, with their projection and consistency', async () => {
    const t = await table('batchget');
    const keys = Array.from({ length: 20 }, (_, i) => `g${String(i).padStart(2, '0')}`);
    for (const pk of keys)
      await direct.dynamodb.send(new PutItemCommand({ TableName: t, Item: marshall({ pk, v: 'x', w: 'y' }) }));
    const { proxy, ddb } = await start({ tables: { [t]: { rcu: 3 } } });
    const out = await ddb.send(
      new BatchGetItemCommand({
        RequestItems: {
          [t]: {
            Keys: keys.map((pk) => marshall({ pk })),
            ConsistentRead: true,
            ProjectionExpression: 'pk, #v',
            ExpressionAttributeNames: { '#v': 'v' },
          },
        },
      }),
    );
    const read = (out.Responses?.[t] ?? []).map((i) => i.pk!.S!).sort();
    const left = out.UnprocessedKeys?.[t];
    expect(read.length).toBeGreaterThan(0);
    expect(left).toMatchObject({
      ConsistentRead: true,
      ProjectionExpression: 'pk, #v',
      ExpressionAttributeNames: { '#v': 'v' },
    });
    expect([...read, ...left!.Keys!.map((k) => k.pk!.S!)].sort()).toEqual(keys);
    expect(out.Responses?.[t]?.[0]).toEqual({ pk: expect.anything(), v: { S: 'x' } });
    expect(proxy.stats(t)).toMatchObject({
      acceptedItems: read.length,
      unprocessedItems: 20 - read.length,
      consumedRcu: read.length,
    });

    // A rewritten answer carries the CRC32 of the rewritten body (after a refill, so that part of the batch goes on).
    await sleep(1_100);
    const res = await fetch(proxy.endpoint, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-amz-json-1.0',
        'x-amz-target': 'DynamoDB_20120810.BatchGetItem',
        authorization:
          'AWS4-HMAC-SHA256 Credential=local/20200101/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=0',
      },
      body: JSON.stringify({
        RequestItems: { [t]: { Keys: keys.map((pk) => ({ pk: { S: pk } })), ConsistentRead: true } },
      }),
    });
    const body = Buffer.from(await res.arrayBuffer());
    expect(res.status).toBe(200);
    expect(Object.keys(JSON.parse(body.toString()).UnprocessedKeys)).toEqual([t]);
    expect(res.headers.get('x-amz-crc32')).toBe(String(crc32(body)));
    expect(res.headers.get('content-length')).toBe(String(body.length));
  });

  it('cancels a transaction over budget with ProvisionedThroughputExceeded reasons the SDK parses', async () => {
    const [limited, free] = [await table('tx_limited'), await table('tx_free')];
    const { proxy, ddb } = await start({ tables: { [limited]: { wcu: 1 } } });
    const put = (tableName: string, pk: string) => ({ Put: { TableName: tableName, Item: marshall({ pk }) } });
    // Two items at twice the cost: admitted on the last unit, leaving the budget in debt.
    await ddb.send(new TransactWriteItemsCommand({ TransactItems: [put(limited, 'a'), put(limited, 'b')] }));
    const e = await failure(
      ddb.send(new TransactWriteItemsCommand({ TransactItems: [put(free, 'c'), put(limited, 'd')] })),
    );
    expect(e.name).toBe('TransactionCanceledException');
    expect(e.$metadata.httpStatusCode).toBe(400);
    expect(e.CancellationReasons).toEqual([
      { Code: 'None' },
      { Code: 'ProvisionedThroughputExceeded', Message: PTEE_MESSAGE },
    ]);
    expect(e.message).toBe(
      'Transaction cancelled, please refer cancellation reasons for specific reasons [None, ProvisionedThroughputExceeded]',
    );
    expect((await scanAll(direct.dynamodb, free)).length).toBe(0);
    expect((await scanAll(direct.dynamodb, limited)).length).toBe(2);
    expect(proxy.stats(limited)).toMatchObject({
      requests: 2,
      throttledRequests: 1,
      acceptedItems: 2,
      rejectedItems: 1,
      consumedWcu: 4,
    });
  });

  it('reads provisioned budgets from the table and follows an UpdateTable that passes through it', async () => {
    const t = await table('provisioned', { read: 5, write: 1 });
    const { proxy, ddb } = await start({ defaultBudget: 'provisioned' });
    const burst = async (n: number, from: number) => {
      let refused = 0;
      for (let i = 0; i < n; i++)
        await ddb
          .send(new PutItemCommand({ TableName: t, Item: marshall({ pk: `u${from + i}` }) }))
          .catch((e: unknown) => (isThrottle(e) ? refused++ : Promise.reject(e)));
      return refused;
    };
    expect(await burst(20, 0)).toBeGreaterThan(10);
    expect(proxy.stats(t).budget).toEqual({ wcu: 1, rcu: 5 });

    await ddb.send(
      new UpdateTableCommand({
        TableName: t,
        ProvisionedThroughput: { ReadCapacityUnits: 5, WriteCapacityUnits: 10_000 },
      }),
    );
    expect(proxy.stats(t).budget).toEqual({ wcu: 10_000, rcu: 5 });
    await sleep(50); // let the debt from the first burst be repaid at the new rate
    expect(await burst(20, 100)).toBe(0);
  });

  it('draws writes from each GSI budget and names the index when one is spent', async () => {
    const t = unique('gsi');
    await direct.dynamodb.send(
      new CreateTableCommand({
        TableName: t,
        AttributeDefinitions: [
          { AttributeName: 'pk', AttributeType: 'S' },
          { AttributeName: 'g', AttributeType: 'S' },
        ],
        KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
        BillingMode: 'PROVISIONED',
        ProvisionedThroughput: { ReadCapacityUnits: 100, WriteCapacityUnits: 1000 },
        GlobalSecondaryIndexes: [
          {
            IndexName: 'by_g',
            KeySchema: [{ AttributeName: 'g', KeyType: 'HASH' }],
            Projection: { ProjectionType: 'ALL' },
            ProvisionedThroughput: { ReadCapacityUnits: 1, WriteCapacityUnits: 2 },
          },
        ],
      }),
    );
    const { proxy, ddb } = await start({ tables: { [t]: 'provisioned' } });
    // Items outside the index (no `g`) cost the index nothing: the table's budget is ample.
    for (let i = 0; i < 10; i++) await ddb.send(new PutItemCommand({ TableName: t, Item: marshall({ pk: `n${i}` }) }));
    let refused: SdkError | undefined;
    for (let i = 0; i < 10 && !refused; i++)
      refused = await ddb.send(new PutItemCommand({ TableName: t, Item: marshall({ pk: `g${i}`, g: 'x' }) })).then(
        () => undefined,
        (e: SdkError) => e,
      );
    expect(refused?.name).toBe('ProvisionedThroughputExceededException');
    expect(refused?.message).toMatch(/one or more global secondary indexes/);
    expect(refused?.ThrottlingReasons?.[0]).toEqual({
      reason: 'IndexWriteProvisionedThroughputExceeded',
      resource: expect.stringMatching(/\/index\/by_g$/),
    });
    const s = proxy.stats(t);
    expect(s.budget).toEqual({ wcu: 1000, rcu: 100, indexes: { by_g: { wcu: 2, rcu: 1 } } });
    expect(s.indexes.by_g).toMatchObject({ throttledRequests: 1 });
    expect(s.indexes.by_g!.consumedWcu).toBeGreaterThanOrEqual(2);
    expect(s.consumedWcu).toBe(s.acceptedItems);
  });

  it('settles to the capacity DynamoDB Local reports and answers at the level the client asked for', async () => {
    const t = await table('settle');
    const { proxy, ddb } = await start({ tables: { [t]: { wcu: 1000, rcu: 1000 } } });
    const big = await ddb.send(
      new PutItemCommand({
        TableName: t,
        Item: marshall({ pk: 'big', v: 'x'.repeat(5000) }),
        ReturnConsumedCapacity: 'TOTAL',
      }),
    );
    expect(big.ConsumedCapacity).toEqual({ TableName: t, CapacityUnits: 5 });
    // The proxy estimates 1 unit for this update from the request; DynamoDB charges the stored item's 5 KB.
    const upd = await ddb.send(
      new UpdateItemCommand({
        TableName: t,
        Key: marshall({ pk: 'big' }),
        UpdateExpression: 'SET w = :w',
        ExpressionAttributeValues: marshall({ ':w': 1 }),
      }),
    );
    expect(upd.ConsumedCapacity).toBeUndefined();
    const get = await ddb.send(
      new GetItemCommand({
        TableName: t,
        Key: marshall({ pk: 'big' }),
        ConsistentRead: true,
        ReturnConsumedCapacity: 'INDEXES',
      }),
    );
    expect(get.ConsumedCapacity).toEqual({ TableName: t, CapacityUnits: 2, Table: { CapacityUnits: 2 } });
    expect(proxy.stats(t)).toMatchObject({ consumedWcu: 10, consumedRcu: 2, acceptedItems: 3 });
  });

  it('passes DynamoDB Streams and control-plane calls through untouched', async () => {
    const t = await table('streams', { read: 1, write: 1 });
    const { proxy } = await start({ defaultBudget: 'provisioned' });
    const streams = new DynamoDBStreamsClient({ endpoint: proxy.endpoint, region: 'us-east-1', credentials });
    try {
      const list = await streams.send(new ListStreamsCommand({ TableName: t }));
      expect(list.Streams).toHaveLength(1);
      const d = await streams.send(new DescribeStreamCommand({ StreamArn: list.Streams![0]!.StreamArn }));
      expect(d.StreamDescription?.TableName).toBe(t);
    } finally {
      streams.destroy();
    }
  });

  describe('sustained writes at 100 WCU', () => {
    let t: string;
    beforeAll(async () => {
      t = await table('sustained');
    });

    it('accepts about 100 units a second however hard it is pushed', async () => {
      const { proxy, ddb } = await start({ tables: { [t]: { wcu: 100 } } });
      let stop = false;
      let n = 0;
      // Counters read the moment a writer hears "over budget": the bucket is empty then, so the
      // window measures the refill rate and not the balance it happened to start or end with.
      let onRefusal: (() => void) | undefined;
      const atRefusal = () => new Promise<ThrottleStats>((resolve) => (onRefusal = () => resolve(proxy.stats(t))));
      const refused = () => {
        const f = onRefusal;
        onRefusal = undefined;
        f?.();
      };
      const writer = async (batch: boolean) => {
        // Like the SDK's retries: jittered backoff growing with consecutive refusals.
        const backoff = async (k: number) => {
          refused();
          await sleep(Math.random() * 25 * 2 ** Math.min(k, 4));
        };
        for (let k = 0; !stop;) {
          const keys = Array.from({ length: batch ? 25 : 1 }, () => `s${n++}`);
          try {
            if (batch) {
              const out = await ddb.send(
                new BatchWriteItemCommand({
                  RequestItems: { [t]: keys.map((pk) => ({ PutRequest: { Item: marshall({ pk }) } })) },
                }),
              );
              k = (out.UnprocessedItems?.[t]?.length ?? 0) > 0 ? (await backoff(k), k + 1) : 0;
            } else {
              await ddb.send(new PutItemCommand({ TableName: t, Item: marshall({ pk: keys[0]! }) }));
              k = 0;
            }
          } catch (e) {
            if (!isThrottle(e)) throw e;
            await backoff(k++);
          }
        }
      };
      // Offered load far above the budget, even when DynamoDB Local is slow to answer on a busy machine.
      const writers = Array.from({ length: 32 }, (_, i) => writer(i >= 2));
      const a = await atRefusal();
      await sleep(5_000);
      const b = await atRefusal();
      stop = true;
      await Promise.all(writers);

      const rate = (b.consumedWcu - a.consumedWcu) / ((b.elapsedMs - a.elapsedMs) / 1000);
      // Never more than the budget (the property that matters); the lower bound is loose because a
      // loaded machine may not push hard enough, which says nothing about the proxy.
      expect(rate).toBeLessThan(115);
      expect(rate).toBeGreaterThan(50);
      // Every accepted item is in the table, and nothing else is.
      const final = proxy.stats(t);
      expect((await scanAll(direct.dynamodb, t)).length).toBe(final.acceptedItems);
      expect(final.consumedWcu).toBe(final.acceptedItems);
    });
  });
});
