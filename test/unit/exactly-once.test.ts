import { describe, expect, it } from 'vitest';
import { encodeMark, markAttribute, withoutMarks } from '../../src/core/applied-marks.js';
import { itemWrite, mergeEffect, type EffectsByItem } from '../../src/runtime/exactly-once/combine.js';
import { rangesToApply } from '../../src/runtime/exactly-once/ranges.js';
import { ABSENT, Reconciler } from '../../src/sources/scan/reconcile.js';
import { silentLogger } from '../../src/observe/log.js';
import { LeaseKeeper } from '../../src/runtime/leases/keeper.js';
import type { LeaseTable } from '../../src/runtime/leases/table.js';
import { ManualClock } from '../../src/testing/manual-clock.js';

const rec = (seq: number) => ({ position: { source: 's', shardId: 'sh', sequenceNumber: String(seq) } });
const mark = (seq: number) => encodeMark({ sequenceNumber: String(seq) });
const key = { page: { S: 'home' } };

describe('applied marks', () => {
  it('order as the positions they encode, whatever the number of digits', () => {
    expect(mark(9) < mark(10)).toBe(true);
    expect(encodeMark({ sequenceNumber: '10', subSequenceNumber: 2 }) > mark(10)).toBe(true);
    expect(mark(49_590_338_271) > mark(4_959_033_827)).toBe(true);
  });

  it('are one short attribute per pipeline and shard, hidden by withoutMarks', () => {
    const a = markAttribute('p', 'src', 'shardId-1');
    expect(a).not.toBe(markAttribute('p', 'src', 'shardId-2'));
    expect(a).not.toBe(markAttribute('q', 'src', 'shardId-1'));
    expect(a.length).toBeLessThan(30);
    expect(withoutMarks({ page: 'home', views: 3, [a]: mark(1) })).toEqual({ page: 'home', views: 3 });
  });
});

describe('rangesToApply', () => {
  const records = [1, 2, 3, 4, 5, 6, 7, 8].map(rec);
  const seqs = (r: ReturnType<typeof rangesToApply<ReturnType<typeof rec>>>) =>
    r.ranges.map((g) => g.map((x) => Number(x.position.sequenceNumber)));

  it('drops what is applied and cuts after each earlier commit end', () => {
    const r = rangesToApply(records, { applied: mark(2), cuts: [mark(4), mark(6)] });
    expect(seqs(r)).toEqual([
      [3, 4],
      [5, 6],
      [7, 8],
    ]);
    expect(r.skipped).toBe(2);
  });

  it('keeps a batch whole when no cut falls inside it, and drops a batch wholly applied', () => {
    expect(seqs(rangesToApply(records, { cuts: [mark(8), mark(20)] }))).toEqual([[1, 2, 3, 4, 5, 6, 7, 8]]);
    expect(rangesToApply(records, { applied: mark(8), cuts: [] })).toEqual({ ranges: [], skipped: 8 });
    expect(seqs(rangesToApply(records, undefined))).toEqual([[1, 2, 3, 4, 5, 6, 7, 8]]);
  });
});

describe('effects', () => {
  it('sum increments per item and let the last put or delete win', () => {
    const m: EffectsByItem = new Map();
    mergeEffect(m, { kind: 'add', table: 't', id: 'home', key, add: { views: 1, ms: 5 } });
    mergeEffect(m, { kind: 'add', table: 't', id: 'home', key, add: { views: 2 } });
    mergeEffect(m, { kind: 'put', table: 'u', id: 'x', key, item: { ...key, v: { N: '1' } } });
    mergeEffect(m, { kind: 'delete', table: 'u', id: 'x', key });
    expect([...m.values()].map((e) => (e.kind === 'add' ? e.add : e.kind))).toEqual([{ views: 3, ms: 5 }, 'delete']);
    expect(() => mergeEffect(m, { kind: 'put', table: 't', id: 'home', key, item: key })).toThrow(/mix increments/);
  });

  it('write ADD and SET of the marks, conditioned on each mark being below the first record it carries', () => {
    const w = itemWrite({ kind: 'add', table: 't', id: 'home', key, add: { views: 3, zero: 0 } }, [
      { attribute: '_tributary_at_a', first: mark(5), end: mark(9) },
      { attribute: '_tributary_at_b', first: mark(1), end: mark(2) },
    ])!;
    expect(w.kind).toBe('update');
    const input = w.input as {
      UpdateExpression: string;
      ConditionExpression: string;
      ExpressionAttributeValues: object;
    };
    expect(input.UpdateExpression).toBe('ADD #f0 :f0 SET #m0 = :e0, #m1 = :e1');
    expect(input.ConditionExpression).toBe(
      '(attribute_not_exists(#m0) OR #m0 < :s0) AND (attribute_not_exists(#m1) OR #m1 < :s1)',
    );
    expect(itemWrite({ kind: 'add', table: 't', id: 'home', key, add: { views: 0 } }, [])).toBeUndefined();
  });

  it('put the item with its marks, and keep an idempotent effect to its own condition', () => {
    const put = itemWrite({ kind: 'put', table: 't', id: 'x', key, item: { ...key, n: { N: '1' } } }, [
      { attribute: '_tributary_at_a', first: mark(5), end: mark(9) },
    ])!;
    expect((put.input as { Item: object }).Item).toEqual({ ...key, n: { N: '1' }, _tributary_at_a: { S: mark(9) } });
    const mirrored = itemWrite(
      {
        kind: 'put',
        table: 't',
        id: 'x',
        key,
        item: key,
        idempotent: true,
        condition: { expression: '#v < :v', names: { '#v': 'ver' }, values: { ':v': { N: '3' } }, onFailure: 'stale' },
      },
      [],
    )!;
    expect(mirrored.input).toMatchObject({
      ConditionExpression: '(#c_v < :c_v)',
      ExpressionAttributeNames: { '#c_v': 'ver' },
    });
  });
});

describe('Reconciler', () => {
  // Every page was read at 1,000 ms; the band around it is 500..1,500.
  const band = { from: 500, to: 1_500 };
  const scanned = (hash: string) => new Map([['k', { hash, band }]]);
  let n = 0;
  const at = (createdAtMs: number, shardId = 's1') => ({ shardId, seq: String(++n).padStart(5, '0'), createdAtMs });

  it('drops the changes of an item up to the state the Scan read, and applies the rest', () => {
    const r = new Reconciler(scanned('B'), band);
    expect(r.admit('k', 'A', 'B', at(900)).apply).toBe(false); // the Scan read B: A -> B is in its insert
    expect(r.admit('k', 'B', 'C', at(1_000)).apply).toBe(true);
    expect(r.admit('k', 'C', 'B', at(1_100)).apply).toBe(true);
  });

  it('treats an item the Scan did not see as absent: its delete before the read is dropped, a later insert applies', () => {
    const r = new Reconciler(new Map(), band);
    expect(r.admit('gone', 'A', ABSENT, at(900)).apply).toBe(false);
    expect(r.admit('new', ABSENT, 'N', at(900)).apply).toBe(true);
    expect(r.admit('gone', ABSENT, 'A2', at(1_000)).apply).toBe(true);
  });

  it('decides by time outside the band of the item read: before it dropped, after it applied, whatever the chain', () => {
    const r = new Reconciler(scanned('B'), band);
    expect(r.admit('k', ABSENT, 'X', at(100)).apply).toBe(false);
    expect(r.admit('k', 'X', 'Y', at(1_501)).apply).toBe(true);
    expect(r.admit('k', 'Y', 'Z', at(400)).apply).toBe(false);
  });

  it('a reader resumed past the reach (crash, lease handover) decides as the first did, from the reach it learns', () => {
    const first = new Reconciler(scanned('A'), band);
    const c1 = at(900);
    const c2 = at(1_000);
    const c3 = at(1_100);
    const reached = first.admit('k', ABSENT, 'A', c1); // the insert the Scan read
    expect(reached).toEqual({ apply: false, reached: { shardId: 's1', seq: c1.seq, inclusive: false } });
    expect(first.admit('k', 'A', 'B', c2)).toEqual({ apply: true }); // found no new reach

    // A second worker resumes after c2: B -> deleted is neither from nor to A.
    const fresh = new Reconciler(scanned('A'), band);
    expect(fresh.admit('k', 'B', ABSENT, { ...c3 }).apply).toBe(false); // what went wrong without the reach
    const resumed = new Reconciler(scanned('A'), band);
    resumed.learn('k', reached.reached!);
    expect(resumed.admit('k', 'B', ABSENT, c3).apply).toBe(true);

    // A replay from before the reach decides by the chain again, and reports no new reach.
    const replay = new Reconciler(scanned('A'), band);
    replay.learn('k', reached.reached!);
    expect(replay.admit('k', ABSENT, 'A', c1)).toEqual({ apply: false });
    expect(replay.admit('k', 'A', 'B', c2).apply).toBe(true);
  });

  it('takes a reach in another shard as one in an ancestor: every later change applies', () => {
    const r = new Reconciler(scanned('A'), band);
    r.learn('k', { shardId: 'parent', seq: '00001', inclusive: true });
    expect(r.admit('k', 'C', 'D', at(1_200, 'child')).apply).toBe(true);
  });
});

describe('LeaseKeeper.validity', () => {
  it('holds a lease as safe for 80% of the lease duration after its last renewal was sent, then renews before a write', async () => {
    const clock = new ManualClock();
    let counter = 1;
    let stolen = false;
    const lease = {
      leaseKey: 'k',
      source: 's',
      shardId: 'sh',
      owner: 'me',
      counter: 1,
      checkpoint: { kind: 'TRIM_HORIZON' as const },
      parentShardIds: [],
      ownerSwitchesSinceCheckpoint: 0,
    };
    const table = {
      take: async () => ({ ...lease, counter: ++counter }),
      renew: async () => (stolen ? undefined : { ...lease, counter: ++counter }),
    } as unknown as LeaseTable;
    const keeper = new LeaseKeeper(
      table,
      'me',
      () => {},
      silentLogger,
      clock,
      () => {},
      10_000,
    );
    await keeper.take(lease);
    expect(keeper.validity('k')).toBe('valid');
    await clock.advance(8_001);
    expect(keeper.validity('k')).toBe('lapsed');
    expect(await keeper.whenValid('k')).toBe(true);
    expect(keeper.validity('k')).toBe('valid');
    await clock.advance(9_000);
    stolen = true;
    // A worker resumed after a pause: its renewal finds the lease taken, and it writes nothing.
    expect(await keeper.whenValid('k')).toBe(false);
    expect(keeper.validity('k')).toBe('lost');
  });
});
