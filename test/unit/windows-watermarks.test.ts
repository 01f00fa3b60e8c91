import { describe, expect, it } from 'vitest';
import { tumblingWindows } from '../../src/operators/windows/assigners.js';
import { count } from '../../src/operators/windows/exact-aggregations.js';
import { Watermarks } from '../../src/operators/windows/watermarks.js';
import { WindowedAggregation } from '../../src/operators/windows/windowed-aggregation.js';

describe('watermarks', () => {
  it('per shard: the latest event time minus maxOutOfOrderMs, never back for an older record', () => {
    const m = new Watermarks({ maxOutOfOrderMs: 100 });
    m.observe('a', 1_000);
    expect(m.advance(0)).toBe(900);
    m.observe('a', 950);
    expect(m.advance(1)).toBe(900);
    m.observe('a', 1_500);
    expect(m.advance(2)).toBe(1_400);
    expect(m.frontier()).toEqual([
      { shardId: 'a', status: 'active', maxEventTime: 1_500, watermark: 1_400, records: 3, lastActiveAt: 2 },
    ]);
  });

  it('for the app: the least over the active shards, and never back when a shard behind joins', () => {
    const m = new Watermarks();
    m.observe('a', 1_000);
    m.observe('b', 600);
    expect(m.advance(0)).toBe(600);
    m.observe('b', 2_000);
    expect(m.advance(0)).toBe(1_000);
    m.observe('c', 10); // a new shard far behind: it holds the watermark from now on, not back
    expect(m.advance(0)).toBe(1_000);
    m.observe('a', 3_000);
    m.observe('b', 3_000);
    expect(m.advance(0)).toBe(1_000);
    m.observe('c', 2_500);
    expect(m.advance(0)).toBe(2_500);
  });

  it('lets an ended or removed shard stop holding it back, and stays put when no shard holds it', () => {
    const m = new Watermarks();
    m.observe('parent', 500);
    m.observe('other', 2_000);
    expect(m.advance(0)).toBe(500);
    m.endShard('parent');
    expect(m.advance(0)).toBe(2_000);
    expect(m.frontier().find((f) => f.shardId === 'parent')?.status).toBe('ended');
    m.observe('slow', 2_100);
    m.observe('other', 5_000);
    m.removeShard('slow');
    expect(m.advance(0)).toBe(5_000);
    m.endShard('other');
    // Every shard ended: the children of a resharding start after their parents end, and a
    // watermark that leapt ahead meanwhile would make all their records late.
    expect(m.advance(0)).toBe(5_000);
    expect(m.finish()).toBe(Infinity);
  });

  it('holds at -Infinity forever for a known shard that has no records, without idleTimeoutMs', () => {
    const m = new Watermarks();
    m.addShard('quiet');
    m.observe('busy', 10_000);
    for (const now of [0, 60_000, 3_600_000, 86_400_000]) expect(m.advance(now)).toBe(-Infinity);
  });

  it('lets a shard idle for idleTimeoutMs stop holding it, and holds again (never back) once records come', () => {
    const m = new Watermarks({ idleTimeoutMs: 1_000 });
    m.addShard('quiet');
    m.observe('busy', 10_000);
    expect(m.advance(0)).toBe(-Infinity);
    m.observe('busy', 10_500);
    expect(m.advance(999)).toBe(-Infinity);
    m.observe('busy', 11_000);
    expect(m.advance(1_000)).toBe(11_000);
    expect(m.frontier().map((f) => [f.shardId, f.status, f.lastActiveAt])).toEqual([
      ['busy', 'active', 1_000],
      ['quiet', 'idle', 0],
    ]);
    // Back with records older than the watermark: it holds again, and the watermark does not go back.
    m.observe('quiet', 10_800);
    m.observe('busy', 12_000);
    expect(m.advance(1_100)).toBe(11_000);
    m.observe('quiet', 14_000);
    m.observe('busy', 13_000);
    expect(m.advance(1_200)).toBe(13_000);
    // Every shard idle: nothing moves it.
    expect(m.advance(5_000)).toBe(13_000);
  });

  it('validates its options', () => {
    expect(() => new Watermarks({ maxOutOfOrderMs: -1 })).toThrow(expect.objectContaining({ code: 'config.invalid' }));
    expect(() => new Watermarks({ idleTimeoutMs: 0 })).toThrow(expect.objectContaining({ code: 'config.invalid' }));
  });
});

describe('an idle shard', () => {
  type Rec = { t: number };
  const engine = (idleTimeoutMs?: number) => {
    const e = new WindowedAggregation(
      { window: tumblingWindows(1_000), time: (r: Rec) => r.t, ...(idleTimeoutMs ? { idleTimeoutMs } : {}) },
      { n: count() },
    );
    e.addShard('busy');
    e.addShard('quiet'); // leased, but its producer writes nothing
    return e;
  };
  const feed = (e: ReturnType<typeof engine>) => {
    const finals: string[] = [];
    for (let step = 0; step < 20; step++) {
      e.add('busy', [{ t: step * 500 }, { t: step * 500 + 250 }]);
      for (const ev of e.advance(step * 1_000)) if (ev.type === 'final') finals.push(ev.windowId);
    }
    return finals;
  };

  it('stalls the watermark, and every window, while it has no records and no idleTimeoutMs', () => {
    const e = engine();
    expect(feed(e)).toEqual([]);
    expect(e.progress().watermark).toBe(-Infinity);
    expect(e.progress().openCells).toBe(10);
  });

  it('does not stall it with idleTimeoutMs: windows close as the busy shard moves on', () => {
    const e = engine(5_000);
    const finals = feed(e);
    expect(finals.length).toBeGreaterThanOrEqual(8);
    expect(finals[0]).toBe('0-1000');
    expect(e.progress().shards.find((s) => s.shardId === 'quiet')?.status).toBe('idle');
    expect(e.progress().watermark).toBe(9_750);
  });
});
