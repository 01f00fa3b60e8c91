import {
  ConditionalCheckFailedException,
  paginateScan,
  PutItemCommand,
  UpdateItemCommand,
  type AttributeValue,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import type { Checkpoint } from '../../core/position.js';
import { ensureTableExists } from '../../sinks/ensure-table.js';
import { withRetry } from '../../core/retry.js';
import { decodeCheckpoint, encodeCheckpoint, leaseKeyOf, type Lease } from './lease.js';

/**
 * The lease table: one item per shard, KCL-shaped. Every mutation is conditioned on the lease
 * counter (and owner), so a worker that lost a lease can neither renew nor checkpoint it.
 */
export class LeaseTable {
  constructor(
    private readonly ddb: DynamoDBClient,
    readonly tableName: string,
    /** Once aborted, calls in flight are cancelled and nothing is retried (a runner stopping past its deadline). */
    private readonly signal?: AbortSignal,
  ) {}

  /** Creates the table (on-demand) if it does not exist, and waits until it is active. */
  async ensure(): Promise<void> {
    await ensureTableExists(this.ddb, this.tableName, 'leaseKey');
  }

  /** Every lease (not the exactly-once progress items the table also holds). A transient error restarts the scan: a lease table holds one item per shard, a few pages at most. */
  list(): Promise<Lease[]> {
    return withRetry(async () => {
      const out: Lease[] = [];
      for await (const page of paginateScan({ client: this.ddb }, { TableName: this.tableName, ConsistentRead: true }))
        // Items with a kind are the table's other state (exactly-once progress, backfill pages), not leases.
        for (const item of page.Items ?? []) if (item.kind === undefined) out.push(fromItem(item));
      return out;
    }, this.retry);
  }

  /** Options of every retry loop: the abort signal. */
  private get retry(): { signal?: AbortSignal } {
    return { signal: this.signal };
  }

  /** Creates a lease unless one exists; returns true when this call created it. */
  async createIfMissing(
    source: string,
    shardId: string,
    parents: readonly string[],
    checkpoint: Checkpoint,
  ): Promise<boolean> {
    const cp = encodeCheckpoint(checkpoint);
    try {
      await withRetry(
        () =>
          this.ddb.send(
            new PutItemCommand({
              TableName: this.tableName,
              Item: {
                leaseKey: { S: leaseKeyOf(source, shardId) },
                source: { S: source },
                shardId: { S: shardId },
                leaseCounter: { N: '0' },
                checkpoint: { S: cp.checkpoint },
                checkpointSubSequenceNumber: { N: String(cp.sub) },
                parentShardIds: { L: parents.map((p) => ({ S: p })) },
                ownerSwitchesSinceCheckpoint: { N: '0' },
              },
              ConditionExpression: 'attribute_not_exists(leaseKey)',
            }),
            { abortSignal: this.signal },
          ),
        this.retry,
      );
      return true;
    } catch (e) {
      if (e instanceof ConditionalCheckFailedException) return false;
      throw e;
    }
  }

  /** Takes a free or expired lease, or steals one, if its counter is still `expected.counter`. */
  async take(expected: Lease, owner: string): Promise<Lease | undefined> {
    const switched = expected.owner !== undefined && expected.owner !== owner;
    return this.mutate(
      expected,
      'SET leaseOwner = :me, leaseCounter = :next, ownerSwitchesSinceCheckpoint = ownerSwitchesSinceCheckpoint + :sw REMOVE handoffTo',
      {
        ':me': { S: owner },
        ':sw': { N: switched ? '1' : '0' },
      },
      false,
    ).then(
      (l) =>
        l && { ...l, owner, ownerSwitchesSinceCheckpoint: expected.ownerSwitchesSinceCheckpoint + (switched ? 1 : 0) },
    );
  }

  /** Renews a held lease; undefined when it was lost. The result says if another worker asked for it. */
  async renew(held: Lease): Promise<Lease | undefined> {
    return this.mutate(held, 'SET leaseCounter = :next', {}, true);
  }

  /**
   * Asks the owner of a lease to hand it over. Leaves the counter alone, so the owner keeps the
   * lease until it has drained and checkpointed; it sees the request at its next renewal.
   */
  async requestHandoff(lease: Lease, requester: string): Promise<boolean> {
    try {
      await withRetry(
        () =>
          this.ddb.send(
            new UpdateItemCommand({
              TableName: this.tableName,
              Key: { leaseKey: { S: lease.leaseKey } },
              UpdateExpression: 'SET handoffTo = :me',
              ConditionExpression: 'leaseOwner = :owner AND attribute_not_exists(handoffTo)',
              ExpressionAttributeValues: { ':me': { S: requester }, ':owner': { S: lease.owner ?? '' } },
            }),
            { abortSignal: this.signal },
          ),
        this.retry,
      );
      return true;
    } catch (e) {
      if (e instanceof ConditionalCheckFailedException) return false;
      throw e;
    }
  }

  /** Moves the checkpoint of a held lease; undefined when it was lost (the write did not happen). */
  async checkpoint(
    held: Lease,
    checkpoint: Checkpoint,
    extra: { millisBehind?: number } = {},
  ): Promise<Lease | undefined> {
    const cp = encodeCheckpoint(checkpoint);
    const l = await this.mutate(
      held,
      'SET leaseCounter = :next, checkpoint = :cp, checkpointSubSequenceNumber = :sub, ownerSwitchesSinceCheckpoint = :zero, updatedAt = :now, millisBehind = :behind, checkpointResume = :resume',
      {
        ':behind': extra.millisBehind === undefined ? { NULL: true } : { N: String(extra.millisBehind) },
        ':resume': cp.resume === undefined ? { NULL: true } : { S: cp.resume },
        ':cp': { S: cp.checkpoint },
        ':sub': { N: String(cp.sub) },
        ':zero': { N: '0' },
        ':now': { S: new Date().toISOString() },
      },
      true,
    );
    return l && { ...l, checkpoint, ownerSwitchesSinceCheckpoint: 0 };
  }

  /** Gives a held lease up so another worker (or this one, later) can take it at once. */
  async release(held: Lease): Promise<boolean> {
    return (await this.mutate(held, 'SET leaseCounter = :next REMOVE leaseOwner, handoffTo', {}, true)) !== undefined;
  }

  private async mutate(
    l: Lease,
    update: string,
    values: Record<string, AttributeValue>,
    mustOwn: boolean,
  ): Promise<Lease | undefined> {
    const next = l.counter + 1;
    const cond = mustOwn ? 'leaseCounter = :expected AND leaseOwner = :owner' : 'leaseCounter = :expected';
    const vals: Record<string, AttributeValue> = {
      ...values,
      ':expected': { N: String(l.counter) },
      ':next': { N: String(next) },
    };
    if (mustOwn) vals[':owner'] = { S: l.owner ?? '' };
    try {
      const out = await withRetry(
        () =>
          this.ddb.send(
            new UpdateItemCommand({
              TableName: this.tableName,
              Key: { leaseKey: { S: l.leaseKey } },
              UpdateExpression: update,
              ConditionExpression: cond,
              ExpressionAttributeValues: vals,
              ReturnValues: 'ALL_NEW',
            }),
            { abortSignal: this.signal },
          ),
        this.retry,
      );
      return out.Attributes ? fromItem(out.Attributes) : { ...l, counter: next };
    } catch (e) {
      if (e instanceof ConditionalCheckFailedException) return undefined;
      throw e;
    }
  }
}

function fromItem(item: Record<string, AttributeValue>): Lease {
  return {
    leaseKey: item.leaseKey!.S!,
    source: item.source?.S ?? '',
    shardId: item.shardId?.S ?? '',
    owner: item.leaseOwner?.S,
    counter: Number(item.leaseCounter?.N ?? '0'),
    checkpoint: decodeCheckpoint(
      item.checkpoint?.S ?? 'TRIM_HORIZON',
      Number(item.checkpointSubSequenceNumber?.N ?? '0'),
      item.checkpointResume?.S,
    ),
    parentShardIds: (item.parentShardIds?.L ?? []).map((a) => a.S!),
    ownerSwitchesSinceCheckpoint: Number(item.ownerSwitchesSinceCheckpoint?.N ?? '0'),
    updatedAt: item.updatedAt?.S,
    handoffTo: item.handoffTo?.S,
    millisBehind: item.millisBehind?.N === undefined ? undefined : Number(item.millisBehind.N),
  };
}
