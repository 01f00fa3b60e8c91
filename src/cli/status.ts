import { DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import { isNotFound } from '../core/not-found.js';
import type { Clients } from '../core/clients.js';
import type { AppDef } from '../core/pipeline.js';
import { createClients, destroyClients } from '../runtime/clients.js';
import { describeCheckpoint, type Lease } from '../runtime/leases/lease.js';
import { LeaseTable } from '../runtime/leases/table.js';
import { ScannedStore } from '../sources/scan/scanned-store.js';
import { parseSegment } from '../sources/scan/segments.js';
import { tablePrefix } from '../views/tables/naming.js';

/** One shard as `tributary status --json` prints it. */
export interface ShardStatus {
  readonly source: string;
  readonly shard: string;
  /** Worker holding the lease; null when nobody does. */
  readonly owner: string | null;
  /** Sequence number (with `/sub` for KPL records) or a sentinel: TRIM_HORIZON, LATEST, SHARD_END, AT_TIMESTAMP:ms. */
  readonly checkpoint: string;
  /** ISO time of the last checkpoint; null before the first one. */
  readonly updatedAt: string | null;
  /** Milliseconds behind the tip at the last checkpoint (Kinesis); null when unknown. */
  readonly millisBehind: number | null;
  readonly parentShardIds: readonly string[];
  /** A backfill segment's progress (its shard is `backfill-<i>-of-<n>`): items its Scan has read, and whether it is done. */
  readonly backfill?: { readonly itemsScanned: number; readonly done: boolean };
}

/**
 * `tributary status`: reads the app's lease table and prints one line per shard — owner,
 * checkpoint, time of the last checkpoint and how far behind it was — as a table, or as JSON
 * with `json: true`. Resolves with the exit code (1 when the lease table does not exist yet).
 *
 * @example
 * ```ts
 * await statusCommand(await loadApp('examples/shop.ts'), { json: true });
 * ```
 */
export async function statusCommand(
  def: AppDef,
  flags: { readonly json?: boolean; readonly prefix?: string } = {},
): Promise<number> {
  const clients = createClients();
  const leaseTable = tablePrefix(flags.prefix).physical(def.leaseTable);
  try {
    // One plain call first: a missing table or an unreachable endpoint is reported, not retried forever.
    try {
      await clients.dynamodb.send(new DescribeTableCommand({ TableName: leaseTable }));
    } catch (e) {
      if (!isNotFound(e)) throw e;
      process.stderr.write(
        `tributary: lease table '${leaseTable}' does not exist: app '${def.name}' has not run against this endpoint yet\n`,
      );
      return 1;
    }
    const leases = await new LeaseTable(clients.dynamodb, leaseTable).list();
    const scanned = await backfillProgress(clients, leaseTable, leases);
    const rows = leases
      .map((l) => toStatus(l, scanned.get(`${l.source}#${l.shardId}`)))
      .sort((a, b) => a.source.localeCompare(b.source) || a.shard.localeCompare(b.shard));
    process.stdout.write(flags.json ? JSON.stringify(rows, null, 2) + '\n' : formatTable(def, leaseTable, rows));
    return 0;
  } finally {
    destroyClients(clients);
  }
}

/** Items scanned per backfill segment (`source#shard`), from the pages in the lease table. */
async function backfillProgress(
  clients: Clients,
  leaseTable: string,
  leases: readonly Lease[],
): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  const sources = new Set(leases.filter((l) => parseSegment(l.shardId)).map((l) => l.source));
  for (const source of sources)
    await new ScannedStore(clients.dynamodb, leaseTable, source).forEachPage((segment, items) => {
      const k = `${source}#${segment}`;
      out.set(k, (out.get(k) ?? 0) + items);
    }, true);
  return out;
}

function toStatus(l: Lease, itemsScanned: number | undefined): ShardStatus {
  const segment = parseSegment(l.shardId) !== undefined;
  return {
    ...(segment ? { backfill: { itemsScanned: itemsScanned ?? 0, done: l.checkpoint.kind === 'SHARD_END' } } : {}),
    source: l.source,
    shard: l.shardId,
    owner: l.owner ?? null,
    checkpoint: describeCheckpoint(l.checkpoint),
    updatedAt: l.updatedAt ?? null,
    millisBehind: l.millisBehind ?? null,
    parentShardIds: l.parentShardIds,
  };
}

const HEADER = ['SOURCE', 'SHARD', 'OWNER', 'CHECKPOINT', 'UPDATED AT', 'BEHIND'] as const;

function formatTable(def: AppDef, leaseTable: string, rows: readonly ShardStatus[]): string {
  const title = `app '${def.name}' — lease table '${leaseTable}', ${rows.length} shard${rows.length === 1 ? '' : 's'}\n`;
  if (rows.length === 0) return title;
  const cells = rows.map((r) => [
    r.source,
    r.shard,
    r.owner ?? '-',
    r.checkpoint,
    r.updatedAt ?? '-',
    r.millisBehind === null ? '?' : `${r.millisBehind} ms`,
  ]);
  const widths = HEADER.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  const line = (c: readonly string[]) =>
    c
      .map((v, i) => v.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  return title + [line(HEADER), ...cells.map(line)].join('\n') + '\n' + backfillLines(rows);
}

/** One line per backfilled source: segments done and items scanned. */
function backfillLines(rows: readonly ShardStatus[]): string {
  const bySource = new Map<string, ShardStatus[]>();
  for (const r of rows) if (r.backfill) bySource.set(r.source, [...(bySource.get(r.source) ?? []), r]);
  return [...bySource]
    .map(([source, segs]) => {
      const done = segs.filter((r) => r.backfill!.done).length;
      const items = segs.reduce((a, r) => a + r.backfill!.itemsScanned, 0);
      return `backfill of '${source}': ${done === segs.length ? 'done' : 'scanning'}, ${done} of ${segs.length} segments done, ${items} items scanned\n`;
    })
    .join('');
}
