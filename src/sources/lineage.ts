import type { ShardInfo } from '../core/source.js';

/**
 * Shards that may start now: those whose parents are all finished, or no longer listed (trimmed
 * away after their records expired).
 */
export function readyShards(shards: readonly ShardInfo[], finished: ReadonlySet<string>): ShardInfo[] {
  const listed = new Set(shards.map((s) => s.shardId));
  return shards.filter((s) => s.parentShardIds.every((p) => finished.has(p) || !listed.has(p)));
}

/**
 * Shards to skip when an app starts at LATEST with no checkpoints: every closed shard. Its open
 * descendants start at the tip; KCL does the same.
 */
export function closedShards(shards: readonly ShardInfo[]): Set<string> {
  return new Set(shards.filter((s) => s.endingSequenceNumber !== undefined).map((s) => s.shardId));
}
