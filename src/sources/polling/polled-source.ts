import type { Checkpoint } from '../../core/position.js';
import type { SourceRecord } from '../../core/records.js';
import type { ShardInfo, ShardReader, SourceEnv } from '../../core/source.js';
import { ReadAhead } from '../read-ahead.js';
import type { ShardAdapter } from './shard-adapter.js';
import { ShardPoller, type PolledShard } from './shard-poller.js';

/**
 * A shard as DynamoDB Streams' DescribeStream and Kinesis's ListShards describe it: the members
 * both services share, and Kinesis's second parent of a merged shard.
 */
export interface ServiceShard {
  readonly ShardId?: string;
  readonly ParentShardId?: string;
  /** Kinesis only: the other parent when two shards were merged. */
  readonly AdjacentParentShardId?: string;
  readonly SequenceNumberRange?: { readonly EndingSequenceNumber?: string };
}

/**
 * A service's shard description as the runtime's {@link ShardInfo}: its parents (one after a
 * split, two after a Kinesis merge) and, once closed, its last sequence number.
 *
 * @example
 * ```ts
 * shardInfo({ ShardId: 's2', ParentShardId: 's1', SequenceNumberRange: {} });
 * // { shardId: 's2', parentShardIds: ['s1'], endingSequenceNumber: undefined }
 * ```
 */
export function shardInfo(s: ServiceShard): ShardInfo {
  return {
    shardId: s.ShardId!,
    parentShardIds: [s.ParentShardId, s.AdjacentParentShardId].filter((p): p is string => !!p),
    endingSequenceNumber: s.SequenceNumberRange?.EndingSequenceNumber,
  };
}

/**
 * The reader of one shard of a polled stream: the service's adapter inside the shared polling
 * loop, with one fetch read ahead while the shard is behind. Both stream sources open their
 * shards through it.
 *
 * @example
 * ```ts
 * const ref = { source: 'orders', streamArn, shardId, batchSize: 1000, idlePollMs: 1000 };
 * return pollShard(new DynamoStreamsAdapter<Order>(env, ref), ref, checkpoint, env);
 * ```
 */
export function pollShard<R extends SourceRecord, P>(
  adapter: ShardAdapter<R, P>,
  shard: PolledShard,
  from: Checkpoint,
  env: Pick<SourceEnv, 'onEvent'>,
): ShardReader<R> {
  return new ReadAhead(new ShardPoller(adapter, shard, from, env.onEvent));
}
