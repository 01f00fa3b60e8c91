import { deflateRawSync, inflateRawSync } from 'node:zlib';
import {
  GetItemCommand,
  paginateScan,
  PutItemCommand,
  type AttributeValue,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import { withRetry } from '../../core/retry.js';

/** The `kind` of a backfill page's item in the lease table (lease listings skip items with a kind). */
export const BACKFILL_KIND = 'backfill';

/** Bytes of a page's packed items per lease-table item: well under DynamoDB's 400 KB. */
const PART_BYTES = 300 * 1024;

type Item = Record<string, AttributeValue>;

/** One page of a segment as the Scan read it. */
export interface ScannedPage {
  readonly items: readonly Item[];
  /** The Scan's `LastEvaluatedKey` after this page; undefined on the segment's last page. */
  readonly next?: Item;
  /** When the Scan's request was made (epoch ms; older pages lack it) and when its answer came. */
  readonly sentAt?: number;
  readonly readAt: number;
}

/**
 * The pages a backfill's Scan read, kept in the app's lease table: one item per page of a
 * segment (`backfill#<source>#<segment>#<page>#<part>`), holding the page's items and the key to
 * go on from, deflated. A page is stored before its records go to the pipelines, and a segment
 * that resumes after a crash re-reads a stored page from here rather than scanning it again: the
 * table may have changed since, and a second read of the same page would count an item changed in
 * between once as it was and once as it is. The stream phase reads the stored pages to know what
 * state of each item the Scan saw (see `Reconciler`).
 *
 * Costs a write unit per KB of deflated items (a compressed copy of the table, written once), and
 * the stream phase holds a hash of every scanned item in memory once (about 100 bytes an item).
 *
 * @example
 * ```ts
 * const store = new ScannedStore(ddb, 'shop_leases', 'orders');
 * await store.savePage('backfill-0-of-4', 0, { items, next: out.LastEvaluatedKey, readAt: Date.now() });
 * ```
 */
export class ScannedStore {
  constructor(
    private readonly ddb: DynamoDBClient,
    readonly tableName: string,
    private readonly source: string,
    private readonly signal?: AbortSignal,
  ) {}

  private key(segment: string, page: number, part: number): string {
    return `${BACKFILL_KIND}#${this.source}#${segment}#${String(page).padStart(9, '0')}#${part}`;
  }

  async savePage(segment: string, page: number, p: ScannedPage): Promise<void> {
    const packed = deflateRawSync(Buffer.from(JSON.stringify({ items: p.items, next: p.next })));
    const parts = Math.max(1, Math.ceil(packed.byteLength / PART_BYTES));
    // The last part first: a page whose first part exists is whole.
    for (let part = parts - 1; part >= 0; part--) {
      await this.retry(() =>
        this.ddb.send(
          new PutItemCommand({
            TableName: this.tableName,
            Item: {
              leaseKey: { S: this.key(segment, page, part) },
              kind: { S: BACKFILL_KIND },
              source: { S: this.source },
              segment: { S: segment },
              items: { N: String(part === 0 ? p.items.length : 0) },
              parts: { N: String(parts) },
              readAt: { N: String(p.readAt) },
              sentAt: { N: String(p.sentAt ?? p.readAt) },
              last: { BOOL: p.next === undefined },
              data: { B: packed.subarray(part * PART_BYTES, (part + 1) * PART_BYTES) },
            },
          }),
          { abortSignal: this.signal },
        ),
      );
    }
  }

  /** A stored page, or undefined when the Scan has not read it yet. */
  async loadPage(segment: string, page: number): Promise<ScannedPage | undefined> {
    const first = await this.get(this.key(segment, page, 0));
    if (!first) return undefined;
    const parts = [Buffer.from(first.data!.B!)];
    for (let part = 1; part < Number(first.parts?.N ?? '1'); part++)
      parts.push(Buffer.from((await this.get(this.key(segment, page, part)))!.data!.B!));
    const { items, next } = JSON.parse(inflateRawSync(Buffer.concat(parts)).toString()) as {
      items: Item[];
      next?: Item;
    };
    const readAt = Number(first.readAt!.N);
    return {
      items: items.map(revive),
      ...(next ? { next: revive(next) } : {}),
      sentAt: Number(first.sentAt?.N ?? readAt),
      readAt,
    };
  }

  /**
   * Every stored page, in no order: `onPage` hears each (its segment and items), and the result
   * is the read time of the last page. With `itemsOnly`, pages carry their item counts alone.
   */
  async forEachPage(
    onPage: (segment: string, items: number, last: boolean, page?: ScannedPage) => void,
    itemsOnly = false,
  ): Promise<number | undefined> {
    const pages = new Map<
      string,
      {
        segment: string;
        items: number;
        sentAt: number;
        readAt: number;
        last: boolean;
        parts: Buffer[];
        count: number;
      }
    >();
    await this.retry(async () => {
      pages.clear();
      for await (const out of paginateScan(
        { client: this.ddb },
        {
          TableName: this.tableName,
          ConsistentRead: true,
          FilterExpression: 'begins_with(leaseKey, :p)',
          ExpressionAttributeValues: { ':p': { S: `${BACKFILL_KIND}#${this.source}#` } },
          ...(itemsOnly
            ? {
                ProjectionExpression: '#k, #s, #i, #r, #p, #l, #t',
                ExpressionAttributeNames: {
                  '#k': 'leaseKey',
                  '#s': 'segment',
                  '#i': 'items',
                  '#r': 'readAt',
                  '#p': 'parts',
                  '#l': 'last',
                  '#t': 'sentAt',
                },
              }
            : {}),
        },
      )) {
        for (const item of out.Items ?? []) {
          const key = item.leaseKey!.S!;
          const pageKey = key.slice(0, key.lastIndexOf('#'));
          const part = Number(key.slice(key.lastIndexOf('#') + 1));
          const p =
            pages.get(pageKey) ??
            pages
              .set(pageKey, {
                segment: item.segment!.S!,
                items: 0,
                sentAt: Number.MAX_SAFE_INTEGER,
                readAt: 0,
                last: false,
                parts: [],
                count: Number(item.parts?.N ?? '1'),
              })
              .get(pageKey)!;
          p.items += Number(item.items?.N ?? '0');
          p.readAt = Math.max(p.readAt, Number(item.readAt?.N ?? '0'));
          p.sentAt = Math.min(p.sentAt, Number(item.sentAt?.N ?? item.readAt?.N ?? '0'));
          if (item.last?.BOOL) p.last = true;
          if (item.data?.B) p.parts[part] = Buffer.from(item.data.B);
        }
      }
    });
    let last: number | undefined;
    for (const p of pages.values()) {
      last = Math.max(last ?? 0, p.readAt);
      if (itemsOnly) {
        onPage(p.segment, p.items, p.last);
        continue;
      }
      const { items } = JSON.parse(inflateRawSync(Buffer.concat(p.parts)).toString()) as { items: Item[] };
      onPage(p.segment, p.items, p.last, { items: items.map(revive), sentAt: p.sentAt, readAt: p.readAt });
    }
    return last;
  }

  private async get(leaseKey: string): Promise<Item | undefined> {
    const out = await this.retry(() =>
      this.ddb.send(
        new GetItemCommand({ TableName: this.tableName, Key: { leaseKey: { S: leaseKey } }, ConsistentRead: true }),
        {
          abortSignal: this.signal,
        },
      ),
    );
    return out.Item;
  }

  private retry<T>(fn: () => Promise<T>): Promise<T> {
    return withRetry(fn, { signal: this.signal });
  }
}

/** Binary attributes come back from JSON as objects of byte indexes: make them bytes again. */
function revive(item: Item): Item {
  const out: Item = {};
  for (const [k, v] of Object.entries(item)) out[k] = reviveValue(v);
  return out;
}

function reviveValue(v: AttributeValue): AttributeValue {
  if (v.B !== undefined) return { B: toBytes(v.B) };
  if (v.BS !== undefined) return { BS: v.BS.map(toBytes) };
  if (v.L !== undefined) return { L: v.L.map(reviveValue) };
  if (v.M !== undefined) return { M: revive(v.M) };
  return v;
}

const toBytes = (b: unknown): Uint8Array =>
  b instanceof Uint8Array ? b : Uint8Array.from(Object.values(b as Record<string, number>));
