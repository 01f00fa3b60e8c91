import { ConditionalCheckFailedException, UpdateItemCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { withRetry } from '../../core/retry.js';
import { PROGRESS_KIND } from '../leases/lease.js';

/**
 * What an exactly-once pipeline has committed on one shard, as applied marks (`encodeMark`):
 * - `applied`: every record up to here is applied to every item, or is in the dead letters;
 * - `cuts`: the ends of the commits after `applied`, whose records may be applied to some items
 *   and not yet to others (a crash in the middle of a commit). A new owner cuts the shard's
 *   batches at these positions, so that no batch it writes straddles an item's mark.
 */
export interface ShardProgress {
  readonly applied?: string;
  readonly cuts: readonly string[];
}

/**
 * The progress items of exactly-once pipelines, kept in the lease table beside the leases but in
 * items of their own: a lease's item changes with every renewal, and a progress write must not
 * wait on those. Each is fenced by an epoch, the lease counter at which its owner took the lease:
 * a worker that takes the lease claims the item with its higher epoch first, and from then on a
 * write by the former owner (a zombie: paused past its lease, or partitioned) is refused.
 *
 * @example
 * ```ts
 * const progress = new ProgressTable(ddb, 'shop_leases');
 * const p = await progress.claim('page-views', 'clicks#shardId-000000000000', lease.counter, 'worker-1');
 * if (p && (await progress.write('page-views', 'clicks#shardId-000000000000', lease.counter, { applied, cuts }))) {
 *   // the commit may go
 * }
 * ```
 */
export class ProgressTable {
  constructor(
    private readonly ddb: DynamoDBClient,
    readonly tableName: string,
    private readonly signal?: AbortSignal,
  ) {}

  /**
   * Claims the pipeline's progress item of a lease for `epoch`; resolves with what was committed
   * before, or undefined when a higher epoch holds it (the lease was taken again meanwhile).
   */
  async claim(pipeline: string, leaseKey: string, epoch: number, owner: string): Promise<ShardProgress | undefined> {
    const out = await this.update(pipeline, leaseKey, {
      UpdateExpression: 'SET #kind = :kind, #epoch = :e, #owner = :o, #pipeline = :p, #lease = :l',
      ConditionExpression: 'attribute_not_exists(#epoch) OR #epoch < :e',
      ExpressionAttributeNames: {
        '#kind': 'kind',
        '#epoch': 'epoch',
        '#owner': 'owner',
        '#pipeline': 'pipeline',
        '#lease': 'lease',
      },
      ExpressionAttributeValues: {
        ':kind': { S: PROGRESS_KIND },
        ':e': { N: String(epoch) },
        ':o': { S: owner },
        ':p': { S: pipeline },
        ':l': { S: leaseKey },
      },
      ReturnValues: 'ALL_NEW',
    });
    if (!out) return undefined;
    const a = out.Attributes ?? {};
    return { applied: a.applied?.S, cuts: (a.cuts?.L ?? []).map((c) => c.S!).filter(Boolean) };
  }

  /** Writes progress if `epoch` still holds the item; false when a newer owner claimed it (nothing written). */
  async write(pipeline: string, leaseKey: string, epoch: number, p: ShardProgress): Promise<boolean> {
    const out = await this.update(pipeline, leaseKey, {
      UpdateExpression:
        p.applied === undefined ? 'SET #cuts = :c, #at = :now' : 'SET #cuts = :c, #at = :now, #applied = :a',
      ConditionExpression: '#epoch = :e',
      ExpressionAttributeNames: {
        '#cuts': 'cuts',
        '#at': 'updatedAt',
        '#epoch': 'epoch',
        ...(p.applied === undefined ? {} : { '#applied': 'applied' }),
      },
      ExpressionAttributeValues: {
        ':c': { L: p.cuts.map((c) => ({ S: c })) },
        ':now': { S: new Date().toISOString() },
        ':e': { N: String(epoch) },
        ...(p.applied === undefined ? {} : { ':a': { S: p.applied } }),
      },
    });
    return out !== undefined;
  }

  private async update(
    pipeline: string,
    leaseKey: string,
    input: Omit<ConstructorParameters<typeof UpdateItemCommand>[0], 'TableName' | 'Key'>,
  ) {
    try {
      return await withRetry(
        () =>
          this.ddb.send(
            new UpdateItemCommand({
              ...input,
              TableName: this.tableName,
              Key: { leaseKey: { S: progressKey(pipeline, leaseKey) } },
            }),
            { abortSignal: this.signal },
          ),
        { signal: this.signal },
      );
    } catch (e) {
      if (e instanceof ConditionalCheckFailedException) return undefined;
      throw e;
    }
  }
}

/** The lease-table key of a pipeline's progress on a lease's shard. */
export const progressKey = (pipeline: string, leaseKey: string): string => `${PROGRESS_KIND}#${pipeline}#${leaseKey}`;
