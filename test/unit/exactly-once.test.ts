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
  const END = 1_000;
  it('drops the changes of an item up to the state the Scan read, and applies the rest', () => {
    const r = new Reconciler(new Map([['k', 'B']]), END);
    expect(r.admit('k', 'A', 'B', 10)).toBe(false); // the Scan read B: A -> B is in its insert
    expect(r.admit('k', 'B', 'C', 20)).toBe(true);
    expect(r.admit('k', 'C', 'B', 30)).toBe(true);
  });

  it('treats an item the Scan did not see as absent: its delete before the read is dropped, a later insert applies', () => {
    const r = new Reconciler(new Map(), END);
    expect(r.admit('gone', 'A', ABSENT, 10)).toBe(false);
    expect(r.admit('new', ABSENT, 'N', 10)).toBe(true);
    expect(r.admit('gone', ABSENT, 'A2', 20)).toBe(true);
  });

  it('applies every change made after the Scan ended, whatever the chain', () => {
    const r = new Reconciler(new Map([['k', 'B']]), END);
    expect(r.admit('k', 'X', 'Y', END + 1)).toBe(true);
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
