/**
 * The segments of a backfill's parallel Scan, as shards of the table's source: `backfill-3-of-8`.
 * They come before the stream's shards in its lineage (they are the parents of its first
 * shards), so the stream is read only once every segment has been scanned and checkpointed.
 */
export const segmentId = (segment: number, total: number): string => `backfill-${segment}-of-${total}`;

/**
 * The segment number and count of a backfill shard, or undefined for a stream shard.
 *
 * @example
 * ```ts
 * parseSegment('backfill-3-of-8'); // { segment: 3, total: 8 }
 * parseSegment('shardId-00000001700000000000-abcdef12'); // undefined
 * ```
 */
export function parseSegment(shardId: string): { segment: number; total: number } | undefined {
  const m = /^backfill-(\d+)-of-(\d+)$/.exec(shardId);
  return m ? { segment: Number(m[1]), total: Number(m[2]) } : undefined;
}
