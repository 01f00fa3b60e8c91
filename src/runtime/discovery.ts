import type { Checkpoint } from '../core/position.js';
import type { ShardInfo, StartPosition } from '../core/source.js';
import { closedShards } from '../core/lineage.js';
import { parseSegment } from '../sources/scan/segments.js';
import type { LeaseTable } from './leases/table.js';
import type { SourceGroup } from './source-groups.js';

/**
 * Lists the shards of each source whose discovery interval has passed, and creates a lease for
 * each new shard. A source's first discovery starts its shards at the source's start position
 * (from LATEST, closed shards are skipped: they hold nothing newer); shards found later start at
 * their beginning, since they appeared after the app started reading.
 */
export async function discoverShards(
  groups: Iterable<SourceGroup>,
  leases: LeaseTable,
  now: number,
  intervalMs: number,
): Promise<void> {
  for (const g of groups) {
    if (now - g.lastDiscovery < intervalMs) continue;
    const shards = await g.bound!.listShards();
    const existing = new Set((await leases.list()).filter((l) => l.source === g.source.name).map((l) => l.shardId));
    const firstTime = existing.size === 0;
    const skip = firstTime && g.source.startPosition === 'LATEST' ? closedShards(shards) : new Set<string>();
    // Parents before children: a child lease is never visible before its parents' leases.
    for (const s of topological(shards)) {
      if (existing.has(s.shardId)) continue;
      // A backfill starts only with the app's first read of its table: later, its stream shards go on
      // from their checkpoints, and a Scan now would count the table again.
      if (!firstTime && parseSegment(s.shardId)) continue;
      const cp: Checkpoint = skip.has(s.shardId)
        ? { kind: 'SHARD_END' }
        : firstTime
          ? initialCheckpoint(g.source.startPosition)
          : { kind: 'TRIM_HORIZON' };
      const parents = firstTime ? s.parentShardIds : s.parentShardIds.filter((p) => !parseSegment(p));
      await leases.createIfMissing(g.source.name, s.shardId, parents, cp);
    }
    g.shards = shards;
    g.lastDiscovery = now;
  }
}

function initialCheckpoint(p: StartPosition): Checkpoint {
  if (p === 'TRIM_HORIZON' || p === 'LATEST') return { kind: p };
  return { kind: 'AT_TIMESTAMP', timestamp: p.atTimestamp.getTime() };
}

function topological(shards: readonly ShardInfo[]): ShardInfo[] {
  const byId = new Map(shards.map((s) => [s.shardId, s]));
  const out: ShardInfo[] = [];
  const seen = new Set<string>();
  const visit = (s: ShardInfo) => {
    if (seen.has(s.shardId)) return;
    seen.add(s.shardId);
    for (const p of s.parentShardIds) {
      const ps = byId.get(p);
      if (ps) visit(ps);
    }
    out.push(s);
  };
  shards.forEach(visit);
  return out;
}
