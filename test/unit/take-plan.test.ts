import { describe, expect, it } from 'vitest';
import type { Lease } from '../../src/runtime/leases/lease.js';
import { planTakes, type TakeContext, type TakePlan } from '../../src/runtime/take-plan.js';

const lease = (shardId: string, o: Partial<Lease> = {}): Lease => ({
  leaseKey: `s#${shardId}`,
  source: 's',
  shardId,
  owner: undefined,
  counter: 1,
  checkpoint: { kind: 'TRIM_HORIZON' },
  parentShardIds: [],
  ownerSwitchesSinceCheckpoint: 0,
  ...o,
});
const ctx = (o: Partial<TakeContext> = {}): TakeContext => ({
  me: 'me',
  held: new Set(),
  expired: () => false,
  listed: () => true,
  ...o,
});
const ids = (p: TakePlan) => p.take.map((l) => l.shardId).sort();

describe('planTakes', () => {
  it('takes a child only after every parent is at SHARD_END', () => {
    const leases = [
      lease('p1'),
      lease('p2', { checkpoint: { kind: 'SHARD_END' } }),
      lease('c', { parentShardIds: ['p1', 'p2'] }),
    ];
    expect(ids(planTakes(leases, ctx()))).toEqual(['p1']);
    const done = [lease('p1', { checkpoint: { kind: 'SHARD_END' } }), leases[1]!, leases[2]!];
    expect(ids(planTakes(done, ctx()))).toEqual(['c']);
  });

  it('treats a parent that is neither leased nor listed as gone (trimmed), but waits for a listed one', () => {
    const child = lease('c', { parentShardIds: ['old'] });
    expect(ids(planTakes([child], ctx({ listed: () => false })))).toEqual(['c']);
    expect(ids(planTakes([child], ctx({ listed: () => true })))).toEqual([]);
  });

  it('takes expired leases but not live ones of other workers', () => {
    const leases = [lease('a', { owner: 'w1' }), lease('b', { owner: 'w2' })];
    expect(ids(planTakes(leases, ctx({ expired: (l) => l.shardId === 'a' })))).toEqual(['a']);
  });

  it('takes only its even share of free leases', () => {
    const leases = [lease('a', { owner: 'w1' }), lease('b'), lease('c'), lease('d')];
    // 4 open leases, 2 workers: a share of 2.
    expect(planTakes(leases, ctx()).take.length).toBe(2);
  });

  it('asks the busiest worker to hand one lease over when nothing is free', () => {
    const leases = ['a', 'b', 'c', 'd'].map((s) => lease(s, { owner: 'w1' }));
    const plan = planTakes(leases, ctx());
    expect(plan.take).toEqual([]);
    expect(plan.handoff?.owner).toBe('w1');
    // Not twice for the same lease.
    const asked = leases.map((l) => ({ ...l, handoffTo: 'me' }));
    expect(planTakes(asked, ctx()).handoff).toBeUndefined();
  });

  it('does not steal when the load is already even', () => {
    const leases = [lease('a', { owner: 'w1' }), lease('b', { owner: 'me' })];
    expect(planTakes(leases, ctx({ held: new Set(['s#b']) }))).toEqual({ take: [] });
  });

  it('takes nothing and asks for nothing while settling after it lost leases, then balances again', () => {
    // Resumed after a pause: the other worker took everything, and the leases it just took back are free or expired.
    const leases = [
      lease('a', { owner: 'w1' }),
      lease('b', { owner: 'w1' }),
      lease('c', { owner: 'w1' }),
      lease('d', { owner: 'me' }),
      lease('e'),
    ];
    const expired = (l: Lease) => l.shardId === 'd';
    expect(planTakes(leases, ctx({ expired, settling: true }))).toEqual({ take: [] });
    const full = leases.map((l) => ({ ...l, owner: 'w1' }));
    expect(planTakes(full, ctx({ settling: true }))).toEqual({ take: [] });

    // A balancing period later, the same tables give it its share back.
    expect(ids(planTakes(leases, ctx({ expired, settling: false })))).toEqual(['d', 'e']);
    expect(planTakes(full, ctx({ settling: false })).handoff?.owner).toBe('w1');
  });

  it('counts a lease being handed to it as its own: it asks for no second one meanwhile', () => {
    const leases = ['a', 'b', 'c', 'd'].map((s) => lease(s, { owner: 'w1' }));
    const handing = leases.map((l) => (l.shardId === 'a' ? { ...l, handoffTo: 'me' } : l));
    // Holding one already, with a second on its way: its share of 2 is reached.
    expect(planTakes(handing, ctx({ held: new Set(['s#x']) }))).toEqual({ take: [] });
    // Once the owner released it, it is free and taken.
    const released = leases.map((l) => (l.shardId === 'a' ? { ...l, owner: undefined } : l));
    expect(ids(planTakes(released, ctx({ held: new Set(['s#x']) })))).toEqual(['a']);
  });

  it('ignores finished leases', () => {
    expect(planTakes([lease('a', { checkpoint: { kind: 'SHARD_END' } })], ctx())).toEqual({ take: [] });
  });
});
