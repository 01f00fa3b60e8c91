import { DeleteItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { inspect } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import {
  app,
  dynamodbTable,
  fetchBase,
  indexView,
  pipeline,
  queryView,
  Runner,
  type TableIO,
  type View,
} from '../../src/index.js';
import { destroyClients } from '../../src/runtime/clients.js';
import { createTable, scanAll } from '../../src/testing/tables.js';
import { eventually, fastRunner, testClients, unique } from '../helpers.js';

interface Order {
  orderId: string;
  customerId: string;
  total: number;
  status: string;
  note?: string;
}

interface Profile {
  id: string;
  handle?: unknown;
  bio?: string;
}

interface Letter {
  code: string;
  message: string;
  stage: string;
  record: string;
}

/** Counts of the requests a view sent through its TableIO. */
interface Writes {
  puts: number;
  deletes: number;
}

/** The TableIO the runner hands the view, wrapped to count the write requests that reach DynamoDB. */
function countingIo(io: TableIO, writes: Writes): TableIO {
  return {
    table: io.table,
    batchWrite: (requests, unitsOf) => {
      writes.puts += requests.filter((r) => r.PutRequest).length;
      writes.deletes += requests.filter((r) => r.DeleteRequest).length;
      return io.batchWrite(requests, unitsOf);
    },
    put: (i, u, g) => io.put(i, u, g),
    delete: (i, u, g) => io.delete(i, u, g),
    update: (i, u, g) => io.update(i, u, g),
    transactWrite: (i, u) => io.transactWrite(i, u),
    batchGet: (k, p, c) => io.batchGet(k, p, c),
    query: (i, u) => io.query(i, u),
    scan: (i, u) => io.scan(i, u),
  };
}

/** The same view, given a counting TableIO when the runner opens it. */
function counted<O>(view: View<O>, writes: Writes): View<O> {
  return {
    name: view.name,
    tables: (now) => view.tables(now),
    open: (env) => view.open!({ ...env, io: (t) => countingIo(env.io(t), writes) }),
    write: (outputs, ctx) => view.write(outputs, ctx),
    flush: () => view.flush?.() ?? Promise.resolve(),
  };
}

/** JSON with object keys sorted: equal for equal rows whatever the attribute order. */
const canon = (v: unknown): string =>
  JSON.stringify(v, (_k, x: unknown) =>
    x && typeof x === 'object' && !Array.isArray(x)
      ? Object.fromEntries(Object.entries(x).sort(([a], [b]) => a.localeCompare(b)))
      : x,
  );
const byOrder = (a: { orderId: string }, b: { orderId: string }) => a.orderId.localeCompare(b.orderId);

describe('index view', () => {
  const clients = testClients();
  afterAll(() => destroyClients(clients));

  it('keeps exactly the expected rows through insert, no-op modify, projection change, key-changing modify and remove; the query helper returns base items', async () => {
    const src = unique('orders');
    const view = indexView({
      table: unique('orders_by_customer'),
      partitionKey: { name: 'customerId', type: 'S' },
      sortKey: { name: 'orderId', type: 'S' },
      key: (o: Order) => ({ customerId: o.customerId, orderId: o.orderId }),
      project: ['total', 'status'],
      base: { table: src, key: ['orderId'] },
    });
    await createTable(clients.dynamodb, {
      name: src,
      partitionKey: { name: 'orderId', type: 'S' },
      stream: 'NEW_AND_OLD_IMAGES',
    });
    await createTable(clients.dynamodb, view.tables()[0]!);
    const writes: Writes = { puts: 0, deletes: 0 };
    const runner = new Runner(
      app(unique('ix'), [pipeline('orders-by-customer').from(dynamodbTable<Order>(src)).to(counted(view, writes))]),
      { ...fastRunner, clients },
    );
    await runner.start();

    const putOrder = (o: Order) =>
      clients.dynamodb.send(new PutItemCommand({ TableName: src, Item: marshall(o, { removeUndefinedValues: true }) }));
    const rows = async () =>
      (await scanAll<Record<string, unknown>>(clients.dynamodb, view.table)).sort((a, b) =>
        `${a.customerId}|${a.orderId}`.localeCompare(`${b.customerId}|${b.orderId}`),
      );
    const rowsAre = async (want: Record<string, unknown>[], what: string) => {
      await eventually(async () => canon(await rows()) === canon(want), 60_000, what).catch(async (e: unknown) => {
        throw new Error(`${(e as Error).message}; rows: ${JSON.stringify(await rows())}`);
      });
    };

    const orders: Order[] = [
      { orderId: 'o1', customerId: 'c1', total: 10, status: 'placed', note: 'ring twice' },
      { orderId: 'o2', customerId: 'c1', total: 20, status: 'placed' },
      { orderId: 'o3', customerId: 'c1', total: 30, status: 'placed' },
      { orderId: 'o4', customerId: 'c2', total: 40, status: 'placed' },
    ];
    for (const o of orders) await putOrder(o);
    // Insert: key attributes plus the projection, nothing else (no `note`).
    await rowsAre(
      [
        { customerId: 'c1', orderId: 'o1', total: 10, status: 'placed' },
        { customerId: 'c1', orderId: 'o2', total: 20, status: 'placed' },
        { customerId: 'c1', orderId: 'o3', total: 30, status: 'placed' },
        { customerId: 'c2', orderId: 'o4', total: 40, status: 'placed' },
      ],
      'inserted rows',
    );
    expect(writes).toEqual({ puts: 4, deletes: 0 });

    // No-op modify (only the unprojected `note` changes), then a marker insert: once the marker's
    // row is there, the no-op has been processed too (same shard, in order) — and it sent nothing.
    await putOrder({ ...orders[0]!, note: 'leave at the door' });
    await putOrder({ orderId: 'o5', customerId: 'c3', total: 50, status: 'placed' });
    await eventually(async () => (await rows()).some((r) => r.orderId === 'o5'), 60_000, 'marker row');
    expect(writes).toEqual({ puts: 5, deletes: 0 });

    // Projection change: the row is put again.
    await putOrder({ ...orders[1]!, status: 'paid' });
    await eventually(
      async () => (await rows()).some((r) => r.orderId === 'o2' && r.status === 'paid'),
      60_000,
      'o2 paid',
    );
    expect(writes).toEqual({ puts: 6, deletes: 0 });

    // Key-changing modify: o3 moves from c1 to c2 — the old row is deleted, the new one put.
    await putOrder({ ...orders[2]!, customerId: 'c2' });
    await eventually(
      async () => (await rows()).some((r) => r.orderId === 'o3' && r.customerId === 'c2'),
      60_000,
      'o3 moved',
    );
    // Remove.
    await clients.dynamodb.send(new DeleteItemCommand({ TableName: src, Key: marshall({ orderId: 'o4' }) }));
    const final = [
      { customerId: 'c1', orderId: 'o1', total: 10, status: 'placed' },
      { customerId: 'c1', orderId: 'o2', total: 20, status: 'paid' },
      { customerId: 'c2', orderId: 'o3', total: 30, status: 'placed' },
      { customerId: 'c3', orderId: 'o5', total: 50, status: 'placed' },
    ];
    await rowsAre(final, 'final rows');
    expect(writes).toEqual({ puts: 7, deletes: 2 });

    // The query helper: typed rows of one partition, in pages, with the base items in page order.
    const page1 = await queryView(view, clients, { partition: 'c1', limit: 1, base: true, consistent: true });
    expect(page1.items).toEqual([{ customerId: 'c1', orderId: 'o1', total: 10, status: 'placed' }]);
    expect(page1.base).toEqual([{ ...orders[0], note: 'leave at the door' }]);
    expect(page1.lastEvaluatedKey).toBeDefined();
    const page2 = await queryView(view, clients, {
      partition: 'c1',
      exclusiveStartKey: page1.lastEvaluatedKey,
      base: true,
    });
    expect(page2.items.map((r) => r.orderId)).toEqual(['o2']);
    expect(page2.base).toEqual([{ ...orders[1], status: 'paid' }]);
    const desc = await queryView(view, clients, { partition: 'c2', scanForward: false });
    expect(desc.items.map((r) => r.orderId)).toEqual(['o3']);
    expect(desc.lastEvaluatedKey).toBeUndefined();
    const all = [
      ...(await queryView(view, clients, { partition: 'c1' })).items,
      ...(await queryView(view, clients, { partition: 'c2' })).items,
      ...(await queryView(view, clients, { partition: 'c3' })).items,
    ];
    const bases = await fetchBase(view, clients, all);
    expect(bases.map((b) => b?.orderId)).toEqual(['o1', 'o2', 'o3', 'o5']);
    const sourceItems = (await scanAll<Order>(clients.dynamodb, src)).sort(byOrder);
    expect([...bases].sort((a, b) => byOrder(a!, b!))).toEqual(sourceItems);

    const r = await runner.stop();
    expect(r.error).toBeUndefined();
    expect(await runner.metrics.sum('tributary_dead_letters_total')).toBe(0);
  });

  it('refuses to start when the view table is missing or keyed differently from the declaration', async () => {
    const src = unique('orders');
    await createTable(clients.dynamodb, {
      name: src,
      partitionKey: { name: 'orderId', type: 'S' },
      stream: 'NEW_AND_OLD_IMAGES',
    });
    const declare = (table: string) =>
      indexView({
        table,
        partitionKey: { name: 'customerId', type: 'S' },
        sortKey: { name: 'orderId', type: 'S' },
        key: (o: Order) => ({ customerId: o.customerId, orderId: o.orderId }),
      });
    const missing = declare(unique('nowhere'));
    const start = (v: ReturnType<typeof declare>) =>
      new Runner(app(unique('ix_cfg'), [pipeline('p').from(dynamodbTable<Order>(src)).to(v)]), {
        ...fastRunner,
        clients,
      }).start();
    const notFound = await start(missing).catch((e: unknown) => e);
    expect(notFound).toMatchObject({ code: 'view.tableMissing' });
    // What a logger or a test report can print of it stays small (the SDK's HTTP response is not
    // kept) and still names the service's error and its request id. Stack frames are left out of
    // the count: their length follows where the checkout lives, not what the error keeps.
    const printed = inspect(notFound, { showHidden: true, depth: null, maxStringLength: null }).replace(
      /^\s+at .*$/gm,
      '',
    );
    expect(printed.length).toBeLessThan(4_000);
    expect(printed).toContain('ResourceNotFoundException');
    expect((notFound as Error).cause).toMatchObject({
      $metadata: { httpStatusCode: 400, requestId: expect.any(String) },
    });
    const other = unique('keyed_otherwise');
    await createTable(clients.dynamodb, { name: other, partitionKey: { name: 'customerId', type: 'S' } });
    await expect(start(declare(other))).rejects.toMatchObject({
      code: 'config.invalid',
      message: expect.stringMatching(
        /has key customerId \(S\) \/ none, the view declares customerId \(S\) \/ orderId \(S\)/,
      ),
    });
  });

  it('sends items without a valid key, or whose row is over 400 KB, to the dead letters with the reason, and goes on', async () => {
    const src = unique('profiles');
    const view = indexView({
      table: unique('profiles_by_handle'),
      partitionKey: { name: 'handle', type: 'S' },
      key: (p: Profile) => ({ handle: p.handle as string }),
      // Derived data can outgrow the base item: two copies of a 250 KB bio.
      project: (p) => ({ id: p.id, bio: p.bio, bioPreview: p.bio }),
    });
    await createTable(clients.dynamodb, {
      name: src,
      partitionKey: { name: 'id', type: 'S' },
      stream: 'NEW_AND_OLD_IMAGES',
    });
    await createTable(clients.dynamodb, view.tables()[0]!);
    const def = app(unique('ix_bad'), [pipeline('by-handle').from(dynamodbTable<Profile>(src)).to(view)]);
    const runner = new Runner(def, { ...fastRunner, clients });
    await runner.start();

    const profiles: Profile[] = [
      { id: 'p1', handle: 'ann', bio: 'hi' },
      { id: 'p2', bio: 'no handle at all' },
      { id: 'p3', handle: { first: 'bo' }, bio: 'a map' },
      { id: 'p4', handle: ['cy'], bio: 'a list' },
      { id: 'p5', handle: true, bio: 'a boolean' },
      { id: 'p6', handle: '', bio: 'an empty string' },
      { id: 'p7', handle: 'big', bio: 'x'.repeat(250_000) },
      { id: 'p8', handle: 'zed', bio: 'after the bad ones' },
    ];
    for (const p of profiles)
      await clients.dynamodb.send(
        new PutItemCommand({ TableName: src, Item: marshall(p, { removeUndefinedValues: true }) }),
      );

    await eventually(
      async () => (await scanAll(clients.dynamodb, def.deadLetters.tableName)).length === 6,
      60_000,
      'dead letters',
    );
    await eventually(async () => (await scanAll(clients.dynamodb, view.table)).length === 2, 60_000, 'good rows');
    await runner.stop();

    const rows = (await scanAll<{ handle: string; id: string }>(clients.dynamodb, view.table))
      .map((r) => [r.handle, r.id])
      .sort();
    expect(rows).toEqual([
      ['ann', 'p1'],
      ['zed', 'p8'],
    ]);
    const letters = await scanAll<Letter>(clients.dynamodb, def.deadLetters.tableName);
    const byId = new Map(letters.map((l) => [(JSON.parse(l.record) as { newImage: Profile }).newImage.id, l]));
    const reason = (id: string) => [byId.get(id)?.code, byId.get(id)?.message];
    expect(reason('p2')).toEqual(['view.invalidKey', expect.stringMatching(/key attribute 'handle' is missing/)]);
    expect(reason('p3')).toEqual([
      'view.invalidKey',
      expect.stringMatching(
        /key attribute 'handle' is an object; a key attribute must be a non-empty string, a number or non-empty binary/,
      ),
    ]);
    expect(reason('p4')).toEqual(['view.invalidKey', expect.stringMatching(/key attribute 'handle' is an array/)]);
    expect(reason('p5')).toEqual(['view.invalidKey', expect.stringMatching(/key attribute 'handle' is a boolean/)]);
    expect(reason('p6')).toEqual([
      'view.invalidKey',
      expect.stringMatching(/key attribute 'handle' is an empty string/),
    ]);
    expect(reason('p7')).toEqual(['sink.itemTooLarge', expect.stringMatching(/400 KB/)]);
    // Errors of the view's writes, not of the user's operators.
    expect(letters.map((l) => l.stage)).toEqual(letters.map(() => 'sink'));
    // Records in = applied + dead letters.
    expect(await runner.metrics.sum('tributary_records_in_total', { pipeline: 'by-handle' })).toBe(8);
    expect(await runner.metrics.sum('tributary_records_applied_total', { pipeline: 'by-handle' })).toBe(2);
    expect(await runner.metrics.sum('tributary_dead_letters_total', { pipeline: 'by-handle' })).toBe(6);
  });
});
