import type { StreamViewType } from '../../core/images.js';
import type { Checkpoint } from '../../core/position.js';
import type { DynamoChange } from '../../core/records.js';
import type { BoundSource, ShardInfo, ShardReader, SourceEnv } from '../../core/source.js';
import { ReachLog } from '../scan/reach-log.js';
import { Reconciler, type ReadBand, type ScannedState } from '../scan/reconcile.js';
import { imageHash, itemKeyId, ReconcilingReader } from '../scan/reconciling-reader.js';
import { ScannedStore } from '../scan/scanned-store.js';
import { SegmentReader } from '../scan/segment-reader.js';
import { parseSegment, segmentId } from '../scan/segments.js';
import type { DynamoTableSourceOptions, StreamOfTable } from './source.js';

/**
 * How long after a page's read a change may still be one the Scan included: the clocks of
 * DynamoDB and of the worker that read the page differ a little. Stream timestamps are rounded
 * down, so they never make a change look later than it was.
 */
const AFTER_READ_MS = 10_000;
/**
 * How long before a page's request a change's timestamp may be and the change still come after
 * the read: DynamoDB Streams rounds timestamps down to the second, DynamoDB Local to the minute.
 */
const BEFORE_READ_MS = 120_000;
/** How often the backfill's progress is reported while this worker scans. */
const PROGRESS_MS = 5_000;

/**
 * A DynamoDB table's source with a backfill: the segments of a parallel Scan come first, as the
 * parents of the stream's first shards, and the stream's changes that the Scan already included
 * are dropped. See `dynamodbTable`'s `backfill` option.
 */
export class BackfilledDynamoSource<T> implements BoundSource<DynamoChange<T>> {
  readonly name: string;
  readonly stream: { readonly table: string; readonly viewType: StreamViewType };
  private readonly store: ScannedStore;
  private readonly reaches: ReachLog;
  private reconciler: Promise<Reconciler> | undefined;
  private scanning = 0;
  private progress: NodeJS.Timeout | undefined;

  constructor(
    private readonly inner: BoundSource<DynamoChange<T>>,
    private readonly of: StreamOfTable,
    private readonly env: SourceEnv,
    private readonly options: DynamoTableSourceOptions,
    private readonly segments: number,
  ) {
    this.name = inner.name;
    this.stream = inner.stream!;
    this.store = new ScannedStore(env.clients.dynamodb, env.stateTable!, inner.name, env.signal);
    this.reaches = new ReachLog(env.clients.dynamodb, env.stateTable!, inner.name, env.signal);
  }

  async listShards(): Promise<readonly ShardInfo[]> {
    const shards = await this.inner.listShards();
    const ids = new Set(shards.map((s) => s.shardId));
    const segments = Array.from({ length: this.segments }, (_, i) => segmentId(i, this.segments));
    return [
      ...segments.map((shardId) => ({ shardId, parentShardIds: [] })),
      // The stream's first shards (no listed parent) wait for every segment.
      ...shards.map((s) =>
        s.parentShardIds.some((p) => ids.has(p)) ? s : { ...s, parentShardIds: [...s.parentShardIds, ...segments] },
      ),
    ];
  }

  async openShard(shard: ShardInfo, from: Checkpoint): Promise<ShardReader<DynamoChange<T>>> {
    const seg = parseSegment(shard.shardId);
    if (!seg) {
      const reader = await this.inner.openShard(shard, from);
      this.reconciler ??= this.loadReconciler().catch((e: unknown) => {
        this.reconciler = undefined;
        throw e;
      });
      const reconciler = await this.reconciler;
      // What other workers (or this one, before a restart) found of the chains: this shard's
      // checkpoint may be past where a chain reached its scanned state.
      await this.reaches.catchUp((key, reach) => reconciler.learn(key, reach));
      return new ReconcilingReader(reader, reconciler, this.reaches, this.of.keyNames!, (count) =>
        this.env.onEvent?.({ type: 'reconciled', source: this.name, shardId: shard.shardId, count }),
      );
    }
    const ref = {
      source: this.name,
      shardId: shard.shardId,
      ...seg,
      batchSize: Math.min(1000, this.options.batchSize ?? 1000),
      keyNames: this.of.keyNames!,
    };
    const reader = await SegmentReader.open<T>(this.env.io!(this.of.table), this.store, ref, from);
    this.scanningStarted();
    return {
      next: async (signal) => {
        const b = await reader.next();
        if (b.ended || signal.aborted) this.scanningEnded();
        return b;
      },
    };
  }

  describeLag(shard: ShardInfo, from: Checkpoint): Promise<number | undefined> {
    return parseSegment(shard.shardId)
      ? Promise.resolve(undefined)
      : (this.inner.describeLag?.(shard, from) ?? Promise.resolve(undefined));
  }

  /** What every segment read, as hashes per item key, each with the band of its page's read. */
  private async loadReconciler(): Promise<Reconciler> {
    const scanned = new Map<string, ScannedState>();
    const keyNames = this.of.keyNames!;
    let first = Number.MAX_SAFE_INTEGER;
    const last = await this.store.forEachPage((_segment, _items, _last, page) => {
      const sentAt = page!.sentAt ?? page!.readAt;
      first = Math.min(first, sentAt);
      const band: ReadBand = { from: sentAt - BEFORE_READ_MS, to: page!.readAt + AFTER_READ_MS };
      for (const item of page!.items) scanned.set(itemKeyId(item, keyNames), { hash: imageHash(item), band });
    });
    // An item the Scan did not see was absent when its segment passed its key, at some time of the Scan.
    const absent: ReadBand =
      last === undefined ? { from: 0, to: 0 } : { from: first - BEFORE_READ_MS, to: last + AFTER_READ_MS };
    return new Reconciler(scanned, absent);
  }

  private scanningStarted(): void {
    this.scanning++;
    this.progress ??= setInterval(() => void this.report(), PROGRESS_MS);
    this.progress.unref();
  }

  private scanningEnded(): void {
    if (--this.scanning > 0) return;
    clearInterval(this.progress);
    this.progress = undefined;
    void this.report();
  }

  /** The backfill's progress over every worker, from the pages in the lease table. */
  private async report(): Promise<void> {
    let scanned = 0;
    const done = new Set<string>();
    try {
      await this.store.forEachPage((segment, items, last) => {
        scanned += items;
        if (last) done.add(segment);
      }, true);
    } catch {
      return; // Progress is a report: the next one comes in PROGRESS_MS.
    }
    this.env.onEvent?.({
      type: 'backfill',
      source: this.name,
      shardId: '',
      scanned,
      ...(this.of.itemCount === undefined ? {} : { total: this.of.itemCount }),
      segmentsDone: done.size,
      segments: this.segments,
    });
  }
}
