import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { GetItemCommand, paginateQuery, PutItemCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { withRetry } from '../core/retry.js';
import { ensureTableExists } from '../sinks/ensure-table.js';

/** What one worker publishes of a tap: its shards' part of the open windows, and its recent finals. */
export interface WorkerTapState {
  readonly worker: string;
  /** Epoch ms of the write. */
  readonly at: number;
  /** `WindowedAggregation.partials(...)` of the shards this worker reads. */
  readonly partial: unknown;
  /** Windows this worker closed lately, with its shards' states, for the others' merge of them. */
  readonly finals: readonly { start: number; end: number; key: string; states: Record<string, unknown> }[];
  /** This worker's watermark (epoch ms), `null` before any record. */
  readonly watermark: number | null;
  /**
   * Per shard in `partial`: the position of the last record its part covers. When two workers
   * publish one shard (a zombie, or the moment of a handoff), the merge takes the further one's.
   */
  readonly marks: { readonly [shardId: string]: ShardMark };
}

/** A position within a shard, as a tap state covers it. */
export interface ShardMark {
  readonly sequenceNumber: string;
  readonly subSequenceNumber: number;
}

/**
 * One shard's part of a tap, as its owner last made durable: the next owner starts from it and
 * skips the records up to `mark` (the shard's checkpoint may be behind it).
 */
export interface ShardTapState {
  readonly shardId: string;
  /** Epoch ms of the write. */
  readonly at: number;
  readonly worker: string;
  /** `WindowedAggregation.partials([shardId])`. */
  readonly partial: unknown;
  readonly mark: ShardMark;
  /** The owner's watermark then: windows it closed stay closed for the next owner. */
  readonly watermark: number | null;
}

/** The sort key of a shard's row; worker ids never start with it. */
const SHARD_ROW = 'shard#';

/** DynamoDB's item limit, less room for the key and attributes. */
const MAX_STATE_BYTES = 390 * 1024;

/**
 * The app's tap state table (`<app>_taps`, partition key `tap`, sort key `worker`): each
 * worker writes its part of each tap about once a second, and reads every worker's, so that a
 * tap shows the totals of all shards whichever worker serves it; and each shard's part is kept in
 * a row of its own (sort key `shard#<id>`), made durable before the shard's records are
 * acknowledged, so that the shard's next owner (after a crash, a restart or a handoff) goes on
 * from it. Costs per worker and tap, per `updateEveryMs`: one write of its deflated state (a write
 * unit per KB), one query, and one write per shard that had records.
 *
 * @example
 * ```ts
 * const states = new TapStateTable(ddb, 'shop_taps');
 * await states.ensure();
 * await states.put('clicks', { worker, at: Date.now(), partial, finals: [], watermark: null, marks: {} });
 * const all = await states.all('clicks');
 * ```
 */
export class TapStateTable {
  constructor(
    private readonly ddb: DynamoDBClient,
    readonly tableName: string,
    private readonly signal?: AbortSignal,
  ) {}

  ensure(): Promise<void> {
    return ensureTableExists(this.ddb, this.tableName, 'tap', 'worker');
  }

  /** Writes a worker's state; false (nothing written) when it is too large for one item. */
  put(tap: string, state: WorkerTapState): Promise<boolean> {
    return this.putRow(tap, state.worker, state.at, state);
  }

  /** Writes a shard's state; false (nothing written) when it is too large for one item. */
  putShard(tap: string, state: ShardTapState): Promise<boolean> {
    return this.putRow(tap, `${SHARD_ROW}${state.shardId}`, state.at, state);
  }

  /** A shard's latest durable state, if any owner wrote one. */
  async shard(tap: string, shardId: string): Promise<ShardTapState | undefined> {
    const out = await withRetry(
      () =>
        this.ddb.send(
          new GetItemCommand({
            TableName: this.tableName,
            Key: { tap: { S: tap }, worker: { S: `${SHARD_ROW}${shardId}` } },
            ConsistentRead: true,
          }),
          { abortSignal: this.signal },
        ),
      { signal: this.signal },
    );
    return out.Item?.data?.B ? (decode(out.Item.data.B) as ShardTapState) : undefined;
  }

  private async putRow(tap: string, sk: string, at: number, state: object): Promise<boolean> {
    const data = deflateRawSync(Buffer.from(JSON.stringify(state)));
    if (data.byteLength > MAX_STATE_BYTES) return false;
    await withRetry(
      () =>
        this.ddb.send(
          new PutItemCommand({
            TableName: this.tableName,
            Item: { tap: { S: tap }, worker: { S: sk }, at: { N: String(at) }, data: { B: data } },
          }),
          { abortSignal: this.signal },
        ),
      { signal: this.signal },
    );
    return true;
  }

  /** Every worker's latest state of a tap. */
  async all(tap: string): Promise<WorkerTapState[]> {
    return withRetry(
      async () => {
        const out: WorkerTapState[] = [];
        for await (const page of paginateQuery(
          { client: this.ddb },
          {
            TableName: this.tableName,
            KeyConditionExpression: '#t = :t',
            ExpressionAttributeNames: { '#t': 'tap' },
            ExpressionAttributeValues: { ':t': { S: tap } },
            ConsistentRead: true,
          },
          { abortSignal: this.signal },
        ))
          for (const item of page.Items ?? [])
            if (item.data?.B && !item.worker?.S?.startsWith(SHARD_ROW)) out.push(decode(item.data.B) as WorkerTapState);
        return out;
      },
      { signal: this.signal },
    );
  }
}

const decode = (data: Uint8Array): unknown => JSON.parse(inflateRawSync(Buffer.from(data)).toString());
