import { deflateRawSync, inflateRawSync } from 'node:zlib';
import {
  ConditionalCheckFailedException,
  GetItemCommand,
  PutItemCommand,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import { withRetry } from '../../core/retry.js';
import type { Reach } from './reconcile.js';
import { BACKFILL_KIND } from './scanned-store.js';

/**
 * The reaches a backfill's stream readers found (see `Reconciler`), as an append-only log in the
 * app's lease table: one item per batch that found any (`reach#<source>#<n>`), holding its
 * entries, deflated. A reader appends a batch's reaches before the batch goes to the pipelines,
 * so a checkpoint never passes a reach that is not durable, and whichever worker opens a shard
 * next reads the entries appended since it last looked. Appends are conditional on the slot
 * being free, so two workers (or a zombie) never overwrite each other's entries.
 *
 * Only changes inside the read band of their item find a reach, so the log holds about the
 * changes made while the Scan ran, a write unit per KB deflated.
 *
 * @example
 * ```ts
 * const log = new ReachLog(ddb, 'shop_leases', 'orders');
 * await log.catchUp((key, reach) => reconciler.learn(key, reach));
 * await log.append([[key, { shardId, seq, inclusive: true }]]);
 * ```
 */
export class ReachLog {
  /** The first slot this worker has not read. */
  private next = 0;
  /** Appends and reads of this worker, one at a time (they move `next`). */
  private tail: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly ddb: DynamoDBClient,
    readonly tableName: string,
    private readonly source: string,
    private readonly signal?: AbortSignal,
  ) {}

  /** Reads every entry appended since the last call (by any worker) into `onEntry`. */
  catchUp(onEntry: (key: string, reach: Reach) => void): Promise<void> {
    return this.serial(() => this.readNew(onEntry));
  }

  /** Makes entries durable, in a free slot after every slot any worker has written. */
  append(entries: readonly (readonly [string, Reach])[], onEntry: (key: string, reach: Reach) => void): Promise<void> {
    const data = deflateRawSync(Buffer.from(JSON.stringify(entries)));
    return this.serial(async () => {
      for (;;) {
        await this.readNew(onEntry);
        const slot = this.next;
        const written = await this.retry(async () => {
          try {
            await this.ddb.send(
              new PutItemCommand({
                TableName: this.tableName,
                Item: {
                  leaseKey: { S: this.key(slot) },
                  kind: { S: BACKFILL_KIND },
                  source: { S: this.source },
                  data: { B: data },
                },
                ConditionExpression: 'attribute_not_exists(leaseKey)',
              }),
              { abortSignal: this.signal },
            );
            return true;
          } catch (e) {
            if (e instanceof ConditionalCheckFailedException) return false;
            throw e;
          }
        });
        if (written) {
          this.next = slot + 1;
          return;
        }
      }
    });
  }

  private async readNew(onEntry: (key: string, reach: Reach) => void): Promise<void> {
    for (;;) {
      const out = await this.retry(() =>
        this.ddb.send(
          new GetItemCommand({
            TableName: this.tableName,
            Key: { leaseKey: { S: this.key(this.next) } },
            ConsistentRead: true,
          }),
          { abortSignal: this.signal },
        ),
      );
      if (!out.Item?.data?.B) return;
      const entries = JSON.parse(inflateRawSync(Buffer.from(out.Item.data.B)).toString()) as [string, Reach][];
      for (const [key, reach] of entries) onEntry(key, reach);
      this.next++;
    }
  }

  private key(slot: number): string {
    return `reach#${this.source}#${String(slot).padStart(9, '0')}`;
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.tail.then(fn, fn);
    this.tail = run.catch(() => undefined);
    return run;
  }

  private retry<T>(fn: () => Promise<T>): Promise<T> {
    return withRetry(fn, { signal: this.signal });
  }
}
