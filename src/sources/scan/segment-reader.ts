import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import type { Batch } from '../../core/batch.js';
import { unmarshallImage } from '../../core/numbers.js';
import type { Checkpoint } from '../../core/position.js';
import type { DynamoChange } from '../../core/records.js';
import type { ShardReader } from '../../core/source.js';
import type { TableIO } from '../../core/table-io.js';
import { TributaryError } from '../../core/errors.js';
import type { ScannedPage, ScannedStore } from './scanned-store.js';

type Item = Record<string, AttributeValue>;

/** Positions of a page's records: page × this + index, so a page's records sort after the page before. */
const PAGE_STRIDE = 1_000_000;

export interface SegmentRef {
  readonly source: string;
  readonly shardId: string;
  readonly segment: number;
  readonly total: number;
  /** Items per Scan page (at most 1,000). */
  readonly batchSize: number;
  /** The table's key attributes. */
  readonly keyNames: readonly string[];
}

/**
 * Reads one segment of a backfill's parallel Scan, a page per batch, as inserts of the items the
 * Scan read (`ConsistentRead`, through the table's governed I/O, so the read budget holds). Each
 * page is stored (`ScannedStore`) before its records are handed on, and the checkpoint after a
 * page names the next page: a segment resumed after a crash re-reads its stored pages rather than
 * scanning them again, so every page has one content whatever happens.
 *
 * @example
 * ```ts
 * const reader = await SegmentReader.open(io, store, ref, lease.checkpoint);
 * const batch = await reader.next(signal); // up to batchSize inserts, then checkpoint SHARD_END at the end
 * ```
 */
export class SegmentReader<T> implements ShardReader<DynamoChange<T>> {
  private seq = 0;
  /** Read units the last page took: the estimate for the next. */
  private units = 1;

  private constructor(
    private readonly io: TableIO,
    private readonly store: ScannedStore,
    private readonly ref: SegmentRef,
    private page: number,
    private startKey: Item | undefined,
    private done: boolean,
    private readonly onScanned?: (items: number) => void,
  ) {}

  static async open<T>(
    io: TableIO,
    store: ScannedStore,
    ref: SegmentRef,
    from: Checkpoint,
    onScanned?: (items: number) => void,
  ): Promise<SegmentReader<T>> {
    if (from.kind === 'SHARD_END') return new SegmentReader<T>(io, store, ref, 0, undefined, true, onScanned);
    if (from.kind !== 'sequence' || from.resume === undefined)
      return new SegmentReader<T>(io, store, ref, 0, undefined, false, onScanned);
    const page = Number(from.resume);
    const before = await store.loadPage(ref.shardId, page - 1);
    if (!before)
      throw new TributaryError(
        'source.notFound',
        `backfill segment ${ref.shardId} of '${ref.source}': page ${page - 1} it checkpointed after is not in the lease table`,
        { details: { source: ref.source, shard: ref.shardId, page } },
      );
    return new SegmentReader<T>(io, store, ref, page, before.next, before.next === undefined, onScanned);
  }

  async next(): Promise<Batch<DynamoChange<T>> & { readonly ended: boolean }> {
    const { source, shardId } = this.ref;
    if (this.done)
      return {
        source,
        shardId,
        seq: ++this.seq,
        records: [],
        rejected: [],
        checkpoint: { kind: 'SHARD_END' },
        ended: true,
      };
    const page = (await this.store.loadPage(shardId, this.page)) ?? (await this.scan());
    const records = page.items.map((item, i) => this.change(item, i));
    const checkpoint: Checkpoint = page.next
      ? {
          kind: 'sequence',
          sequenceNumber: String(this.page * PAGE_STRIDE + page.items.length),
          subSequenceNumber: 0,
          resume: String(this.page + 1),
        }
      : { kind: 'SHARD_END' };
    if (page.next) {
      this.startKey = page.next;
      this.page++;
    } else this.done = true;
    return { source, shardId, seq: ++this.seq, records, rejected: [], checkpoint, ended: this.done };
  }

  private async scan(): Promise<ScannedPage> {
    const sentAt = Date.now();
    const out = await this.io.scan(
      {
        Segment: this.ref.segment,
        TotalSegments: this.ref.total,
        ConsistentRead: true,
        Limit: this.ref.batchSize,
        ...(this.startKey ? { ExclusiveStartKey: this.startKey } : {}),
      },
      this.units,
    );
    this.units = Math.max(1, Math.ceil(out.ConsumedCapacity?.CapacityUnits ?? this.units));
    const page: ScannedPage = {
      items: out.Items ?? [],
      ...(out.LastEvaluatedKey ? { next: out.LastEvaluatedKey } : {}),
      sentAt,
      readAt: Date.now(),
    };
    await this.store.savePage(this.ref.shardId, this.page, page);
    this.onScanned?.(page.items.length);
    return page;
  }

  /** An item the Scan read, as the insert that creates it. */
  private change(item: Item, i: number): DynamoChange<T> {
    const { source, shardId, keyNames } = this.ref;
    const keys: Item = {};
    for (const k of keyNames) keys[k] = item[k]!;
    const sequenceNumber = String(this.page * PAGE_STRIDE + i + 1);
    return {
      type: 'dynamodb',
      kind: 'insert',
      keys: unmarshallImage(keys) as DynamoChange<T>['keys'],
      newImage: unmarshallImage(item) as T,
      ttlExpired: false,
      // No creation time: a scanned item has no age (see createdAtMillis).
      approximateCreationTime: new Date(0),
      eventId: `${shardId}:${sequenceNumber}`,
      position: { source, shardId, sequenceNumber },
      sizeBytes: JSON.stringify(item).length,
    };
  }
}
