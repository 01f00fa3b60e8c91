import { DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import { DescribeStreamCommand, type Shard } from '@aws-sdk/client-dynamodb-streams';
import type { StreamViewType } from '../../core/images.js';
import type { Checkpoint } from '../../core/position.js';
import type { DynamoChange } from '../../core/records.js';
import type { BoundSource, ShardInfo, ShardReader, SourceEnv, StartPosition, StreamSource } from '../../core/source.js';
import { TributaryError } from '../../core/errors.js';
import { governedTable, type IamEnv, type Permission } from '../../core/iam.js';
import { rethrowMissing } from '../../core/not-found.js';
import { withRetry } from '../../core/retry.js';
import { pollShard, shardInfo } from '../polling/polled-source.js';
import { BackfilledDynamoSource } from './backfilled-source.js';
import { DynamoStreamsAdapter } from './shard-adapter.js';

/** The default longest wait between polls of an idle shard: as Lambda polls a DynamoDB stream: four times a second, so a change reaches a view in well under a second. */
export const IDLE_POLL_MS = 250;

export interface DynamoTableSourceOptions {
  /** Where to begin when the app has no checkpoint for a shard. Default `TRIM_HORIZON`. */
  readonly startPosition?: 'TRIM_HORIZON' | 'LATEST';
  /** Records per GetRecords call (at most 1,000). Default 1,000. */
  readonly batchSize?: number;
  /** Longest wait between polls of an idle shard. Default 250 ms. */
  readonly idlePollMs?: number;
  /** Stable name for checkpoints when the table is given by stream ARN. Default: the table name. */
  readonly name?: string;
  /**
   * Start from the data the table already holds, not only from its changes: a parallel Scan in
   * `segments` (default 4), governed by the table's read capacity and checkpointed per segment in
   * the lease table, then the stream from its start, each change the Scan already included dropped
   * (see docs/exactly-once.md, Backfill). Only on an app's first run on the table (no leases yet for
   * this source): later runs go on from their checkpoints. Needs a table name (not a stream ARN) and
   * a NEW_AND_OLD_IMAGES stream.
   */
  readonly backfill?: boolean | { readonly segments?: number };
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
  // After a backfill the stream is read from its start: changes the Scan included are dropped, the others kept.
  if (options.backfill && startPosition !== 'TRIM_HORIZON')
    throw new TributaryError(
      'config.invalid',
      `source '${tableOrStreamArn}': a backfill reads the stream from TRIM_HORIZON`,
      {
        details: { source: tableOrStreamArn },
      },
    );
  return {
    name,
    kind: 'dynamodb',
    startPosition,
    ...(isArn ? {} : { table: tableOrStreamArn }),
    iam(env: IamEnv): readonly Permission[] {
      const stream: Permission['actions'] = [
        'dynamodb:DescribeStream',
        'dynamodb:GetShardIterator',
        'dynamodb:GetRecords',
      ];
      if (isArn) return [{ actions: stream, resource: { type: 'arn', arn: tableOrStreamArn } }];
      const table = env.tableName(tableOrStreamArn);
      return [
        // DescribeTable finds the table's latest stream; a backfill scans the table through the governed TableIO.
        options.backfill ? governedTable(table, 'dynamodb:Scan') : governedTable(table),
        { actions: stream, resource: { type: 'tableStreams', table } },
        // A backfill keeps its pages and reaches in the lease table (which the runner reads and writes anyway).
        ...(options.backfill
          ? [
              {
                actions: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Scan'] as const,
                resource: { type: 'table', table: env.stateTable } as const,
              },
            ]
          : []),
      ];
    },
    async bind(env: SourceEnv): Promise<BoundSource<DynamoChange<T>>> {
      const stream = isArn
        ? await describeStream(env, tableOrStreamArn)
        : await latestStream(env, env.tableName(tableOrStreamArn));
      const segments = options.backfill
        ? ((options.backfill === true ? undefined : options.backfill.segments) ?? 4)
        : 0;
      if (segments > 0 && (isArn || !stream.keyNames || !env.io || !env.stateTable))
        throw new TributaryError(
          'config.invalid',
          `source '${name}': a backfill needs a table name, not a stream ARN`,
          {
            details: { source: name },
          },
        );
      if (segments > 0 && stream.viewType !== 'NEW_AND_OLD_IMAGES')
        throw new TributaryError(
          'source.streamViewType',
          `source '${name}': a backfill reconciles the stream by old and new images; table '${stream.table}' streams ${stream.viewType}`,
          { details: { source: name, table: stream.table, viewType: stream.viewType } },
        );
      if (!(Number.isInteger(segments) && segments >= 0 && segments <= 1_000))
        throw new TributaryError('config.invalid', `source '${name}': backfill segments must be 1 to 1,000`, {
          details: { source: name },
        });
      return segments > 0
        ? new BackfilledDynamoSource<T>(
            new BoundDynamoSource<T>(name, stream, env, options),
            stream,
            env,
            options,
            segments,
          )
        : new BoundDynamoSource<T>(name, stream, env, options);
    },
  };
}

/** A table's stream: its ARN, and its view type for the start checks. */
export interface StreamOfTable {
  readonly arn: string;
  readonly table: string;
  readonly viewType: StreamViewType;
  /** The table's key attributes (partition, then sort), when described by table name. */
  readonly keyNames?: readonly string[];
  /** DescribeTable's ItemCount (refreshed about every six hours by DynamoDB). */
  readonly itemCount?: number;
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
  const keys = out.Table?.KeySchema ?? [];
  const keyNames = [...keys].sort((a) => (a.KeyType === 'HASH' ? -1 : 1)).map((k) => k.AttributeName!);
  return { arn, table, viewType: spec.StreamViewType, keyNames, itemCount: out.Table?.ItemCount };
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

export class BoundDynamoSource<T> implements BoundSource<DynamoChange<T>> {
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
      idlePollMs: this.options.idlePollMs ?? IDLE_POLL_MS,
    };
    return pollShard(new DynamoStreamsAdapter<T>(this.env, ref), ref, from, this.env);
  }
}
