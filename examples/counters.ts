// Counters: page views per page and minute from a Kinesis stream, and a live count of items per
// owner from a DynamoDB table (inserts add one, removes take one away, an item given to another
// owner moves from one count to the other). Both pipelines are exactly-once: a crash, a kill or a
// lost lease never counts a record twice. Run it locally with `tributary dev examples/counters.ts`.
import { DeleteItemCommand, PutItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { PutRecordsCommand } from '@aws-sdk/client-kinesis';
import { marshall } from '@aws-sdk/util-dynamodb';
import { setTimeout as delay } from 'node:timers/promises';
import { z } from 'zod';
import {
  app,
  bucket,
  counterView,
  dynamodbTable,
  json,
  kinesisStream,
  pipeline,
  type Clients,
  type DynamoChange,
  type KinesisRecord,
  type TableSpec,
} from '../src/index.js';
import { scanAll } from '../src/testing/index.js';

// ---- Sources ----------------------------------------------------------------------------

const PageViewSchema = z.object({ page: z.string().min(1), at: z.number().int(), ms: z.number().nonnegative() });
type PageView = z.infer<typeof PageViewSchema>;
type Item = { id: string; owner: string; title: string };

const pageViews = kinesisStream('counters_page_views', { decode: json(PageViewSchema) });
const items = dynamodbTable<Item>('counters_items');

// ---- Views ------------------------------------------------------------------------------

/** Views and time on page per page and minute: thousands of views become one update per page a flush. */
const viewsPerMinute = counterView<KinesisRecord<PageView>>({
  table: 'counters_views_per_minute',
  partitionKey: 'page',
  sortKey: 'minute',
  key: (r) => ({ page: r.value.page, minute: bucket(r.value.at, '1m') }),
  add: { views: 1, ms: (r) => r.value.ms },
});

/** Items each owner has now: +1 on insert, -1 on remove; a modify that changes the owner moves the item's count. */
const itemsPerOwner = counterView<DynamoChange<Item>>({
  table: 'counters_items_per_owner',
  partitionKey: 'owner',
  key: (c) => ({ owner: (c.newImage ?? c.oldImage)!.owner }),
  add: { items: 1 },
  decrementOnRemove: true,
});

// ---- Dev loop: tables, generated traffic, a report ---------------------------------------

// The source table; the views declare their own tables, which `tributary dev` creates too.
const tables: TableSpec[] = [
  { name: 'counters_items', partitionKey: { name: 'id', type: 'S' }, stream: 'NEW_AND_OLD_IMAGES' },
];

type DevContext = { clients: Clients; tableName: (logical: string) => string };

const PAGES = ['/', '/search', '/cart', '/checkout', '/p/kettle', '/p/teapot', '/p/mug', '/p/cup'];
const OWNERS = ['ada', 'grace', 'alan', 'edsger', 'barbara'];
/** Skewed choice: the first entries come up far more often (roughly Zipf). */
const skewed = <T>(xs: readonly T[]): T => xs[Math.min(xs.length - 1, Math.floor(xs.length * Math.random() ** 2.5))]!;

/** What the traffic sent, so the report can compare the counters with it. */
const sent = { views: 0 };

/** Every ~100 ms: a few page views, and an item created, renamed, given to another owner or removed. */
async function traffic({ clients, tableName, signal }: DevContext & { signal: AbortSignal }): Promise<void> {
  const live = new Set<string>();
  for (let n = 1; !signal.aborted; n++) {
    const views: PageView[] = Array.from({ length: 1 + Math.floor(Math.random() * 5) }, () => ({
      page: skewed(PAGES),
      at: Date.now(),
      ms: Math.floor(Math.random() * 3000),
    }));
    const out = await clients.kinesis.send(
      new PutRecordsCommand({
        StreamName: 'counters_page_views',
        Records: views.map((v) => ({ PartitionKey: v.page, Data: Buffer.from(JSON.stringify(v)) })),
      }),
    );
    sent.views += views.length - (out.FailedRecordCount ?? 0);

    const roll = Math.random();
    const existing = live.size > 0 ? [...live][Math.floor(Math.random() * live.size)]! : undefined;
    if (!existing || roll < 0.6) {
      const item: Item = { id: `item-${n}`, owner: skewed(OWNERS), title: `thing ${n}` };
      await clients.dynamodb.send(new PutItemCommand({ TableName: tableName('counters_items'), Item: marshall(item) }));
      live.add(item.id);
    } else if (roll < 0.7) {
      // A change of owner is a modify: the old owner's count loses the item, the new owner's gains it.
      await clients.dynamodb.send(
        new UpdateItemCommand({
          TableName: tableName('counters_items'),
          Key: marshall({ id: existing }),
          UpdateExpression: 'SET #o = :o',
          ExpressionAttributeNames: { '#o': 'owner' },
          ExpressionAttributeValues: marshall({ ':o': skewed(OWNERS) }),
        }),
      );
    } else if (roll < 0.8) {
      // A rename is a modify that keeps the owner: it counts nothing.
      await clients.dynamodb.send(
        new UpdateItemCommand({
          TableName: tableName('counters_items'),
          Key: marshall({ id: existing }),
          UpdateExpression: 'SET title = :t',
          ExpressionAttributeValues: marshall({ ':t': `renamed ${n}` }),
        }),
      );
    } else {
      await clients.dynamodb.send(
        new DeleteItemCommand({ TableName: tableName('counters_items'), Key: marshall({ id: existing }) }),
      );
      live.delete(existing);
    }
    await delay(100, undefined, { signal }).catch(() => undefined);
  }
}

/** Views counted against views sent, the busiest pages of the last minute, and items per owner against the table. */
async function report({ clients, tableName }: DevContext): Promise<string> {
  const [minutes, owners, source] = await Promise.all([
    scanAll<{ page: string; minute: string; views: number; ms: number }>(
      clients.dynamodb,
      tableName('counters_views_per_minute'),
    ),
    scanAll<{ owner: string; items: number }>(clients.dynamodb, tableName('counters_items_per_owner')),
    scanAll<Item>(clients.dynamodb, tableName('counters_items')),
  ]);
  const counted = minutes.reduce((a, r) => a + r.views, 0);
  const last = minutes
    .map((r) => r.minute)
    .sort()
    .at(-1);
  const top = minutes
    .filter((r) => r.minute === last)
    .sort((a, b) => b.views - a.views)
    .slice(0, 4)
    .map((r) => `${r.page} ${r.views} (avg ${Math.round(r.ms / r.views)} ms)`);
  const truth = new Map<string, number>();
  for (const i of source) truth.set(i.owner, (truth.get(i.owner) ?? 0) + 1);
  const view = new Map(owners.filter((o) => o.items !== 0).map((o) => [o.owner, o.items]));
  const same = truth.size === view.size && [...truth].every(([o, n]) => view.get(o) === n);
  return [
    `page views: counted ${counted} of ${sent.views} sent, in ${minutes.length} page-minute counters`,
    `busiest pages in minute ${last ?? '-'}: ${top.join(', ') || 'none yet'}`,
    `items per owner: ${OWNERS.map((o) => `${o} ${view.get(o) ?? 0}`).join(', ')} (${source.length} items); matches the table: ${same ? 'yes' : 'no'}`,
  ].join('\n');
}

export default app(
  'counters',
  [
    pipeline('views-per-minute').from(pageViews).with({ guarantee: 'exactly-once' }).to(viewsPerMinute),
    pipeline('items-per-owner').from(items).with({ guarantee: 'exactly-once' }).to(itemsPerOwner),
  ],
  { dev: { tables, streams: [{ name: 'counters_page_views', shards: 2 }], traffic, report } },
);
