import { map } from 'rxjs';
import { describe, expect, it } from 'vitest';
import {
  app,
  count,
  counterView,
  dynamodbTable,
  json,
  kinesisStream,
  pipeline,
  tap,
  tumblingWindows,
  type DynamoChange,
  type Guarantee,
  type KinesisRecord,
} from '../../src/index.js';
import { TestDriver } from '../../src/testing/index.js';

interface Order {
  id: string;
  customer: string;
  bad?: boolean;
}
interface Row {
  customer: string;
  orders: number;
}

const ordersTable = { name: 'orders', partitionKey: { name: 'id', type: 'S' }, stream: 'NEW_AND_OLD_IMAGES' } as const;

/** Orders per customer; an order marked `bad` makes the pipeline's own code throw. */
const shop = (guarantee: Guarantee = 'at-least-once') =>
  app(
    'shop',
    [
      pipeline('per-customer')
        .from(dynamodbTable<Order>('orders'))
        .with({ guarantee })
        .pipe(
          map((c: DynamoChange<Order>) => {
            if (c.newImage?.bad) throw new TypeError(`order ${c.newImage.id} is bad`);
            return c;
          }),
        )
        .to(
          counterView<DynamoChange<Order>>({
            table: 'per_customer',
            partitionKey: 'customer',
            key: (c) => ({ customer: (c.newImage ?? c.oldImage)!.customer }),
            add: { orders: 1 },
          }),
        ),
    ],
    { tables: [ordersTable] },
  );

const totals = (rows: readonly Row[]) => Object.fromEntries(rows.map((r) => [r.customer, r.orders]));
const sum = (rows: readonly Row[]) => rows.reduce((n, r) => n + r.orders, 0);

async function putOrders(driver: TestDriver, n: number, from = 0): Promise<void> {
  for (let i = from; i < from + n; i++) await driver.table<Order>('orders').put({ id: `o${i}`, customer: `c${i % 5}` });
}

describe('TestDriver', () => {
  it('counts every order of a table stream once, and leaves the checkpoint at the last record', async () => {
    const driver = await TestDriver.start(() => shop());
    try {
      await putOrders(driver, 200);
      await driver.settle();
      expect(totals(await driver.table<Row>('per_customer').items())).toEqual({
        c0: 40,
        c1: 40,
        c2: 40,
        c3: 40,
        c4: 40,
      });
      const [cp] = await driver.checkpoints();
      expect(cp).toMatchObject({ source: 'orders', owner: 'test-driver-1' });
      expect(cp!.checkpoint).toMatch(/^\d+$/);
      expect(await driver.metrics.get('tributary_records_applied_total', { pipeline: 'per-customer' })).toBe(200);
    } finally {
      await driver.stop();
    }
  });

  it('moves time only when asked: the clock reads the start time, and a modify and a remove are stream records too', async () => {
    const driver = await TestDriver.start(() => shop(), { startTime: new Date('2030-05-01T00:00:00Z') });
    try {
      expect(new Date(driver.now()).toISOString()).toBe('2030-05-01T00:00:00.000Z');
      await putOrders(driver, 3);
      await driver.table<Order>('orders').update({ id: 'o0' }, { set: { customer: 'c9' } });
      await driver.table<Order>('orders').delete({ id: 'o1' });
      await driver.settle();
      // Inserts, a modify and a remove each count one for the customer of their newest image.
      expect(totals(await driver.table<Row>('per_customer').items())).toEqual({ c0: 1, c1: 2, c2: 1, c9: 1 });
      const before = driver.now();
      await driver.advance(60_000);
      expect(driver.now() - before).toBe(60_000);
    } finally {
      await driver.stop();
    }
    // The process has its own clock back.
    expect(Math.abs(Date.now() - new Date().getTime())).toBeLessThan(1000);
    expect(new Date().getFullYear()).toBeGreaterThan(2025);
  });

  it('sends a record the pipeline throws on to the dead letters: records in = applied + dead letters', async () => {
    const driver = await TestDriver.start(() => shop());
    try {
      await putOrders(driver, 20);
      await driver.table<Order>('orders').put({ id: 'x', customer: 'c0', bad: true });
      await driver.settle();
      const dead = await driver.deadLetters('per-customer');
      expect(dead.length).toBe(1);
      expect(dead[0]).toMatchObject({ pipeline: 'per-customer', stage: 'pipeline' });
      expect(dead[0]!.message).toContain('order x is bad');
      expect(sum(await driver.table<Row>('per_customer').items())).toBe(20);
      const m = driver.metrics;
      expect(await m.get('tributary_records_in_total', { pipeline: 'per-customer' })).toBe(21);
      expect(await m.sum('tributary_dead_letters_total', { pipeline: 'per-customer' })).toBe(1);
    } finally {
      await driver.stop();
    }
  });

  it('rides out a view table that throttles for 20 s and one that fails 5 calls: nothing lost, the governor saw the throttling', async () => {
    const driver = await TestDriver.start(() => shop());
    try {
      driver.faults.throttle('per_customer', { forMs: 20_000 });
      await putOrders(driver, 100);
      await driver.settle();
      expect(sum(await driver.table<Row>('per_customer').items())).toBe(100);
      expect(driver.faults.injected('per_customer')).toBeGreaterThan(0);
      expect(await driver.metrics.sum('tributary_capacity_throttled_total', { table: 'per_customer' })).toBeGreaterThan(
        0,
      );

      driver.faults.fail('per_customer', { calls: 5 });
      await putOrders(driver, 50, 100);
      await driver.settle();
      expect(driver.faults.injected('per_customer')).toBeGreaterThan(5);
      expect(sum(await driver.table<Row>('per_customer').items())).toBe(150);
      expect(await driver.deadLetters()).toEqual([]);
    } finally {
      await driver.stop();
    }
  });

  it('crashes at a chosen record and restarts: at-least-once never loses an order, exactly-once counts each once', async () => {
    for (const guarantee of ['at-least-once', 'exactly-once'] as const) {
      const driver = await TestDriver.start(() => shop(guarantee));
      try {
        await putOrders(driver, 100);
        await driver.settle();
        driver.crashAt({ pipeline: 'per-customer', record: 50 });
        // One order every 100 ms: the view's writes land between checkpoints (one a second).
        for (let i = 100; i < 200; i++) {
          await driver.table<Order>('orders').put({ id: `o${i}`, customer: `c${i % 5}` });
          await driver.advance(100);
        }
        await driver.settle();
        // The new start took the dead one's lease once it expired.
        expect((await driver.checkpoints())[0]!.owner).toBe('test-driver-2');
        const total = sum(await driver.table<Row>('per_customer').items());
        if (guarantee === 'exactly-once') expect(total).toBe(200);
        else expect(total).toBeGreaterThanOrEqual(200);
        // The new start read again from the dead one's last checkpoint, behind record 50.
        expect(await driver.metrics.get('tributary_records_in_total', { pipeline: 'per-customer' })).toBeGreaterThan(
          50,
        );
      } finally {
        await driver.stop();
      }
    }
  });

  it("reads Kinesis records across a shard split, parents before children, and publishes a tap's windows as time passes", async () => {
    interface Click {
      page: string;
      at: number;
    }
    const clicks = kinesisStream<Click>('clicks', { decode: json<Click>() });
    const build = () =>
      app(
        'site',
        [
          pipeline('per-page')
            .from(clicks)
            .to(
              counterView<KinesisRecord<Click>>({
                table: 'per_page',
                partitionKey: 'page',
                key: (r) => ({ page: r.value.page }),
                add: { clicks: 1 },
              }),
            ),
          tap('clicks-per-minute', { from: clicks, window: tumblingWindows(60_000), aggregate: { clicks: count() } }),
        ],
        { dev: { streams: [{ name: 'clicks', shards: 2 }] } },
      );
    const driver = await TestDriver.start(build);
    try {
      const stream = driver.stream('clicks');
      const pages = ['/', '/a', '/b', '/c'];
      for (let i = 0; i < 40; i++)
        await stream.put({ page: pages[i % 4], at: driver.now() }, { partitionKey: `u${i}` });
      const [first] = await stream.putMany([{ data: { page: '/', at: driver.now() }, partitionKey: 'u0' }]);
      await stream.split(first!.shardId);
      for (let i = 0; i < 40; i++)
        await stream.put({ page: pages[i % 4], at: driver.now() }, { partitionKey: `u${i}` });
      await driver.settle();
      const rows = await driver.table<{ page: string; clicks: number }>('per_page').items();
      expect(Object.fromEntries(rows.map((r) => [r.page, r.clicks]))).toEqual({
        '/': 21,
        '/a': 20,
        '/b': 20,
        '/c': 20,
      });
      const cps = await driver.checkpoints();
      expect(cps.length).toBe(4);
      expect(cps.filter((c) => c.checkpoint === 'SHARD_END').length).toBe(1);

      // The minute's window closes once time passes its end (and the idle shards stop holding the watermark).
      await driver.advance(120_000);
      await driver.stream('clicks').put({ page: '/', at: driver.now() }, { partitionKey: 'late' });
      await driver.advance(5_000);
      const finals = driver.tapEvents('clicks-per-minute').filter((e) => e.type === 'final');
      expect(finals.length).toBeGreaterThan(0);
      expect(finals.reduce((n, e) => n + (e.type === 'final' ? (e.value as { clicks: number }).clicks : 0), 0)).toBe(
        81,
      );
    } finally {
      await driver.stop();
    }
  });
});

describe('exactly-once after a crash, on the driver', () => {
  it("a replay whose decrement the dead worker applied and whose increment it never saw still counts the increment (net zero is not 'nothing to do')", async () => {
    interface Item {
      id: string;
      owner: string;
    }
    const build = () =>
      app(
        'owners',
        [
          pipeline('per-owner')
            .from(dynamodbTable<Item>('items'))
            .with({ guarantee: 'exactly-once' })
            .to(
              counterView<DynamoChange<Item>>({
                table: 'per_owner',
                partitionKey: 'owner',
                key: (c) => ({ owner: (c.newImage ?? c.oldImage)!.owner }),
                add: { items: 1 },
                decrementOnRemove: true,
              }),
            ),
        ],
        { tables: [{ name: 'items', partitionKey: { name: 'id', type: 'S' }, stream: 'NEW_AND_OLD_IMAGES' }] },
      );
    // Checkpoints far apart: the dead worker's last commit is ahead of its checkpoint.
    const driver = await TestDriver.start(build, { runner: { checkpointIntervalMs: 60_000 } });
    try {
      const items = driver.table<Item>('items');
      await items.put({ id: 'x', owner: 'b' });
      await items.put({ id: 'y', owner: 'b' });
      await driver.advance(2_000); // both counted and checkpointed
      await items.delete({ id: 'x' });
      await driver.advance(2_000); // the decrement is committed (b's row is marked); the next checkpoint is a minute away
      expect((await driver.table<{ owner: string; items: number }>('per_owner').get({ owner: 'b' }))?.items).toBe(1);
      driver.crash();
      await items.put({ id: 'z', owner: 'b' });
      await driver.restart();
      await driver.settle();
      expect((await driver.table<{ owner: string; items: number }>('per_owner').get({ owner: 'b' }))?.items).toBe(2);
      expect(await driver.deadLetters()).toEqual([]);
    } finally {
      await driver.stop();
    }
  });
});
