import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { paginateQuery, PutItemCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
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
}

/** DynamoDB's item limit, less room for the key and attributes. */
const MAX_STATE_BYTES = 390 * 1024;

/**
 * The app's tap state table (`<app>_taps`, partition key `tap`, sort key `worker`): each
 * worker writes its part of each tap about once a second, and reads every worker's, so that a
 * tap shows the totals of all shards whichever worker serves it. Costs per worker and tap: one
 * write of its deflated state (a write unit per KB) and one query per `updateEveryMs`.
 *
 * @example
 * ```ts
 * const states = new TapStateTable(ddb, 'shop_taps');
 * await states.ensure();
 * await states.put('clicks', { worker, at: Date.now(), partial, finals: [] });
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
  async put(tap: string, state: WorkerTapState): Promise<boolean> {
    const data = deflateRawSync(Buffer.from(JSON.stringify(state)));
    if (data.byteLength > MAX_STATE_BYTES) return false;
    await withRetry(
      () =>
        this.ddb.send(
          new PutItemCommand({
            TableName: this.tableName,
            Item: { tap: { S: tap }, worker: { S: state.worker }, at: { N: String(state.at) }, data: { B: data } },
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
            if (item.data?.B)
              out.push(JSON.parse(inflateRawSync(Buffer.from(item.data.B)).toString()) as WorkerTapState);
        return out;
      },
      { signal: this.signal },
    );
  }
}
