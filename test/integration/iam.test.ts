import { DeleteItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { PutRecordsCommand } from '@aws-sdk/client-kinesis';
import { marshall } from '@aws-sdk/util-dynamodb';
import { afterAll, describe, expect, it } from 'vitest';
import { appTables } from '../../src/core/app-tables.js';
import type { DynamoChange } from '../../src/core/records.js';
import type { StreamSource } from '../../src/core/source.js';
import { app, counterView, pipeline, Runner } from '../../src/index.js';
import { destroyClients } from '../../src/runtime/clients.js';
import { iamPolicy } from '../../src/runtime/iam/policy.js';
import { createStream, createTable, scanAll } from '../../src/testing/tables.js';
import { tablePrefix } from '../../src/views/tables/naming.js';
import shop from '../../examples/shop.js';
import userMirror from '../../examples/mirror.js';
import { eventually, fastRunner, testClients, unique } from '../helpers.js';
import { allows, CallRecorder, unused } from './iam-calls.js';

type Order = { orderId: string; customerId: string; total: number; status: string };

const scope = { region: 'us-east-1', account: '123456789012' };

describe('tributary iam', () => {
  const clients = testClients();
  // The runner's own clients: every call on them is recorded, none of the test's.
  const recorded = testClients();
  afterAll(() => {
    destroyClients(clients);
    destroyClients(recorded);
  });

  it('allows every call a running app makes (DynamoDB and Kinesis sources, index, counter, table writer, bridge, mirror, exactly-once, dead letters), and names only concrete actions', async () => {
    const recorder = new CallRecorder(recorded, scope);
    const prefix = tablePrefix(`${unique('iam')}_`);
    // examples/shop.ts and examples/mirror.ts together, and an exactly-once counter on the orders.
    const orders = shop.pipelines.find((p) => p.name === 'open-orders')!.source as StreamSource<DynamoChange<Order>>;
    const perStatus = pipeline('orders-per-status')
      .from(orders)
      .with({ guarantee: 'exactly-once' })
      .to(
        counterView<DynamoChange<Order>>({
          table: 'iam_orders_per_status',
          partitionKey: 'status',
          key: (c) => ({ status: (c.newImage ?? c.oldImage)!.status }),
          add: { orders: 1 },
          decrementOnRemove: true,
        }),
      );
    const def = app(unique('iam'), [...shop.pipelines, ...userMirror.pipelines, perStatus], {
      tables: [...appTables(shop), ...appTables(userMirror)],
    });
    for (const t of appTables(def)) await createTable(clients.dynamodb, t, prefix.physical(t.name));
    for (const s of [...(shop.dev?.streams ?? []), ...(userMirror.dev?.streams ?? [])])
      await createStream(clients.kinesis, s.name, s.shards);

    const started = Date.now();
    const runner = new Runner(def, { ...fastRunner, clients: recorded, tableName: prefix.physical });
    await runner.start();
    try {
      const ordersTable = prefix.physical('shop_orders');
      const putOrder = (o: Order) =>
        clients.dynamodb.send(new PutItemCommand({ TableName: ordersTable, Item: marshall(o) }));
      await putOrder({ orderId: 'o1', customerId: 'c1', total: 10, status: 'placed' });
      await putOrder({ orderId: 'o2', customerId: 'c2', total: 20, status: 'placed' });
      await putOrder({ orderId: 'o1', customerId: 'c1', total: 10, status: 'paid' });
      await clients.dynamodb.send(new DeleteItemCommand({ TableName: ordersTable, Key: marshall({ orderId: 'o2' }) }));
      const click = (page: string, at: unknown) => ({
        PartitionKey: page,
        Data: Buffer.from(JSON.stringify({ page, userId: 'u1', at })),
      });
      // The last one fails the click schema: it goes to the dead letters.
      await clients.kinesis.send(
        new PutRecordsCommand({
          StreamName: 'shop_clicks',
          Records: [click('/', 1_700_000_000_000), click('/cart', 1_700_000_001_000), click('/', 'yesterday')],
        }),
      );
      const usersTable = prefix.physical('mirror_users');
      await clients.dynamodb.send(
        new PutItemCommand({
          TableName: usersTable,
          Item: marshall({ userId: 'u1', name: 'Ann', plan: 'free', credits: 100 }),
        }),
      );

      const rows = (t: string) => scanAll(clients.dynamodb, prefix.physical(t));
      await eventually(async () => (await rows('shop_orders_by_customer')).length === 1, 60_000, 'the index view');
      await eventually(async () => (await rows('shop_page_last_click')).length === 2, 60_000, 'the table writer');
      await eventually(async () => (await rows('shop_page_clicks')).length === 2, 60_000, 'the click counter');
      await eventually(
        async () => (await rows('iam_orders_per_status')).some((r) => r.status === 'paid' && r.orders === 1),
        60_000,
        'the exactly-once counter',
      );
      await eventually(async () => (await rows('mirror_users_eu')).length === 1, 60_000, 'the mirror');
      await eventually(
        async () => (await rows(def.deadLetters.tableName)).length === 1,
        60_000,
        'the dead letter of the bad click',
      );
    } finally {
      expect((await runner.stop()).error).toBeUndefined();
    }
    const ranMs = Date.now() - started;

    const policy = iamPolicy(def, { ...scope, tableName: prefix.physical }).document;
    const actions = policy.Statement.flatMap((s) => s.Action);
    expect(actions.filter((a) => /[*?]/.test(a))).toEqual([]);
    const calls = recorder.distinct();
    // Every kind of call the app is meant to exercise was made (the recording is not vacuous)...
    const made = new Set(calls.map((c) => c.action));
    for (const a of [
      'dynamodb:CreateTable',
      'dynamodb:DescribeTable',
      'dynamodb:DescribeStream',
      'dynamodb:GetShardIterator',
      'dynamodb:GetRecords',
      'dynamodb:BatchWriteItem',
      'dynamodb:UpdateItem',
      'dynamodb:PutItem',
      'dynamodb:Scan',
      'kinesis:DescribeStreamSummary',
      'kinesis:ListShards',
      'kinesis:GetShardIterator',
      'kinesis:GetRecords',
      'kinesis:PutRecords',
    ])
      expect(made, a).toContain(a);
    // ...and the policy allows each of them on the resource it touched.
    expect(calls.filter((c) => !allows(policy, c))).toEqual([]);
    // Least: what the policy allows and the run did not use is only what this run had no occasion for.
    const arn = (t: string) => `arn:aws:dynamodb:${scope.region}:${scope.account}:table/${prefix.physical(t)}`;
    const noOccasion = [
      // The exactly-once committer reads an item back only when its marks refuse a write (a replay).
      `dynamodb:BatchGetItem ${arn('iam_orders_per_status')}`,
      // Dead letters are written one by one only when DynamoDB refuses a batch of them.
      `dynamodb:PutItem ${arn(def.deadLetters.tableName)}`,
    ];
    expect(unused(policy, calls).filter((u) => !noOccasion.includes(u))).toEqual([]);
    console.log(
      `iam: ${calls.length} distinct calls recorded in ${ranMs} ms, all allowed by ${policy.Statement.length} statements`,
    );
  });
});
