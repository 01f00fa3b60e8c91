import { describe, expect, it } from 'vitest';
import { compareSequence, comparePosition } from '../../src/core/position.js';
import { decodeCheckpoint, encodeCheckpoint } from '../../src/runtime/leases/lease.js';
import { closedShards } from '../../src/core/lineage.js';
import { itemSize } from '../../src/sinks/item-size.js';
import { marshall } from '@aws-sdk/util-dynamodb';

describe('checkpoints', () => {
  it('round-trip through the lease table encoding', () => {
    for (const c of [
      {
        kind: 'sequence',
        sequenceNumber: '49590338271490256608559692538361571095921575989136588898',
        subSequenceNumber: 3,
      },
      { kind: 'TRIM_HORIZON' },
      { kind: 'LATEST' },
      { kind: 'SHARD_END' },
      { kind: 'AT_TIMESTAMP', timestamp: 1_700_000_000_000 },
    ] as const) {
      const e = encodeCheckpoint(c);
      expect(decodeCheckpoint(e.checkpoint, e.sub)).toEqual(c);
    }
  });

  it('orders sequence numbers numerically, beyond 2^53', () => {
    expect(compareSequence('9', '10')).toBeLessThan(0);
    expect(
      compareSequence(
        '49590338271490256608559692538361571095921575989136588899',
        '49590338271490256608559692538361571095921575989136588898',
      ),
    ).toBeGreaterThan(0);
    expect(
      comparePosition({ sequenceNumber: '5', subSequenceNumber: 2 }, { sequenceNumber: '5', subSequenceNumber: 1 }),
    ).toBeGreaterThan(0);
  });
});

describe('lineage', () => {
  // When a child may start (its parents at SHARD_END, or gone) is planTakes's rule: see take-plan.test.ts.
  it('skips every closed shard when an app starts at LATEST', () => {
    expect([
      ...closedShards([
        { shardId: 'x', parentShardIds: [], endingSequenceNumber: '9' },
        { shardId: 'y', parentShardIds: [] },
      ]),
    ]).toEqual(['x']);
  });
});

describe('itemSize', () => {
  it('counts names and values as DynamoDB does', () => {
    expect(itemSize(marshall({ id: 'abc' }))).toBe(2 + 3);
    expect(itemSize(marshall({ n: 12345 }))).toBe(1 + 4);
    expect(itemSize(marshall({ s: 'é' }))).toBe(1 + 2);
    expect(itemSize(marshall({ big: 'x'.repeat(500_000) }))).toBeGreaterThan(400 * 1024);
    // Trailing zeros do not count; binaries count as bytes in either form (SDK bytes, wire base64).
    expect(itemSize(marshall({ n: 1_000_000 }))).toBe(1 + 2);
    expect(itemSize({ b: { B: Uint8Array.of(1, 2, 3) } })).toBe(1 + 3);
    expect(itemSize({ b: { B: Buffer.of(1, 2, 3).toString('base64') } })).toBe(1 + 3);
  });
});
