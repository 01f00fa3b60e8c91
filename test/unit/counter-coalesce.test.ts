import { describe, expect, it } from 'vitest';
import type { Position } from '../../src/core/position.js';
import { isTributaryError, TributaryError } from '../../src/core/errors.js';
import { addInput, toUpdates, type CounterUpdate } from '../../src/views/counter/coalesce.js';
import { FlushScheduler } from '../../src/views/counter/flusher.js';
import { resolveFlush, type CounterFlushOptions, type CounterViewOptions } from '../../src/views/counter/options.js';
import { compilePlan, prepare } from '../../src/views/counter/prepare.js';

interface Ev {
  page: string;
  minute: string;
  bytes: number;
  kind?: 'insert' | 'modify' | 'remove';
}

const opts = (o: Partial<CounterViewOptions<Ev>> = {}): CounterViewOptions<Ev> => ({
  table: 'views',
  partitionKey: 'page',
  sortKey: 'minute',
  key: (e) => ({ page: e.page, minute: e.minute }),
  add: { views: 1, bytes: (e) => e.bytes },
  ...o,
});

const codeOf = (f: () => unknown): string => {
  try {
    f();
  } catch (e) {
    return isTributaryError(e) ? e.code : `other: ${String(e)}`;
  }
  return 'none';
};

describe('prepare: outputs to sums per key', () => {
  it('sums every field per key within one write', () => {
    const plan = compilePlan(opts());
    const { sums, records } = prepare(plan, [
      { page: 'a', minute: 'm1', bytes: 10 },
      { page: 'a', minute: 'm1', bytes: 5 },
      { page: 'b', minute: 'm1', bytes: 1 },
    ]);
    expect(records).toBe(3);
    expect(sums.size).toBe(2);
    const a = [...sums.values()].find((e) => e.key.page?.S === 'a')!;
    expect(a.key).toEqual({ page: { S: 'a' }, minute: { S: 'm1' } });
    expect(a.sums).toEqual([2, 15]);
  });

  it('counts a record once per key it names (hopping windows), and skips it when it names none', () => {
    const plan = compilePlan(
      opts({ key: (e) => (e.page === 'skip' ? [] : ['w1', 'w2', 'w3'].map((w) => ({ page: e.page, minute: w }))) }),
    );
    const { sums } = prepare(plan, [
      { page: 'a', minute: '', bytes: 1 },
      { page: 'skip', minute: '', bytes: 1 },
    ]);
    expect([...sums.values()].map((e) => [e.key.minute?.S, e.sums])).toEqual([
      ['w1', [1, 1]],
      ['w2', [1, 1]],
      ['w3', [1, 1]],
    ]);
  });

  it('decrementOnRemove: true counts inserts +1, removes -1 and modifies 0 for DynamoDB changes', () => {
    const plan = compilePlan({
      table: 't',
      partitionKey: 'owner',
      key: (c: { type: 'dynamodb'; kind: string; owner: string }) => ({ owner: c.owner }),
      add: { items: 1 },
      decrementOnRemove: true,
    });
    const ch = (kind: string, owner: string) => ({ type: 'dynamodb' as const, kind, owner });
    const { sums } = prepare(plan, [
      ch('insert', 'o1'),
      ch('insert', 'o1'),
      ch('insert', 'o2'),
      ch('modify', 'o1'),
      ch('remove', 'o1'),
      ch('remove', 'o3'),
    ]);
    expect(new Map([...sums].map(([, e]) => [e.key.owner?.S, e.sums[0]]))).toEqual(
      new Map([
        ['o1', 1],
        ['o2', 1],
        ['o3', -1],
      ]),
    );
  });

  it('a sign function multiplies every increment of its record', () => {
    const plan = compilePlan(
      opts({ decrementOnRemove: (e) => (e.kind === 'remove' ? -1 : e.kind === 'modify' ? 0 : 1) }),
    );
    const { sums, records } = prepare(plan, [
      { page: 'a', minute: 'm', bytes: 7, kind: 'insert' },
      { page: 'a', minute: 'm', bytes: 3, kind: 'remove' },
      { page: 'a', minute: 'm', bytes: 100, kind: 'modify' },
    ]);
    expect(records).toBe(2);
    expect([...sums.values()][0]!.sums).toEqual([0, 4]);
  });

  it('numeric and binary key attributes are checked against their declared type', () => {
    const plan = compilePlan({
      table: 't',
      partitionKey: { name: 'id', type: 'N' },
      sortKey: { name: 'bin', type: 'B' },
      key: (r: { id: unknown; bin: unknown }) => r as never,
      add: { n: 1 },
    });
    const { sums } = prepare(plan, [{ id: 7, bin: new Uint8Array([1, 2]) }]);
    expect([...sums.values()][0]!.key).toEqual({ id: { N: '7' }, bin: { B: new Uint8Array([1, 2]) } });
    expect(codeOf(() => prepare(plan, [{ id: '7', bin: new Uint8Array([1]) }]))).toBe('view.invalidKey');
    expect(codeOf(() => prepare(plan, [{ id: 7, bin: 'x' }]))).toBe('view.invalidKey');
    expect(codeOf(() => prepare(plan, [{ id: 7, bin: new Uint8Array(0) }]))).toBe('view.invalidKey');
    expect(codeOf(() => prepare(plan, [{ id: Number.POSITIVE_INFINITY, bin: new Uint8Array([1]) }]))).toBe(
      'view.invalidKey',
    );
  });

  it('counts a bigint key on the same item as the equal number, and refuses one DynamoDB cannot store', () => {
    const plan = compilePlan({
      table: 't',
      partitionKey: { name: 'id', type: 'N' },
      key: (r: { id: number | bigint }) => ({ id: r.id }),
      add: { n: 1 },
    });
    const { sums } = prepare(plan, [{ id: 7 }, { id: 7n }, { id: 12345678901234567890n }]);
    expect([...sums.values()].map((e) => [e.key, e.sums])).toEqual([
      [{ id: { N: '7' } }, [2]],
      [{ id: { N: '12345678901234567890' } }, [1]],
    ]);
    expect(codeOf(() => prepare(plan, [{ id: 10n ** 126n }]))).toBe('view.invalidKey');
  });

  it('rejects a whole write with view.invalidKey for a missing, empty, non-scalar, oversized or extra key attribute', () => {
    const good = { page: 'a', minute: 'm', bytes: 1 };
    const withKey = (k: unknown) => compilePlan(opts({ key: () => k as never }));
    expect(codeOf(() => prepare(withKey({ page: 'a' }), [good]))).toBe('view.invalidKey');
    expect(codeOf(() => prepare(withKey({ page: '', minute: 'm' }), [good]))).toBe('view.invalidKey');
    expect(codeOf(() => prepare(withKey({ page: { nested: 1 }, minute: 'm' }), [good]))).toBe('view.invalidKey');
    expect(codeOf(() => prepare(withKey({ page: 'a', minute: 'm', extra: 1 }), [good]))).toBe('view.invalidKey');
    expect(codeOf(() => prepare(withKey({ page: 'x'.repeat(2049), minute: 'm' }), [good]))).toBe('view.invalidKey');
    expect(codeOf(() => prepare(withKey({ page: 'a', minute: 'x'.repeat(1025) }), [good]))).toBe('view.invalidKey');
    expect(codeOf(() => prepare(withKey(undefined), [good]))).toBe('view.invalidKey');
    expect(codeOf(() => prepare(withKey([{ page: 'a', minute: 'm' }, 'oops']), [good]))).toBe('view.invalidKey');
    // An undefined property is absent, as marshalling would treat it.
    expect(codeOf(() => prepare(withKey({ page: 'a', minute: 'm', extra: undefined }), [good]))).toBe('none');
  });

  it('rejects a non-finite or out-of-range increment with view.invalidIncrement', () => {
    const plan = compilePlan(opts());
    expect(codeOf(() => prepare(plan, [{ page: 'a', minute: 'm', bytes: Number.NaN }]))).toBe('view.invalidIncrement');
    expect(codeOf(() => prepare(plan, [{ page: 'a', minute: 'm', bytes: Number.POSITIVE_INFINITY }]))).toBe(
      'view.invalidIncrement',
    );
    expect(codeOf(() => prepare(plan, [{ page: 'a', minute: 'm', bytes: 1e200 }]))).toBe('view.invalidIncrement');
    expect(codeOf(() => prepare(plan, [{ page: 'a', minute: 'm', bytes: '3' as unknown as number }]))).toBe(
      'view.invalidIncrement',
    );
    expect(
      codeOf(() =>
        prepare(compilePlan(opts({ decrementOnRemove: () => Number.NaN })), [{ page: 'a', minute: 'm', bytes: 1 }]),
      ),
    ).toBe('view.invalidIncrement');
  });

  it('reports a throwing key function as pipeline.userCode, and keeps a TributaryError it throws', () => {
    expect(
      codeOf(() =>
        prepare(
          compilePlan(
            opts({
              key: () => {
                throw new Error('boom');
              },
            }),
          ),
          [{ page: 'a', minute: 'm', bytes: 1 }],
        ),
      ),
    ).toBe('pipeline.userCode');
    expect(
      codeOf(() =>
        prepare(
          compilePlan(
            opts({
              key: () => {
                throw new TributaryError('bucket.invalidTime', 'bad');
              },
            }),
          ),
          [{ page: 'a', minute: 'm', bytes: 1 }],
        ),
      ),
    ).toBe('bucket.invalidTime');
  });

  it('rejects impossible definitions with config.invalid', () => {
    expect(codeOf(() => compilePlan(opts({ add: {} })))).toBe('config.invalid');
    expect(codeOf(() => compilePlan(opts({ add: { page: 1 } })))).toBe('config.invalid');
    expect(codeOf(() => compilePlan(opts({ add: { views: Number.NaN } })))).toBe('config.invalid');
    expect(codeOf(() => compilePlan(opts({ sortKey: 'page' })))).toBe('config.invalid');
    expect(codeOf(() => resolveFlush({ maxRecords: 0 }))).toBe('config.invalid');
  });
});

describe('updates', () => {
  it('one ADD per key, zero sums left out, all-zero keys not written', () => {
    const key = { page: { S: 'a' } };
    expect(addInput(['views', 'bytes'], { key, sums: [3, 0] })).toEqual({
      Key: key,
      UpdateExpression: 'ADD #c0 :c0',
      ExpressionAttributeNames: { '#c0': 'views' },
      ExpressionAttributeValues: { ':c0': { N: '3' } },
    });
    expect(addInput(['views', 'bytes'], { key, sums: [-1, 2.5] })?.UpdateExpression).toBe('ADD #c0 :c0, #c1 :c1');
    expect(toUpdates(['views'], new Map([['a', { key, sums: [0] }]]))).toEqual([]);
  });
});

// ---- FlushScheduler, with an in-memory applier standing in for TableIO ----------------------

/** Applies updates to a map, records each flush, and can be held or made to fail keys. */
class MemoryTable {
  readonly counters = new Map<string, number[]>();
  readonly flushes: string[][] = [];
  concurrent = 0;
  maxConcurrent = 0;
  hold: Promise<void> | undefined;
  failKeys = new Set<string>();

  apply = async (updates: readonly CounterUpdate[]): Promise<Map<string, Error>> => {
    this.concurrent++;
    this.maxConcurrent = Math.max(this.maxConcurrent, this.concurrent);
    this.flushes.push(updates.map((u) => u.id));
    await this.hold;
    await new Promise((r) => setImmediate(r));
    const failed = new Map<string, Error>();
    for (const u of updates) {
      if (this.failKeys.has(u.id)) {
        failed.set(u.id, new TributaryError('view.updateFailed', `bad ${u.id}`));
        continue;
      }
      const have = this.counters.get(u.id) ?? [0, 0];
      const names = u.input.ExpressionAttributeNames!;
      for (const [alias, field] of Object.entries(names)) {
        const i = field === 'views' ? 0 : 1;
        have[i]! += Number(u.input.ExpressionAttributeValues![`:${alias.slice(1)}`]!.N);
      }
      this.counters.set(u.id, have);
    }
    this.concurrent--;
    return failed;
  };
}

const pos = (shard: string, i: number): Position => ({ source: 'src', shardId: shard, sequenceNumber: String(i) });
const origin = (shard: string, from: number, n: number) => ({
  pipeline: 'p',
  positions: Array.from({ length: n }, (_, i) => pos(shard, from + i)),
});
const FIELDS = ['views', 'bytes'];
const plan = compilePlan(opts({ key: (e) => ({ page: e.page, minute: 'm' }) }));
const evs = (pages: string[]): Ev[] => pages.map((page) => ({ page, minute: 'm', bytes: 1 }));

function scheduler(table: MemoryTable, f: CounterFlushOptions = {}) {
  const s = new FlushScheduler(FIELDS, table.apply, resolveFlush({ maxDelayMs: 60_000, ...f }));
  const write = (shard: string, from: number, pages: string[]) => {
    const { sums, records } = prepare(plan, evs(pages));
    return s.add(sums, records, origin(shard, from, pages.length));
  };
  return { s, write };
}

const settled = async (p: Promise<unknown>): Promise<'resolved' | 'rejected' | 'pending'> => {
  const r = await Promise.race([
    p.then(
      () => 'resolved' as const,
      () => 'rejected' as const,
    ),
    new Promise<'pending'>((r) => setTimeout(() => r('pending'), 20)),
  ]);
  return r;
};

describe('FlushScheduler', () => {
  it('coalesces writes into one flush and acknowledges each only when that flush is durable', async () => {
    const t = new MemoryTable();
    let release!: () => void;
    t.hold = new Promise((r) => (release = r));
    const { s, write } = scheduler(t, { maxRecords: 6 });
    const w1 = write('s1', 1, ['a', 'a', 'b']);
    expect(await settled(w1)).toBe('pending');
    expect(t.flushes).toHaveLength(0);
    const w2 = write('s2', 1, ['a', 'c', 'c']);
    expect(t.flushes).toEqual([['["a","m"]', '["b","m"]', '["c","m"]']]);
    expect(await settled(w1)).toBe('pending');
    release();
    await Promise.all([w1, w2]);
    expect(t.counters.get('["a","m"]')).toEqual([3, 3]);
    expect(t.counters.get('["c","m"]')).toEqual([2, 2]);
    expect(s.stats).toMatchObject({ flushes: 1, updates: 3, records: 6, writes: 2 });
  });

  it('runs one flush at a time; increments that arrive during a flush go to the next one', async () => {
    const t = new MemoryTable();
    let release!: () => void;
    t.hold = new Promise((r) => (release = r));
    const { write } = scheduler(t, { maxRecords: 2 });
    const first = write('s1', 1, ['a', 'b']);
    const during = [write('s1', 3, ['a', 'a']), write('s1', 5, ['b', 'c'])];
    expect(t.flushes).toHaveLength(1);
    expect(await settled(during[0]!)).toBe('pending');
    t.hold = undefined;
    release();
    await Promise.all([first, ...during]);
    expect(t.maxConcurrent).toBe(1);
    expect(t.flushes).toEqual([
      ['["a","m"]', '["b","m"]'],
      ['["a","m"]', '["b","m"]', '["c","m"]'],
    ]);
    expect(t.counters.get('["a","m"]')![0]).toBe(3);
  });

  it('flushes at once when every active shard has maxBatchesPerShard writes buffered (it can fetch no more)', async () => {
    const t = new MemoryTable();
    const a = scheduler(t, { maxBatchesPerShard: 2 });
    const ws = [a.write('s1', 1, ['a']), a.write('s2', 1, ['a']), a.write('s1', 2, ['b'])];
    expect(t.flushes).toHaveLength(0);
    ws.push(a.write('s2', 2, ['c']));
    expect(t.flushes).toHaveLength(1);
    await Promise.all(ws);
  });

  it('waits up to maxDelayMs for an active shard that can still fetch, so one flush gathers every shard', async () => {
    const t = new MemoryTable();
    const a = scheduler(t, { maxBatchesPerShard: 2, maxDelayMs: 30 });
    const ws = [a.write('s1', 1, ['a']), a.write('s2', 1, ['a']), a.write('s1', 2, ['b'])];
    expect(t.flushes).toHaveLength(0);
    await Promise.all(ws);
    expect(t.flushes).toEqual([['["a","m"]', '["b","m"]']]);
  });

  it('does not wait for a shard that has not written for a second', async () => {
    const t = new MemoryTable();
    let now = 0;
    const s = new FlushScheduler(
      FIELDS,
      t.apply,
      resolveFlush({ maxBatchesPerShard: 2, maxDelayMs: 60_000 }),
      () => now,
    );
    const add = (shard: string, from: number, page: string) => {
      const { sums, records } = prepare(plan, evs([page]));
      return s.add(sums, records, origin(shard, from, 1));
    };
    const first = add('s2', 1, 'z');
    await s.flushAll();
    await first;
    now = 5_000;
    const ws = [add('s1', 1, 'a'), add('s1', 2, 'b')];
    expect(t.flushes).toHaveLength(2);
    await Promise.all(ws);
  });

  it('flushes when maxKeys keys or maxRecords records are buffered', async () => {
    const t = new MemoryTable();
    const b = scheduler(t, { maxKeys: 3 });
    const ws = [b.write('s1', 1, ['a', 'b']), b.write('s1', 3, ['a', 'b'])];
    expect(t.flushes).toHaveLength(0);
    ws.push(b.write('s1', 5, ['c']));
    expect(t.flushes).toHaveLength(1);
    await Promise.all(ws);

    const t2 = new MemoryTable();
    const c = scheduler(t2, { maxRecords: 5 });
    const ws2 = [c.write('s1', 1, ['a', 'a']), c.write('s2', 1, ['a', 'a'])];
    expect(t2.flushes).toHaveLength(0);
    ws2.push(c.write('s3', 1, ['a']));
    expect(t2.flushes).toEqual([['["a","m"]']]);
    await Promise.all(ws2);
  });

  it('flushes after maxDelayMs when nothing else fills the buffer', async () => {
    const t = new MemoryTable();
    const { write, s } = scheduler(t, { maxDelayMs: 5 });
    await write('s1', 1, ['a']);
    expect(t.counters.get('["a","m"]')).toEqual([1, 1]);
    s.close();
  });

  it('flushAll writes whatever is buffered, and acknowledges a write that adds nothing at once', async () => {
    const t = new MemoryTable();
    const { s, write } = scheduler(t);
    const w = write('s1', 1, ['a', 'b']);
    await s.flushAll();
    expect(await settled(w)).toBe('resolved');
    expect(t.flushes).toHaveLength(1);
    const { sums } = prepare(compilePlan(opts({ decrementOnRemove: () => 0 })), evs(['a']));
    await s.add(sums, 0, origin('s1', 3, 1));
    expect(t.flushes).toHaveLength(1);
  });

  it('a key that fails fails only the writes that added to it; their retry applies only what was not applied', async () => {
    const t = new MemoryTable();
    t.failKeys.add('["bad","m"]');
    const { s, write } = scheduler(t);
    const w1 = write('s1', 1, ['a', 'bad', 'b']);
    const w2 = write('s2', 1, ['a', 'c']);
    void s.flushAll();
    const [r1, r2] = await Promise.allSettled([w1, w2]);
    expect(r1.status).toBe('rejected');
    expect(((r1 as PromiseRejectedResult).reason as TributaryError).code).toBe('view.updateFailed');
    expect(r2.status).toBe('fulfilled');
    expect(t.counters.get('["a","m"]')).toEqual([2, 2]);
    expect(s.stats.failedWrites).toBe(1);

    // The runner tries the same records again: a and b were applied already, only bad is sent (and fails again).
    const again = write('s1', 1, ['a', 'bad', 'b']);
    void s.flushAll();
    await expect(again).rejects.toThrow(/bad/);
    expect(t.flushes.at(-1)).toEqual(['["bad","m"]']);
    // Bisecting: the halves without the bad record resolve without writing anything ...
    const flushesBefore = t.flushes.length;
    await write('s1', 1, ['a']);
    await write('s1', 3, ['b']);
    expect(t.flushes.length).toBe(flushesBefore);
    // ... and once the key is repaired, the bad record's increment is applied exactly once.
    t.failKeys.clear();
    const single = write('s1', 2, ['bad']);
    void s.flushAll();
    await single;
    expect(t.counters.get('["a","m"]')).toEqual([2, 2]);
    expect(t.counters.get('["b","m"]')).toEqual([1, 1]);
    expect(t.counters.get('["bad","m"]')).toEqual([1, 1]);
  });

  it('under interleaved writes and slow flushes, every increment is applied once and no write resolves early', async () => {
    const t = new MemoryTable();
    const { s, write } = scheduler(t, { maxRecords: 50, maxDelayMs: 1 });
    const expected = new Map<string, number>();
    const writes: Promise<void>[] = [];
    let seq = 0;
    const rnd = (() => {
      let x = 42;
      return () => (x = (x * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
    })();
    for (let round = 0; round < 60; round++) {
      const pages = Array.from({ length: 1 + Math.floor(rnd() * 30) }, () => `p${Math.floor(rnd() * rnd() * 40)}`);
      for (const p of pages) expected.set(`["${p}","m"]`, (expected.get(`["${p}","m"]`) ?? 0) + 1);
      const flushesAtAdd = t.flushes.length;
      const w = write(`s${round % 3}`, (seq += pages.length), pages);
      writes.push(
        w.then(() => {
          // A flush that started after this write was added must have run for it to resolve.
          expect(t.flushes.length).toBeGreaterThan(flushesAtAdd);
        }),
      );
      if (rnd() < 0.3) await new Promise((r) => setTimeout(r, 1));
    }
    await Promise.all(writes);
    await s.flushAll();
    expect(new Map([...t.counters].map(([k, v]) => [k, v[0]]))).toEqual(expected);
    expect(t.maxConcurrent).toBe(1);
  });
});
