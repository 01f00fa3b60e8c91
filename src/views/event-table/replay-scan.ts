import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { TributaryError } from '../../core/errors.js';
import { isNotFound } from '../../core/not-found.js';
import type { TableIO } from '../../core/table-io.js';
import { bucketFloor, bucketId } from './bucket.js';
import { fromItem, type StoredEvent } from './item.js';
import { sortKeyTime, timestamp } from './keys.js';
import { mergePaged, type Page, type PageFetcher } from './merge.js';
import type { ResolvedLayout } from './options.js';
import { addPeriods, periodStart, periodTable } from './period.js';
import { PK, SK } from './tables.js';

/** A stored event as a replay reads it, with the logical table it came from. */
export type ScannedEvent<P> = StoredEvent<P> & { readonly table: string };

/**
 * What a scan yields: events, and after each bucket a mark that everything before `after` is done
 * (so that a long run of empty buckets still moves the checkpoint).
 */
export type ScanItem<P> =
  | { readonly kind: 'event'; readonly event: ScannedEvent<P> }
  | { readonly kind: 'progress'; readonly bucket: string; readonly after: string };

export interface ScanContext {
  readonly layout: ResolvedLayout;
  /** The TableIO of a logical table. */
  readonly io: (logical: string) => TableIO;
  /** Items per Query (its Limit). */
  readonly pageSize: number;
  readonly consistentRead: boolean;
  /** Buckets whose first pages are requested ahead of need, so sparse ranges are crossed quickly. */
  readonly readAhead: number;
}

export interface ScanRange {
  /** First instant included (epoch ms). */
  readonly from: number;
  /** First instant excluded. */
  readonly end: number;
  /** Resume strictly after this sort key (or bare timestamp). */
  readonly after?: string;
}

type Key = Record<string, AttributeValue>;

interface Bounds {
  readonly lo: string;
  readonly hi: string;
  readonly after?: string;
}

/**
 * Every event of `[from, end)` (after `after`) in sort-key order: period tables in order (those
 * that do not exist are skipped), their buckets in order, and in each bucket the write shards'
 * partitions merged by sort key. Lazy: nothing is read before it is pulled, except the first
 * pages of the next `readAhead` buckets. Memory: at most one page per write shard per bucket in
 * reach (`(1 + readAhead) * writeShards * pageSize` items).
 */
export async function* scanEvents<P>(ctx: ScanContext, range: ScanRange): AsyncGenerator<ScanItem<P>, void, undefined> {
  const { layout } = ctx;
  const start = range.after !== undefined ? sortKeyTime(range.after) : range.from;
  if (start >= range.end) return;
  // Lower bound inclusive: `from`'s timestamp sorts before every `${timestamp}#id` at that instant. Upper bound:
  // `${timestamp(end)}` sorts after every key before `end` and before every key at `end`, so `end` is excluded.
  const bounds: Bounds = { lo: range.after ?? timestamp(range.from), hi: timestamp(range.end), after: range.after };
  const r = layout.rotation;
  if (!r) {
    yield* scanTable<P>(ctx, layout.table, start, range.end, bounds, false);
    return;
  }
  for (let p = periodStart(start, r.period); p < range.end; p = addPeriods(p, 1, r.period)) {
    const next = addPeriods(p, 1, r.period);
    yield* scanTable<P>(
      ctx,
      periodTable(layout.table, p, r.period),
      Math.max(start, p),
      Math.min(range.end, next),
      bounds,
      true,
    );
  }
}

interface OpenBucket<P> {
  readonly start: number;
  readonly id: string;
  readonly fetchers: PageFetcher<ScannedEvent<P>, Key>[];
  readonly first: Promise<Page<ScannedEvent<P>, Key>>[];
}

async function* scanTable<P>(
  ctx: ScanContext,
  table: string,
  from: number,
  end: number,
  bounds: Bounds,
  skipMissing: boolean,
): AsyncGenerator<ScanItem<P>, void, undefined> {
  const { bucket, bucketMs, writeShards } = ctx.layout;
  const io = ctx.io(table);
  const open = (b: number): OpenBucket<P> => {
    const id = bucketId(b, bucket);
    const fetchers = Array.from({ length: writeShards }, (_, suffix) =>
      pageFetcher<P>(ctx, io, table, `${id}#${suffix}`, bounds),
    );
    const first = fetchers.map((f) => f(undefined));
    // Read-ahead requests may fail after the scan has moved on (a missing table, a stop): never unhandled.
    for (const p of first) p.catch(() => undefined);
    return { start: b, id, fetchers, first };
  };
  const window: OpenBucket<P>[] = [];
  let next = bucketFloor(from, bucketMs);
  const refill = () => {
    for (; window.length <= ctx.readAhead && next < end; next += bucketMs) window.push(open(next));
  };
  refill();
  for (let b = window.shift(); b; b = window.shift()) {
    try {
      for await (const event of mergePaged(b.fetchers, (e) => e.sk, b.first)) yield { kind: 'event', event };
    } catch (e) {
      if (!isNotFound(e)) throw e;
      // A period whose table was never created, or was dropped after its retention: nothing to read there.
      if (skipMissing) return;
      throw new TributaryError('source.notFound', `event table '${io.table}' does not exist`, {
        details: { table: io.table },
        cause: e,
      });
    }
    yield { kind: 'progress', bucket: b.id, after: timestamp(Math.min(b.start + bucketMs, end)) };
    refill();
  }
}

function pageFetcher<P>(
  ctx: ScanContext,
  io: TableIO,
  table: string,
  pk: string,
  bounds: Bounds,
): PageFetcher<ScannedEvent<P>, Key> {
  return async (startKey): Promise<Page<ScannedEvent<P>, Key>> => {
    const out = await io.query({
      KeyConditionExpression: '#pk = :pk AND #sk BETWEEN :lo AND :hi',
      ExpressionAttributeNames: { '#pk': PK, '#sk': SK },
      ExpressionAttributeValues: { ':pk': { S: pk }, ':lo': { S: bounds.lo }, ':hi': { S: bounds.hi } },
      Limit: ctx.pageSize,
      ExclusiveStartKey: startKey,
      ConsistentRead: ctx.consistentRead,
    });
    const items = (out.Items ?? [])
      .map((i) => ({ ...fromItem<P>(i), table }))
      .filter((e) => bounds.after === undefined || e.sk > bounds.after);
    return { items, next: out.LastEvaluatedKey };
  };
}
