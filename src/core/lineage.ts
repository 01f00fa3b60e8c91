import type { ShardInfo } from './source.js';

/**
 * Shards to skip when an app starts at LATEST with no checkpoints: every closed shard. Its open
 * descendants start at the tip; KCL does the same.
 */
export function closedShards(shards: readonly ShardInfo[]): Set<string> {
  return new Set(shards.filter((s) => s.endingSequenceNumber !== undefined).map((s) => s.shardId));
}
