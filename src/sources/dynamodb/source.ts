import { DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import { DescribeStreamCommand, type Shard } from '@aws-sdk/client-dynamodb-streams';
import type { StreamViewType } from '../../core/images.js';
import type { Checkpoint } from '../../core/position.js';
import type { DynamoChange } from '../../core/records.js';
import type { BoundSource, ShardInfo, ShardReader, SourceEnv, StartPosition, StreamSource } from '../../core/source.js';
import { TributaryError } from '../../core/errors.js';
import { rethrowMissing } from '../../core/not-found.js';
import { withRetry } from '../../core/retry.js';
import { pollShard, shardInfo } from '../polling/polled-source.js';
import { DynamoStreamsAdapter } from './shard-adapter.js';

export interface DynamoTableSourceOptions {
  /** Where to begin when the app has no checkpoint for a shard. Default `TRIM_HORIZON`. */
  readonly startPosition?: 'TRIM_HORIZON' | 'LATEST';
  /** Records per GetRecords call (at most 1,000). Default 1,000. */
  readonly batchSize?: number;
  /** Longest wait between polls of an idle shard. Default 1,000 ms. */
  readonly idlePollMs?: number;
  /** Stable name for checkpoints when the table is given by stream ARN. Default: the table name. */
  readonly name?: string;
}

/**
 * A DynamoDB table's change stream as a source, by table name or stream ARN. Images are
 * unmarshalled into `T`.
 *
 * @example
 * ```ts
 * const orders = dynamodbTable<Order>('orders');
 * pipeline('orders-by-customer').from(orders).pipe(map(c => ...)).to(sink)
 * ```
 */
export function dynamodbTable<T = Record<string, unknown>>(
  tableOrStreamArn: string,
  options: DynamoTableSourceOptions = {},
): StreamSource<DynamoChange<T>> {
  const isArn = tableOrStreamArn.startsWith('arn:');
  const name = options.name ?? (isArn ? (tableOrStreamArn.split('/')[1] ?? tableOrStreamArn) : tableOrStreamArn);
  const startPosition: StartPosition = options.startPosition ?? 'TRIM_HORIZON';
  return {
    name,
    kind: 'dynamodb',
    startPosition,
    ...(isArn ? {} : { table: tableOrStreamArn }),
    async bind(env: SourceEnv): Promise<BoundSource<DynamoChange<T>>> {
      const stream = isArn
        ? await describeStream(env, tableOrStreamArn)
        : await latestStream(env, env.tableName(tableOrStreamArn));
      return new BoundDynamoSource<T>(name, stream, env, options);
    },
  };
}

/** A table's stream: its ARN, and its view type for the start checks. */
interface StreamOfTable {
  readonly arn: string;
  readonly table: string;
  readonly viewType: StreamViewType;
}

async function latestStream(env: SourceEnv, table: string): Promise<StreamOfTable> {
  const out = await rethrowMissing(
    () =>
      withRetry(
        () => env.clients.dynamodb.send(new DescribeTableCommand({ TableName: table }), { abortSignal: env.signal }),
        { signal: env.signal },
      ),
    (cause) => new TributaryError('source.notFound', `table '${table}' does not exist`, { details: { table }, cause }),
  );
  const arn = out.Table?.LatestStreamArn;
  const spec = out.Table?.StreamSpecification;
  if (!arn || !spec?.StreamEnabled || !spec.StreamViewType)
    throw new TributaryError('source.notFound', `table '${table}' has no stream enabled`, { details: { table } });
  return { arn, table, viewType: spec.StreamViewType };
}

async function describeStream(env: SourceEnv, arn: string): Promise<StreamOfTable> {
  const out = await rethrowMissing(
    () => withRetry(() => env.clients.streams.send(new DescribeStreamCommand({ StreamArn: arn, Limit: 1 }))),
    (cause) =>
      new TributaryError('source.notFound', `stream '${arn}' does not exist`, { details: { stream: arn }, cause }),
  );
  const d = out.StreamDescription;
  if (!d?.StreamViewType)
    throw new TributaryError('source.notFound', `stream '${arn}' does not exist`, { details: { stream: arn } });
  return { arn, table: d.TableName ?? arn, viewType: d.StreamViewType };
}

class BoundDynamoSource<T> implements BoundSource<DynamoChange<T>> {
  readonly stream: { readonly table: string; readonly viewType: StreamViewType };
  private readonly streamArn: string;

  constructor(
    readonly name: string,
    of: StreamOfTable,
    private readonly env: SourceEnv,
    private readonly options: DynamoTableSourceOptions,
  ) {
    this.streamArn = of.arn;
    this.stream = { table: of.table, viewType: of.viewType };
  }

  async listShards(): Promise<readonly ShardInfo[]> {
    const shards: Shard[] = [];
    let start: string | undefined;
    // A loop of our own: @aws-sdk/client-dynamodb-streams has no paginators, DescribeStream's included.
    do {
      const out = await withRetry(
        () =>
          this.env.clients.streams.send(
            new DescribeStreamCommand({ StreamArn: this.streamArn, ExclusiveStartShardId: start }),
            { abortSignal: this.env.signal },
          ),
        { signal: this.env.signal },
      );
      shards.push(...(out.StreamDescription?.Shards ?? []));
      start = out.StreamDescription?.LastEvaluatedShardId;
    } while (start);
    return shards.map(shardInfo);
  }

  async openShard(shard: ShardInfo, from: Checkpoint): Promise<ShardReader<DynamoChange<T>>> {
    const ref = {
      source: this.name,
      streamArn: this.streamArn,
      shardId: shard.shardId,
      batchSize: Math.min(1000, this.options.batchSize ?? 1000),
      idlePollMs: this.options.idlePollMs ?? 1000,
    };
    return pollShard(new DynamoStreamsAdapter<T>(this.env, ref), ref, from, this.env);
  }
}
