// The shop: orders in a DynamoDB table, page clicks on a Kinesis stream, and two views kept
// up to date from them. Run it locally with `npm run dev` (or `tributary dev examples/shop.ts`).
import { DeleteItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { PutRecordsCommand } from '@aws-sdk/client-kinesis';
import { marshall } from '@aws-sdk/util-dynamodb';
import { setTimeout as delay } from 'node:timers/promises';
import { map } from 'rxjs';
import { z } from 'zod';
import {
  app,
  bucket,
  counterView,
  dynamodbTable,
  indexView,
  json,
  kinesisStream,
  pipeline,
  put,
  tableWriter,
  type Clients,
  type DynamoChange,
  type KinesisRecord,
  type TableSpec,
} from '../src/index.js';
import { scanAll } from '../src/testing/index.js';

// ---- Sources ----------------------------------------------------------------------------

type Order = { orderId: string; customerId: string; total: number; status: 'placed' | 'paid' | 'shipped' };

const ClickSchema = z.object({ page: z.string().min(1), userId: z.string(), at: z.number().int() });
type Click = z.infer<typeof ClickSchema>;

const orders = dynamodbTable<Order>('shop_orders');
// Malformed payloads never reach the pipeline: they land in the dead letters with the reason.
const clicks = kinesisStream('shop_clicks', { decode: json(ClickSchema) });

// ---- Views ------------------------------------------------------------------------------

/** The inverted index: a customer's orders, keyed customerId + orderId, with total and status. */
type OrderByCustomer = { customerId: string; orderId: string; total: number; status: Order['status'] };

// A remove deletes the row, a status change rewrites it, a modify that changes nothing projected writes nothing.
const ordersByCustomer = pipeline('orders-by-customer')
  .from(orders)
  .to(
    indexView({
      table: 'shop_orders_by_customer',
      partitionKey: { name: 'customerId', type: 'S' },
      sortKey: { name: 'orderId', type: 'S' },
      key: (o: Order) => ({ customerId: o.customerId, orderId: o.orderId }),
      project: ['total', 'status'],
    }),
  );

// Open orders per customer, live: +1 on insert, -1 on remove.
const openOrders = pipeline('open-orders')
  .from(orders)
  .to(
    counterView<DynamoChange<Order>>({
      table: 'shop_open_orders',
      partitionKey: 'customerId',
      key: (c) => ({ customerId: (c.newImage ?? c.oldImage)!.customerId }),
      add: { orders: 1 },
      decrementOnRemove: true,
    }),
  );

// Clicks per page and minute: many clicks become one ADD per page and minute a flush.
const clicksPerMinute = pipeline('clicks-per-minute')
  .from(clicks)
  .to(
    counterView<KinesisRecord<Click>>({
      table: 'shop_page_clicks',
      partitionKey: 'page',
      sortKey: 'minute',
      key: (r) => ({ page: r.value.page, minute: bucket(r.value.at, '1m') }),
      add: { clicks: 1 },
    }),
  );

// Clicks are partitioned by page, so one page's clicks arrive in order: the last put wins.
const clicksByPage = pipeline('clicks-by-page')
  .from(clicks)
  .pipe(map((r) => put({ page: r.value.page, userId: r.value.userId, at: r.value.at })))
  .to(tableWriter<Click>('shop_page_last_click'));

// ---- Dev loop: tables, generated traffic, a report ---------------------------------------

const tables: TableSpec[] = [
  { name: 'shop_orders', partitionKey: { name: 'orderId', type: 'S' }, stream: 'NEW_AND_OLD_IMAGES' },
  { name: 'shop_page_last_click', partitionKey: { name: 'page', type: 'S' } },
];

type DevContext = { clients: Clients; tableName: (logical: string) => string };

const PAGES = ['/', '/search', '/cart', '/checkout', '/p/kettle', '/p/teapot', '/p/mug'];
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(Math.random() * xs.length)]!;

/** Every ~100 ms: place, advance or cancel an order, and send a few clicks (1 in 15 malformed). */
async function traffic({ clients, tableName, signal }: DevContext & { signal: AbortSignal }): Promise<void> {
  const live = new Map<string, Order>();
  for (let n = 1; !signal.aborted; n++) {
    const existing = live.size > 0 ? pick([...live.values()]) : undefined;
    const roll = Math.random();
    if (!existing || roll < 0.5) {
      const order: Order = {
        orderId: `o${n}`,
        customerId: `c${1 + Math.floor(Math.random() * 5)}`,
        total: Math.round(Math.random() * 20_000) / 100,
        status: 'placed',
      };
      live.set(order.orderId, order);
      await clients.dynamodb.send(new PutItemCommand({ TableName: tableName('shop_orders'), Item: marshall(order) }));
    } else if (roll < 0.85 && existing.status !== 'shipped') {
      const next: Order = { ...existing, status: existing.status === 'placed' ? 'paid' : 'shipped' };
      live.set(next.orderId, next);
      await clients.dynamodb.send(new PutItemCommand({ TableName: tableName('shop_orders'), Item: marshall(next) }));
    } else {
      live.delete(existing.orderId);
      await clients.dynamodb.send(
        new DeleteItemCommand({ TableName: tableName('shop_orders'), Key: marshall({ orderId: existing.orderId }) }),
      );
    }
    const batch = Array.from({ length: 1 + Math.floor(Math.random() * 4) }, () => {
      const click: Click = { page: pick(PAGES), userId: `u${Math.floor(Math.random() * 50)}`, at: Date.now() };
      const malformed = Math.random() < 1 / 15;
      return {
        PartitionKey: click.page,
        Data: Buffer.from(malformed ? JSON.stringify({ ...click, at: 'yesterday' }) : JSON.stringify(click)),
      };
    });
    await clients.kinesis.send(new PutRecordsCommand({ StreamName: 'shop_clicks', Records: batch }));
    await delay(100, undefined, { signal }).catch(() => undefined);
  }
}

/** Row counts of the views, one customer's orders from the index, and the dead letters by reason. */
async function report({ clients, tableName }: DevContext): Promise<string> {
  const scan = (table: string) => scanAll(clients.dynamodb, tableName(table));
  const [source, index, lastClicks, letters, open, perMinute] = await Promise.all([
    scan('shop_orders'),
    scan('shop_orders_by_customer'),
    scan('shop_page_last_click'),
    scan(shop.deadLetters.tableName),
    scan('shop_open_orders'),
    scan('shop_page_clicks'),
  ]);
  const openBy = (open as { customerId: string; orders: number }[]).sort((a, b) =>
    a.customerId.localeCompare(b.customerId),
  );
  const clicksBy = new Map<string, number>();
  for (const r of perMinute as { page: string; clicks: number }[])
    clicksBy.set(r.page, (clicksBy.get(r.page) ?? 0) + r.clicks);
  const c1 = (index as OrderByCustomer[]).filter((o) => o.customerId === 'c1');
  const reasons = new Map<string, number>();
  for (const l of letters) reasons.set(String(l.code), (reasons.get(String(l.code)) ?? 0) + 1);
  return [
    `rows: shop_orders ${source.length}, shop_orders_by_customer ${index.length}, shop_page_last_click ${lastClicks.length}`,
    `customer c1's orders (from the index): ${
      c1.length === 0
        ? 'none yet'
        : c1
            .slice(0, 4)
            .map((o) => `${o.orderId} ${o.status} ${o.total.toFixed(2)}`)
            .join(', ')
    }${c1.length > 4 ? `, ... (${c1.length})` : ''}`,
    `open orders per customer (counter): ${openBy.map((o) => `${o.customerId} ${o.orders}`).join(', ') || 'none yet'}`,
    `clicks per page (sum of per-minute counters): ${
      [...clicksBy]
        .sort((a, b) => b[1] - a[1])
        .map(([p, n]) => `${p} ${n}`)
        .join(', ') || 'none yet'
    }`,
    `dead letters: ${letters.length}${reasons.size ? ` (${[...reasons].map(([code, n]) => `${code} ${n}`).join(', ')})` : ''}`,
  ].join('\n');
}

const shop = app('shop', [ordersByCustomer, openOrders, clicksPerMinute, clicksByPage], {
  dev: { tables, streams: [{ name: 'shop_clicks', shards: 2 }], traffic, report },
});

export default shop;
