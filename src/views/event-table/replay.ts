import { DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import type { Batch } from '../../core/batch.js';
import { TributaryError } from '../../core/errors.js';
import type { IamEnv, Permission } from '../../core/iam.js';
import { rethrowMissing } from '../../core/not-found.js';
import type { Checkpoint, Position } from '../../core/position.js';
import type { SourceRecord } from '../../core/records.js';
import type { BoundSource, ShardInfo, ShardReader, SourceEnv, StreamSource } from '../../core/source.js';
import type { TableIO } from '../../core/table-io.js';
import { DynamoTableIO } from '../../sinks/table-io.js';
import { withRetry } from '../../core/retry.js';
import { resolveLayout, type EventTableLayout } from './options.js';
import { periodTablePattern } from './period.js';
import { decodeCursor, encodeCursor } from './replay-checkpoint.js';
import { sortKeyTime } from './keys.js';
import { scanEvents, type ScanItem, type ScannedEvent, type ScanRange } from './replay-scan.js';
import type { EventTableView } from './view.js';

/** One event read back by {@link replay}. */
export interface ReplayedEvent<P = unknown> extends SourceRecord {
  readonly type: 'event';
  /** The stored payload (Dates inside it come back as ISO strings). */
  readonly value: P;
  readonly id: string;
  readonly time: Date;
  /** Id of the bucket it was stored in. */
  readonly bucket: string;
  /** Logical table it was read from (its period's, when the table rotates). */
  readonly table: string;
  readonly position: Position;
}

/** The range and reading options of a replay. */
export interface ReplayRange {
  /** First instant replayed (included). */
  readonly from: Date;
  /** Instant the replay ends at (excluded). Default: the time the replay first starts; see {@link replay}. */
  readonly to?: Date;
  /**
   * Items per Query. Memory stays bounded whatever a bucket holds: one page per write shard of the
   * bucket being merged, and the first pages of the next 4 buckets (read ahead). Default 100.
   */
  readonly pageSize?: number;
  /** Most events per batch handed to the pipeline (and so per checkpoint). Default 500. */
  readonly batchSize?: number;
  /** Strongly consistent reads, so events stored just before the replay starts are seen. Default true. */
  readonly consistentRead?: boolean;
  /** Stable identity of this replay's checkpoint. Default `replay:${table}`. */
  readonly name?: string;
}

/** What to replay: an event table view (payload type inferred), or its layout. */
export type ReplayOptions<P> = ReplayRange &
  ({ readonly view: EventTableView<never, P> } | (EventTableLayout & { readonly view?: undefined }));

/** Buckets whose first pages are read ahead of need, so that runs of empty buckets are crossed quickly. */
const READ_AHEAD_BUCKETS = 4;

/** The shard id of a replay: one shard, read in time order. */
export const REPLAY_SHARD = 'replay';

/**
 * A replay of an event table as a source: the events of `[from, to)` in time order (ties by event
 * id). It queries the buckets in order, each bucket's write shards merged by sort key, one page
 * per write shard at a time, so memory stays bounded however large a bucket is; with rotation it
 * crosses the period tables in order and skips periods whose table does not exist (never created
 * or dropped after its retention). It is one shard (`'replay'`) whose checkpoint is the bucket and
 * sort key of the last event acknowledged, so the runner can stop and resume it like any source.
 *
 * Without `to`, a replay ends at the time it first starts: that end is kept in its checkpoint, so a
 * replay resumed later still ends there. It is a bounded read of stored events, not a live tail
 * (following new events as they arrive is out of scope: read the stream the table is fed from).
 * Once finished, a replay stays finished for its `name`: give another name to replay again.
 *
 * Cost: every bucket of the range is queried, empty or not (`writeShards` queries per bucket, the
 * next buckets read ahead), so a sparse range with fine buckets costs more than its events. While
 * crossing empty buckets the checkpoint still moves (about once a second).
 *
 * @example
 * ```ts
 * pipeline('rebuild-daily-counts')
 *   .from(replay({ view: clicksLog, from: new Date('2026-11-01T00:00:00Z'), to: new Date('2026-11-08T00:00:00Z') }))
 *   .pipe(map((e) => e.value))
 *   .to(dailyCounts)
 * ```
 */
export function replay<P = unknown>(options: ReplayOptions<P>): StreamSource<ReplayedEvent<P>> {
  const layout = resolveLayout(options.view ? options.view.layout : (options as EventTableLayout));
  const { from, to } = options;
  const bad = (message: string) =>
    new TributaryError('config.invalid', `replay of '${layout.table}': ${message}`, {
      details: { table: layout.table },
    });
  if (!(from instanceof Date) || Number.isNaN(from.getTime())) throw bad('`from` must be a valid Date');
  if (to !== undefined && (!(to instanceof Date) || Number.isNaN(to.getTime()) || to.getTime() < from.getTime()))
    throw bad('`to` must be a valid Date not before `from`');
  const pageSize = options.pageSize ?? 100;
  const batchSize = options.batchSize ?? 500;
  if (!Number.isInteger(pageSize) || pageSize < 1) throw bad(`pageSize must be a whole number >= 1, got ${pageSize}`);
  if (!Number.isInteger(batchSize) || batchSize < 1)
    throw bad(`batchSize must be a whole number >= 1, got ${batchSize}`);
  const name = options.name ?? `replay:${layout.table}`;
  return {
    name,
    kind: 'event-table-replay',
    startPosition: 'TRIM_HORIZON',
    // Queries through the governed TableIO (its governor describes each table; a fixed table is checked at start).
    iam: (env: IamEnv): readonly Permission[] => [
      {
        actions: ['dynamodb:DescribeTable', 'dynamodb:Query'],
        resource: layout.rotation
          ? { type: 'tables', pattern: env.tableName(periodTablePattern(layout.table, layout.rotation.period)) }
          : { type: 'table', table: env.tableName(layout.table) },
      },
    ],
    async bind(env: SourceEnv): Promise<BoundSource<ReplayedEvent<P>>> {
      const end = (to ?? new Date()).getTime();
      if (!layout.rotation) await checkExists(env, layout.table);
      const ios = new Map<string, TableIO>();
      const governed = env.io;
      const io = (logical: string): TableIO => {
        const physical = env.tableName(logical);
        return (
          ios.get(physical) ??
          ios.set(physical, governed?.(physical) ?? new DynamoTableIO(env.clients.dynamodb, physical)).get(physical)!
        );
      };
      const ctx = {
        layout,
        io,
        pageSize,
        consistentRead: options.consistentRead ?? true,
        readAhead: READ_AHEAD_BUCKETS,
      };
      return {
        name,
        listShards: async (): Promise<readonly ShardInfo[]> => [
          {
            shardId: REPLAY_SHARD,
            parentShardIds: [],
            endingSequenceNumber: `replay-end|${new Date(end).toISOString()}`,
          },
        ],
        openShard: async (_shard: ShardInfo, cp: Checkpoint): Promise<ShardReader<ReplayedEvent<P>>> => {
          if (cp.kind === 'SHARD_END') return new ReplayReader<P>(name, undefined, end, batchSize);
          if (cp.kind !== 'sequence')
            return new ReplayReader<P>(name, scanEvents<P>(ctx, { from: from.getTime(), end }), end, batchSize);
          const c = decodeCursor(cp.sequenceNumber);
          const range: ScanRange = { from: from.getTime(), end: c.end, after: c.sk };
          return new ReplayReader<P>(name, scanEvents<P>(ctx, range), c.end, batchSize);
        },
      };
    },
  };
}

/** Longest a call to `next` spends crossing empty buckets before it hands back a batch (and so a checkpoint). */
const BATCH_TIME_BUDGET_MS = 1_000;

/** Reads the replay shard: up to `batchSize` events a call, then `SHARD_END`. */
class ReplayReader<P> implements ShardReader<ReplayedEvent<P>> {
  private seq = 0;
  private ended: boolean;

  constructor(
    private readonly source: string,
    private readonly items: AsyncGenerator<ScanItem<P>, void, undefined> | undefined,
    private readonly end: number,
    private readonly batchSize: number,
  ) {
    this.ended = items === undefined;
  }

  async next(signal: AbortSignal): Promise<Batch<ReplayedEvent<P>> & { readonly ended: boolean }> {
    const started = Date.now();
    const records: ReplayedEvent<P>[] = [];
    // The furthest point known done: the last event's key, or the end of a later (empty) bucket.
    let reached: { readonly sequenceNumber: string; readonly time: number } | undefined;
    while (!this.ended && records.length < this.batchSize && !signal.aborted) {
      if (reached && Date.now() - started > BATCH_TIME_BUDGET_MS) break;
      const r = await this.items!.next();
      if (r.done) {
        this.ended = true;
      } else if (r.value.kind === 'event') {
        const e = this.record(r.value.event);
        records.push(e);
        reached = { sequenceNumber: e.position.sequenceNumber, time: e.time.getTime() };
      } else {
        reached = {
          sequenceNumber: encodeCursor({ end: this.end, bucket: r.value.bucket, sk: r.value.after }),
          time: sortKeyTime(r.value.after),
        };
      }
    }
    const checkpoint: Checkpoint | undefined = this.ended
      ? { kind: 'SHARD_END' }
      : reached
        ? { kind: 'sequence', sequenceNumber: reached.sequenceNumber, subSequenceNumber: 0 }
        : undefined;
    const millisBehind = this.ended ? 0 : reached ? Math.max(0, this.end - reached.time) : undefined;
    return {
      source: this.source,
      shardId: REPLAY_SHARD,
      seq: this.seq++,
      records,
      rejected: [],
      checkpoint,
      ...(millisBehind === undefined ? {} : { millisBehind }),
      ended: this.ended,
    };
  }

  private record(e: ScannedEvent<P>): ReplayedEvent<P> {
    const sequenceNumber = encodeCursor({ end: this.end, bucket: e.bucket, sk: e.sk });
    return {
      type: 'event',
      value: e.payload,
      id: e.id,
      time: e.time,
      bucket: e.bucket,
      table: e.table,
      position: { source: this.source, shardId: REPLAY_SHARD, sequenceNumber },
    };
  }
}

async function checkExists(env: SourceEnv, logical: string): Promise<void> {
  const physical = env.tableName(logical);
  await rethrowMissing(
    () => withRetry(() => env.clients.dynamodb.send(new DescribeTableCommand({ TableName: physical }))),
    (cause) =>
      new TributaryError('source.notFound', `event table '${physical}' does not exist`, {
        details: { table: physical },
        cause,
      }),
  );
}
