import { DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import { DescribeStreamCommand, GetRecordsCommand, GetShardIteratorCommand } from '@aws-sdk/client-dynamodb-streams';
import {
  GetRecordsCommand as KinesisGetRecords,
  GetShardIteratorCommand as KinesisIterator,
  ListShardsCommand,
} from '@aws-sdk/client-kinesis';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Clients } from '../core/clients.js';
import { TributaryError } from '../core/errors.js';
import type { AppDef } from '../core/pipeline.js';
import { compareSequence } from '../core/position.js';
import type { Lease } from '../runtime/leases/lease.js';
import { LeaseTable } from '../runtime/leases/table.js';

/** A shard of a stream and how far it goes: what a reader must have checkpointed to be done with it. */
export interface ShardTip {
  /** The table (DynamoDB Streams) or stream (Kinesis) it belongs to. */
  readonly stream: string;
  readonly shardId: string;
  /** Sequence number of its last record; undefined while it has none. */
  readonly last?: string;
}

/** Options of {@link waitCaughtUp}. */
export interface CaughtUpOptions {
  /** Physical table names, as the runner was given them. Default the logical names. */
  readonly tableName?: (logical: string) => string;
  /** How long to wait before failing with `testing.notSettled`. Default 120 s. */
  readonly timeoutMs?: number;
  /** Time between two looks. Default 100 ms. */
  readonly pollMs?: number;
}

/**
 * Waits until an app running against real services (the emulators) has applied, or sent to the
 * dead letters, every record now in its sources, and checkpointed it: the emulators' counterpart
 * of the test driver's `settle()`. It reads the last record of every shard of the app's streams
 * and compares the lease table's checkpoints with them; a stream the app itself writes to (a
 * Kinesis bridge) is read again on every look. Fails with `testing.notSettled`, naming the shards
 * that are behind, after `timeoutMs`.
 *
 * @example
 * ```ts
 * await clients.dynamodb.send(new PutItemCommand({ TableName: 'shop_orders', Item: marshall(order) }));
 * await waitCaughtUp(clients, shop);
 * expect(await scanAll(clients.dynamodb, 'shop_orders_by_customer')).toHaveLength(1);
 * ```
 */
export async function waitCaughtUp(clients: Clients, app: AppDef, options: CaughtUpOptions = {}): Promise<void> {
  const physical = options.tableName ?? ((n: string) => n);
  const leases = new LeaseTable(clients.dynamodb, physical(app.leaseTable));
  const timeoutMs = options.timeoutMs ?? 120_000;
  const until = Date.now() + timeoutMs;
  for (;;) {
    const behind = unfinished(app, await leases.list(), await readStreamTips(clients, app, physical));
    if (behind.length === 0) return;
    if (Date.now() > until)
      throw new TributaryError(
        'testing.notSettled',
        `the app has not caught up after ${timeoutMs} ms: ${behind.join('; ')}`,
        { details: { behind } },
      );
    await sleep(options.pollMs ?? 100);
  }
}

/** The last record of every shard of the streams an app reads, read from the services. */
export async function readStreamTips(
  clients: Clients,
  app: AppDef,
  physical: (logical: string) => string = (n) => n,
): Promise<ShardTip[]> {
  const tips: ShardTip[] = [];
  const sources = new Map(app.pipelines.map((p) => [p.source.name, p.source]));
  for (const s of sources.values()) {
    if (s.kind === 'dynamodb' && s.table) {
      const table = physical(s.table);
      const arn = (await clients.dynamodb.send(new DescribeTableCommand({ TableName: table }))).Table?.LatestStreamArn;
      if (!arn) continue;
      const shards =
        (await clients.streams.send(new DescribeStreamCommand({ StreamArn: arn }))).StreamDescription?.Shards ?? [];
      for (const sh of shards) {
        const first = await clients.streams.send(
          new GetShardIteratorCommand({ StreamArn: arn, ShardId: sh.ShardId, ShardIteratorType: 'TRIM_HORIZON' }),
        );
        const last = await lastOf(first.ShardIterator, async (it) => {
          const page = await clients.streams.send(new GetRecordsCommand({ ShardIterator: it }));
          return { last: page.Records?.at(-1)?.dynamodb?.SequenceNumber, next: page.NextShardIterator };
        });
        tips.push({ stream: table, shardId: sh.ShardId!, ...(last ? { last } : {}) });
      }
    } else if (s.kind === 'kinesis') {
      const shards = (await clients.kinesis.send(new ListShardsCommand({ StreamName: s.name }))).Shards ?? [];
      for (const sh of shards) {
        const first = await clients.kinesis.send(
          new KinesisIterator({ StreamName: s.name, ShardId: sh.ShardId, ShardIteratorType: 'TRIM_HORIZON' }),
        );
        const last = await lastOf(first.ShardIterator, async (it) => {
          const page = await clients.kinesis.send(new KinesisGetRecords({ ShardIterator: it }));
          return { last: page.Records?.at(-1)?.SequenceNumber, next: page.NextShardIterator };
        });
        tips.push({ stream: s.name, shardId: sh.ShardId!, ...(last ? { last } : {}) });
      }
    }
  }
  return tips;
}

/**
 * What an app has not finished with, as the lease table shows it: a source with no lease yet, a
 * shard whose checkpoint is short of its last record, a shard of a stream the app reads that has
 * records but no lease (a child of a split, before discovery). Empty: every record in the driver's
 * streams has been applied or dead-lettered, and checkpointed. A checkpoint follows the
 * acknowledgement of every sink (the view's writes are durable, a tap's part is stored), so
 * nothing the app owes is still in a buffer. Sources the driver does not serve (`memorySource`)
 * are not waited on; a table scan's segments, until they end.
 */
export function unfinished(app: AppDef, leases: readonly Lease[], tips: readonly ShardTip[]): string[] {
  const missing: string[] = [];
  const byShard = new Map(tips.map((t) => [t.shardId, t]));
  const sources = new Set(app.pipelines.filter((p) => p.source.kind !== 'memory').map((p) => p.source.name));
  const read = new Set<string>();
  const leased = new Set<string>();
  for (const name of sources)
    if (!leases.some((l) => l.source === name)) missing.push(`source '${name}': no lease yet`);
  for (const l of leases) {
    if (!sources.has(l.source)) continue;
    leased.add(l.shardId);
    const tip = byShard.get(l.shardId);
    if (tip) read.add(tip.stream);
    const cp = l.checkpoint;
    const done =
      cp.kind === 'SHARD_END' ||
      (tip !== undefined &&
        (tip.last === undefined || (cp.kind === 'sequence' && compareSequence(cp.sequenceNumber, tip.last) >= 0)));
    if (!done)
      missing.push(
        `shard ${l.shardId} of '${l.source}': checkpoint ${cp.kind === 'sequence' ? cp.sequenceNumber : cp.kind}, last record ${tip?.last ?? '(a scan: not ended)'}`,
      );
  }
  for (const t of tips)
    if (read.has(t.stream) && t.last !== undefined && !leased.has(t.shardId))
      missing.push(`shard ${t.shardId} of '${t.stream}': has records and no lease yet`);
  return missing;
}

/** Reads a shard from `iterator` until a page comes back empty; the sequence number of its last record. */
async function lastOf(
  iterator: string | undefined,
  page: (iterator: string) => Promise<{ last: string | undefined; next: string | undefined }>,
): Promise<string | undefined> {
  let last: string | undefined;
  for (let it = iterator; it;) {
    const p = await page(it);
    if (p.last === undefined) break;
    last = p.last;
    it = p.next;
  }
  return last;
}
