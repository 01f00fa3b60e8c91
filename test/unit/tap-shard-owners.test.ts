import { describe, expect, it } from 'vitest';
import { shardOwners } from '../../src/taps/shared-view.js';

const mark = (sequenceNumber: string, subSequenceNumber = 0) => ({ sequenceNumber, subSequenceNumber });

describe('shardOwners', () => {
  it("counts a shard two workers publish from the one whose part reaches further, by sequence number's value", () => {
    const owners = shardOwners([
      // A zombie resumed with an old part of shard-1; the new owner has read further.
      { worker: 'zombie', at: 2_000, marks: { 'shard-1': mark('999'), 'shard-2': mark('5') } },
      { worker: 'owner', at: 1_000, marks: { 'shard-1': mark('1000') } },
    ]);
    expect(owners.get('shard-1')).toBe('owner');
    expect(owners.get('shard-2')).toBe('zombie');
  });

  it('breaks a tie (a handoff: the new owner starts from the old one’s state) by the later write, and orders sub-sequence numbers', () => {
    expect(
      shardOwners([
        { worker: 'old', at: 1_000, marks: { s: mark('42', 3) } },
        { worker: 'new', at: 1_500, marks: { s: mark('42', 3) } },
      ]).get('s'),
    ).toBe('new');
    expect(
      shardOwners([
        { worker: 'a', at: 9_000, marks: { s: mark('42', 1) } },
        { worker: 'b', at: 1_000, marks: { s: mark('42', 2) } },
      ]).get('s'),
    ).toBe('b');
  });
});
