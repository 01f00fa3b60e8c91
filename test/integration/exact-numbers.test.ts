import { GetItemCommand, PutItemCommand, ScanCommand, type AttributeValue } from '@aws-sdk/client-dynamodb';
import { filter, map } from 'rxjs';
import { afterAll, describe, expect, it } from 'vitest';
import {
  app,
  getMirrored,
  counterView,
  dynamodbTable,
  indexView,
  mirror,
  pipeline,
  put,
  queryView,
  Runner,
  tableWriter,
  type DynamoChange,
  type DynamoNumber,
} from '../../src/index.js';
import { destroyClients } from '../../src/runtime/clients.js';
import { createTable, scanAll } from '../../src/testing/tables.js';
import { eventually, fastRunner, testClients, unique } from '../helpers.js';

interface Item {
  id: string;
  group: string;
  amount: DynamoNumber;
  [attribute: string]: unknown;
}

/** Numbers DynamoDB stores that a JS number cannot hold exactly, as attribute values. */
const WIDE: Record<string, AttributeValue> = {
  amount: { N: '12345678901234567890.5' },
  pi: { N: '3.1415926535897932384626433832795028841' },
  big: { N: '9.99E+125' },
  tiny: { N: '-1e-130' },
  d38: { N: '-1234567890123456789012345678.9012345678' },
  // The large member is not first.
  set: { NS: ['1', '2.5', '12345678901234567890123456789012345678'] },
  nested: { M: { l: { L: [{ N: '98765432109876543210.123456789' }, { NS: ['7', '1E+100'] }] } } },
};
const COPIED = Object.keys(WIDE);

/** An attribute as DynamoDB answers it, sets sorted (DynamoDB keeps no order in a set). */
function raw(v: AttributeValue | undefined): unknown {
  if (v === undefined) return undefined;
  if (v.NS) return { NS: [...v.NS].sort() };
  if (v.M) return { M: Object.fromEntries(Object.entries(v.M).map(([k, x]) => [k, raw(x)])) };
  if (v.L) return { L: v.L.map(raw) };
  return v;
}
const rawOf = (item: Record<string, AttributeValue>) => Object.fromEntries(COPIED.map((k) => [k, raw(item[k])]));

describe('numbers DynamoDB stores, through the stream into views and tables', () => {
  const clients = testClients();
  afterAll(() => destroyClients(clients));

  it('reach index views, mirrors and table writers digit for digit; a counter dead-letters the unsafe increment alone', async () => {
    const src = unique('num_src');
    const dst = unique('num_copy');
    await createTable(clients.dynamodb, {
      name: src,
      partitionKey: { name: 'id', type: 'S' },
      stream: 'NEW_AND_OLD_IMAGES',
    });
    await createTable(clients.dynamodb, { name: dst, partitionKey: { name: 'id', type: 'S' } });
    const byAmount = indexView({
      table: unique('num_by_amount'),
      partitionKey: { name: 'group', type: 'S' },
      sortKey: { name: 'amount', type: 'N' },
      key: (i: Item) => ({ group: i.group, amount: i.amount }),
      project: (i: Item) => ({ id: i.id, ...Object.fromEntries(COPIED.map((k) => [k, i[k]])) }),
    });
    const copy = mirror<Item>({ tables: unique('num_mirror'), partitionKey: { name: 'id', type: 'S' } });
    const totals = counterView<DynamoChange<Item>>({
      table: unique('num_totals'),
      partitionKey: 'group',
      key: (c) => ({ group: c.newImage!.group }),
      add: { total: (c) => c.newImage!.amount as number },
    });
    for (const v of [byAmount, copy, totals]) for (const t of v.tables()) await createTable(clients.dynamodb, t);

    const def = app(unique('num'), [
      pipeline('index').from(dynamodbTable<Item>(src)).to(byAmount),
      pipeline('mirror').from(dynamodbTable<Item>(src)).to(copy),
      pipeline('copy')
        .from(dynamodbTable<Item>(src))
        .pipe(
          filter((c) => c.kind !== 'remove'),
          map((c) => put(c.newImage!)),
        )
        .to(tableWriter(dst)),
      pipeline('totals').from(dynamodbTable<Item>(src)).to(totals),
    ]);
    const runner = new Runner(def, { ...fastRunner, clients });
    await runner.start();

    // A plain item before and after the wide one: the wide one used to block the shard, and the
    // one before it was never applied either.
    const plain = (id: string, amount: string): Record<string, AttributeValue> => ({
      id: { S: id },
      group: { S: 'g' },
      amount: { N: amount },
    });
    await clients.dynamodb.send(new PutItemCommand({ TableName: src, Item: plain('a', '5') }));
    await clients.dynamodb.send(
      new PutItemCommand({ TableName: src, Item: { id: { S: 'b' }, group: { S: 'g' }, ...WIDE } }),
    );
    await clients.dynamodb.send(new PutItemCommand({ TableName: src, Item: plain('c', '7') }));

    const stored = (await clients.dynamodb.send(new GetItemCommand({ TableName: src, Key: { id: { S: 'b' } } }))).Item!;
    // DynamoDB keeps all 38 digits: the targets must hold what the source holds.
    expect(stored.pi).toEqual({ N: '3.1415926535897932384626433832795028841' });
    const want = rawOf(stored);

    const scan = async (table: string) => (await clients.dynamodb.send(new ScanCommand({ TableName: table }))).Items!;
    const letters = async () =>
      (await scan(def.deadLetters.tableName).catch(() => [])) as Record<string, AttributeValue>[];
    await eventually(
      async () =>
        (await scan(byAmount.table)).length === 3 &&
        (await scan(copy.tables()[0]!.name)).length === 3 &&
        (await scan(dst)).length === 3 &&
        (await scan(totals.tables()[0]!.name))[0]?.total?.N === '12' &&
        (await letters()).length === 1,
      60_000,
      'every target to hold the three items, and the counter its total',
    );

    const find = async (table: string) => (await scan(table)).find((i) => i.id?.S === 'b')!;
    const indexRow = await find(byAmount.table);
    expect(indexRow.amount).toEqual(stored.amount);
    expect(rawOf(indexRow)).toEqual(want);
    expect(rawOf(await find(copy.tables()[0]!.name))).toEqual(want);
    expect(rawOf(await find(dst))).toEqual(want);

    // The read helpers give the numbers back without throwing: wide ones as NumberValue, with their text.
    const page = await queryView(byAmount, clients, { partition: 'g' });
    expect(page.items.map((r) => String((r as Item).amount))).toEqual(['5', '7', WIDE.amount!.N]);
    const mirrored = await getMirrored(copy, clients, { id: 'b' });
    expect(String(mirrored?.pi)).toBe(WIDE.pi!.N);
    const copied = (await scanAll<Item>(clients.dynamodb, dst)).find((i) => i.id === 'b');
    expect(String(copied?.d38)).toBe(WIDE.d38!.N);

    const [letter] = await letters();
    expect(letter?.code?.S).toBe('view.invalidIncrement');
    expect(letter?.pipeline?.S).toBe('totals');
    expect(letter?.message?.S).toContain(`NumberValue ${WIDE.amount!.N}`);
    expect((await runner.stop()).error).toBeUndefined();
  });
});
