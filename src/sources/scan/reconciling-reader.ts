import { createHash } from 'node:crypto';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import type { Batch } from '../../core/batch.js';
import { canonicalItem } from '../../core/item-canonical.js';
import type { DynamoChange } from '../../core/records.js';
import type { ShardReader } from '../../core/source.js';
import type { ReachLog } from './reach-log.js';
import { ABSENT, type Reach, type Reconciler } from './reconcile.js';

const MARSHALL = { removeUndefinedValues: true, convertClassInstanceToMap: true } as const;

/** The hash of an image as the reconciler compares them: equal for items DynamoDB holds as equal. */
export function imageHash(item: Readonly<Record<string, AttributeValue>> | undefined): string {
  if (!item) return ABSENT;
  return createHash('sha256').update(canonicalItem(item)).digest('base64').slice(0, 16);
}

/** An item's key as the reconciler names it. */
export const itemKeyId = (item: Readonly<Record<string, AttributeValue>>, keyNames: readonly string[]): string =>
  canonicalItem(Object.fromEntries(keyNames.map((n) => [n, item[n]!])));

/**
 * A stream shard's reader after a backfill: drops the changes the backfill's Scan already
 * included (see {@link Reconciler}); the batch's checkpoint still covers them. The reaches a
 * batch found are appended to the log before the batch is handed on.
 *
 * @example
 * ```ts
 * const reader = new ReconcilingReader(pollShard(adapter, ref, from, env), reconciler, log, ['id']);
 * ```
 */
export class ReconcilingReader<T> implements ShardReader<DynamoChange<T>> {
  constructor(
    private readonly inner: ShardReader<DynamoChange<T>>,
    private readonly reconciler: Reconciler,
    private readonly log: ReachLog,
    private readonly keyNames: readonly string[],
    private readonly onDropped?: (n: number) => void,
  ) {}

  async next(signal: AbortSignal): Promise<Batch<DynamoChange<T>> & { readonly ended: boolean }> {
    const batch = await this.inner.next(signal);
    if (batch.records.length === 0) return batch;
    const reached: [string, Reach][] = [];
    const records = batch.records.filter((c) => {
      const key = itemKeyId(marshall(c.keys, MARSHALL) as Record<string, AttributeValue>, this.keyNames);
      const before =
        c.oldImage === undefined ? ABSENT : imageHash(marshall(c.oldImage, MARSHALL) as Record<string, AttributeValue>);
      const after =
        c.newImage === undefined ? ABSENT : imageHash(marshall(c.newImage, MARSHALL) as Record<string, AttributeValue>);
      const d = this.reconciler.admit(key, before, after, {
        shardId: batch.shardId,
        seq: c.position.sequenceNumber,
        createdAtMs: c.approximateCreationTime.getTime(),
      });
      if (d.reached) reached.push([key, d.reached]);
      return d.apply;
    });
    if (reached.length > 0) await this.log.append(reached, (k, r) => this.reconciler.learn(k, r));
    if (records.length < batch.records.length) this.onDropped?.(batch.records.length - records.length);
    return records.length === batch.records.length ? batch : { ...batch, records };
  }
}
