import { describe, expect, it } from 'vitest';
import { shardInfo } from '../../src/sources/polling/polled-source.js';

describe('shardInfo', () => {
  it('names one parent after a split, two after a Kinesis merge, none for a root shard', () => {
    expect(shardInfo({ ShardId: 'b', ParentShardId: 'a', SequenceNumberRange: {} })).toEqual({
      shardId: 'b',
      parentShardIds: ['a'],
      endingSequenceNumber: undefined,
    });
    expect(shardInfo({ ShardId: 'c', ParentShardId: 'a', AdjacentParentShardId: 'b' }).parentShardIds).toEqual([
      'a',
      'b',
    ]);
    expect(shardInfo({ ShardId: 'a' }).parentShardIds).toEqual([]);
  });

  it('carries the ending sequence number of a closed shard', () => {
    const closed = shardInfo({ ShardId: 'a', SequenceNumberRange: { EndingSequenceNumber: '42' } });
    expect(closed.endingSequenceNumber).toBe('42');
  });
});
