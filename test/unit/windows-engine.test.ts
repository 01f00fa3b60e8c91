import { describe, expect, expectTypeOf, it } from 'vitest';
import {
  hoppingWindows,
  sessionWindows,
  tumblingWindows,
  windowsOf,
  type WindowAssigner,
} from '../../src/operators/windows/assigners.js';
import { distinct } from '../../src/operators/windows/distinct.js';
import type { FinalEvent, LateEvent, UpdateEvent } from '../../src/operators/windows/events.js';
import { count, sum } from '../../src/operators/windows/exact-aggregations.js';
import { percentiles } from '../../src/operators/windows/percentiles.js';
import { topK, type TopKItem } from '../../src/operators/windows/top-k.js';
import { WindowedAggregation } from '../../src/operators/windows/windowed-aggregation.js';
import { windowId } from '../../src/operators/windows/window.js';
import { thrown } from '../helpers.js';

type Rec = { t: number; k?: string; v?: unknown; user?: string };

function engine(window: WindowAssigner, more: { allowedLatenessMs?: number; withStates?: boolean } = {}) {
  return new WindowedAggregation(
    { window, time: (r: Rec) => r.t, key: (r) => r.k ?? 'x', ...more },
    { n: count(), total: sum((r) => r.v as number | undefined) },
  );
}

const isFinal = <V>(e: { type: string }): e is FinalEvent<V> => e.type === 'final';

describe('window assigners', () => {
  it('put a time in its tumbling window, and in size / hop hopping windows, aligned to the epoch', () => {
    expect(windowsOf(tumblingWindows(1_000), 1_999)).toEqual([{ start: 1_000, end: 2_000 }]);
    expect(windowsOf(tumblingWindows(1_000), 2_000)).toEqual([{ start: 2_000, end: 3_000 }]);
    expect(windowsOf(tumblingWindows(1_000), -1)).toEqual([{ start: -1_000, end: 0 }]);
    expect(windowsOf(hoppingWindows(30, 10), 25)).toEqual([
      { start: 0, end: 30 },
      { start: 10, end: 40 },
      { start: 20, end: 50 },
    ]);
    for (const t of [0, 7, 123_456_789])
      for (const w of windowsOf(hoppingWindows(60, 15), t)) expect(w.start <= t && t < w.end).toBe(true);
    expect(windowId({ start: 60_000, end: 120_000 })).toBe('60000-120000');
  });

  it('refuse sizes, hops and gaps that are not positive whole numbers, and a size the hop does not divide', () => {
    const bad = [
      () => tumblingWindows(0),
      () => tumblingWindows(1.5),
      () => tumblingWindows(NaN),
      () => hoppingWindows(100, 30),
      () => hoppingWindows(100, 200),
      () => hoppingWindows(100, 0),
      () => sessionWindows(-5),
    ];
    for (const b of bad) expect(thrown(b)).toMatchObject({ name: 'TributaryError', code: 'config.invalid' });
  });
});

describe('a windowed aggregation', () => {
  it('sends updates only for the windows and keys changed since the last advance', () => {
    const e = engine(tumblingWindows(1_000));
    e.add('s', [
      { t: 100, k: 'a' },
      { t: 150, k: 'b' },
    ]);
    expect(e.advance(0).map((x) => [x.type, 'key' in x && x.key])).toEqual([
      ['update', 'a'],
      ['update', 'b'],
    ]);
    e.add('s', [{ t: 200, k: 'b' }]);
    const [u, ...rest] = e.advance(0) as UpdateEvent<{ n: number; total: number }>[];
    expect(rest).toEqual([]);
    expect(u).toMatchObject({ type: 'update', final: false, key: 'b', windowId: '0-1000', value: { n: 2, total: 0 } });
    expect(e.advance(0)).toEqual([]);
  });

  it('closes a window at end + allowedLatenessMs: a record within the grace updates it, one after is late', () => {
    const e = engine(tumblingWindows(1_000), { allowedLatenessMs: 500 });
    e.add('s', [{ t: 900, v: 1 }]);
    e.add('s', [{ t: 1_200, v: 2 }]); // watermark 1,200: [0, 1000) is behind it, within its grace
    e.advance(0);
    e.add('s', [{ t: 950, v: 10 }]);
    expect(e.advance(0)).toEqual([
      expect.objectContaining({ type: 'update', windowId: '0-1000', value: { n: 2, total: 11 } }),
    ]);
    e.add('s', [{ t: 1_500, v: 3 }]);
    const events = e.advance(0);
    expect(events.filter(isFinal)).toEqual([
      expect.objectContaining({ type: 'final', final: true, windowId: '0-1000', key: 'x', value: { n: 2, total: 11 } }),
    ]);
    const late = { t: 999, v: 100 };
    expect(e.add('s', [late])).toEqual({ records: 1, late: 1 });
    const [l] = e.advance(0) as LateEvent<Rec>[];
    expect(l).toEqual({
      type: 'late',
      reason: 'windowClosed',
      record: late,
      shardId: 's',
      key: 'x',
      eventTime: 999,
      window: { start: 0, end: 1_000 },
      windowId: '0-1000',
      watermark: 1_500,
    });
    expect(e.progress()).toMatchObject({ records: 5, assigned: 5, late: 1, openCells: 1 });
  });

  it('drops a window after its final, so memory holds open windows only', () => {
    const e = engine(tumblingWindows(10));
    for (let t = 0; t < 10_000; t += 3) {
      e.add('s', [{ t, k: `k${t % 7}` }]);
      if (t % 99 === 0) e.advance(t);
    }
    expect(e.progress().openCells).toBeLessThanOrEqual(2 * 7);
    e.finish();
    expect(e.progress().openCells).toBe(0);
    expect(e.add('s', [{ t: 20_000 }])).toEqual({ records: 1, late: 1 });
  });

  it('refuses a batch with a record it cannot read, whole, and changes nothing', () => {
    const e = engine(tumblingWindows(1_000));
    e.add('s', [{ t: 1, v: 1 }]);
    const before = { snapshot: e.snapshot(), progress: e.progress() };
    for (const bad of [{ t: NaN }, { t: 5, v: 'seven' }, { t: Infinity }])
      expect(thrown(() => e.add('s', [{ t: 2, v: 1 }, bad, { t: 3, v: 1 }]))).toMatchObject({
        code: 'window.invalidRecord',
        fault: 'client',
        retryable: false,
      });
    const k = new WindowedAggregation(
      {
        window: tumblingWindows(1_000),
        time: (r: Rec) => r.t,
        key: () => {
          throw new Error('no key');
        },
      },
      { n: count() },
    );
    expect(thrown(() => k.add('s', [{ t: 1 }]))).toMatchObject({ code: 'window.invalidRecord' });
    expect({ snapshot: e.snapshot(), progress: e.progress() }).toEqual(before);
  });

  it('takes Date event times, and groups everything under one key by default', () => {
    const e = new WindowedAggregation({ window: tumblingWindows(60_000), time: (d: Date) => d }, { n: count() });
    e.add('s', [new Date(Date.UTC(2026, 0, 1, 0, 0, 30)), new Date(Date.UTC(2026, 0, 1, 0, 0, 45))]);
    const [final] = e.finish().filter(isFinal);
    expect(final).toMatchObject({
      key: '',
      value: { n: 2 },
      window: { start: Date.UTC(2026, 0, 1), end: Date.UTC(2026, 0, 1, 0, 1) },
    });
  });

  it('types its events from the aggregate spec, with the record type taken from the options', () => {
    const e = new WindowedAggregation(
      {
        window: tumblingWindows(1_000),
        time: (r: { at: number; page: string; ms: number }) => r.at,
        key: (r) => r.page,
      },
      {
        clicks: count(),
        users: distinct((r) => r.page),
        pages: topK(3, (r) => r.page),
        p: percentiles((r) => r.ms, [0.99]),
      },
    );
    const ev = e.advance(0)[0];
    if (ev && ev.type === 'final') {
      expectTypeOf(ev.value.clicks).toEqualTypeOf<number>();
      expectTypeOf(ev.value.pages).toEqualTypeOf<TopKItem[]>();
      expectTypeOf(ev.value.p).toEqualTypeOf<{ readonly '0.99': number | null }>();
    }
    if (ev && ev.type === 'late') expectTypeOf(ev.record).toEqualTypeOf<{ at: number; page: string; ms: number }>();
  });
});

describe('session windows', () => {
  it('merge two sessions when a record bridges them, and say which windows the merged one replaces', () => {
    const e = engine(sessionWindows(100), { allowedLatenessMs: 1_000 });
    e.add('s1', [
      { t: 0, v: 1 },
      { t: 50, v: 1 },
    ]); // [0, 150)
    e.add('s2', [{ t: 300, v: 10 }]); // [300, 400)
    expect(e.snapshot().map((s) => s.windowId)).toEqual(['0-150', '300-400']);
    expect(e.advance(0).map((x) => x.type === 'update' && x.windowId)).toEqual(['0-150', '300-400']);
    e.add('s2', [{ t: 220, v: 100 }]); // [220, 320) overlaps [300, 400) only: the session grows back to 220
    expect(e.snapshot().map((s) => s.windowId)).toEqual(['0-150', '220-400']);
    e.add('s1', [{ t: 140, v: 1000 }]); // [140, 240) overlaps both: one session [0, 400)
    expect(e.snapshot()).toEqual([
      { window: { start: 0, end: 400 }, windowId: '0-400', key: 'x', value: { n: 5, total: 1112 } },
    ]);
    const [u] = e.advance(0) as UpdateEvent<unknown>[];
    expect(u).toMatchObject({ type: 'update', windowId: '0-400' });
    expect(u!.replaces).toEqual(
      expect.arrayContaining([
        { start: 0, end: 150 },
        { start: 300, end: 400 },
      ]),
    );
    expect(u!.replaces).toHaveLength(2);
    const [f] = e.finish() as FinalEvent<{ n: number }>[];
    expect(f).toMatchObject({ type: 'final', windowId: '0-400', value: { n: 5 } });
    expect(f!.replaces).toBeUndefined();
  });

  it('keep keys apart, start a new session at exactly the gap, and close each by its own end', () => {
    const e = engine(sessionWindows(100));
    e.add('s', [
      { t: 0, k: 'a' },
      { t: 100, k: 'a' },
      { t: 50, k: 'b' },
      { t: 1_000, k: 'z' },
    ]);
    const finals = e.advance(0).filter(isFinal);
    expect(finals.map((f) => `${f.key}:${f.windowId}`)).toEqual(['a:0-100', 'b:50-150', 'a:100-200']);
    expect(e.snapshot().map((s) => `${s.key}:${s.windowId}`)).toEqual(['z:1000-1100']);
  });

  it('take a late record that overlaps an open session, and send one that overlaps none to the late output', () => {
    const e = engine(sessionWindows(100));
    e.add('s', [{ t: 0 }, { t: 90 }, { t: 180 }, { t: 600 }, { t: 1_000 }]); // watermark 1,000
    e.advance(0); // [0, 280) and [600, 700) closed; [1000, 1100) open
    expect(e.add('s', [{ t: 950 }])).toEqual({ records: 1, late: 0 }); // joins [1000, 1100)
    expect(e.add('s', [{ t: 100 }])).toEqual({ records: 1, late: 1 });
    expect(e.snapshot().map((s) => [s.windowId, s.value.n])).toEqual([['950-1100', 2]]);
  });
});

describe('partials', () => {
  it('hand a shard over: removeShard gives its part, the new owner merges it and goes on, nothing lost or doubled', () => {
    const a = engine(tumblingWindows(1_000));
    a.add('s1', [
      { t: 100, v: 1 },
      { t: 1_100, v: 2 },
    ]);
    a.add('s2', [{ t: 200, v: 10 }]);
    const handoff = JSON.parse(JSON.stringify(a.removeShard('s1'))) as unknown;
    expect(a.progress().shards.map((s) => s.shardId)).toEqual(['s2']);
    const b = engine(tumblingWindows(1_000));
    expect(b.mergePartials(handoff)).toEqual({ merged: 2, closed: [] });
    expect(b.progress().shards).toEqual([expect.objectContaining({ shardId: 's1', maxEventTime: 1_100 })]);
    b.add('s1', [{ t: 300, v: 100 }]);
    const totals = [...a.finish(), ...b.finish()]
      .filter(isFinal<{ n: number; total: number }>)
      .reduce((acc, f) => acc + f.value.total, 0);
    expect(totals).toBe(113);
  });

  it('refuse partials of another definition, merging none of a call when one does not fit', () => {
    const e = engine(tumblingWindows(1_000));
    e.add('s', [{ t: 1 }]);
    const good = e.partials();
    const other = engine(tumblingWindows(2_000));
    other.add('s', [{ t: 1 }]);
    const otherAgg = new WindowedAggregation(
      { window: tumblingWindows(1_000), time: (r: Rec) => r.t },
      { n: count(), u: distinct((r) => r.user, { precision: 10 }) },
    );
    const target = engine(tumblingWindows(1_000));
    for (const bad of [
      other.partials(),
      otherAgg.partials(),
      { version: 2 },
      null,
      { ...good, cells: [{ start: 5, end: 1_005, key: 'x', states: {} }] },
    ])
      expect(thrown(() => target.mergePartials(good, bad))).toMatchObject({ code: 'window.invalidState' });
    expect(target.snapshot()).toEqual([]);
    target.mergePartials(good);
    expect(target.snapshot()).toEqual(e.snapshot());
  });

  it('do not merge a cell whose window has already closed, and return it', () => {
    const old = engine(tumblingWindows(1_000));
    old.add('s1', [{ t: 10 }]);
    const target = engine(tumblingWindows(1_000));
    target.add('s2', [{ t: 5_000 }]);
    target.advance(0);
    const result = target.mergePartials(old.partials());
    expect(result).toEqual({ merged: 0, closed: [expect.objectContaining({ start: 0, end: 1_000, key: 'x' })] });
  });

  it('come with each update and final under withStates, per shard, as mergePartials takes them', () => {
    const e = engine(hoppingWindows(2_000, 1_000), { withStates: true });
    e.add('s1', [{ t: 1_500, v: 1 }]);
    e.add('s2', [{ t: 1_600, v: 2 }]);
    const finals = e.finish().filter(isFinal<{ n: number; total: number }>);
    expect(finals.map((f) => f.windowId)).toEqual(['0-2000', '1000-3000']);
    for (const f of finals) {
      expect(Object.keys(f.states!)).toEqual(['s1', 's2']);
      const rebuilt = engine(hoppingWindows(2_000, 1_000));
      rebuilt.mergePartials({
        version: 1,
        definition: e.definition,
        shards: [],
        cells: [{ start: f.window.start, end: f.window.end, key: f.key, states: f.states! }],
      });
      expect(rebuilt.snapshot()[0]!.value).toEqual(f.value);
    }
  });
});
