import { describe, expect, it } from 'vitest';
import { isTributaryError } from '../../src/core/errors.js';
import { keyProblem } from '../../src/core/key-rules.js';
import { bucketId, parseBucket } from '../../src/views/event-table/bucket.js';
import { canonicalJson, defaultEventId } from '../../src/views/event-table/event-id.js';
import {
  eventId,
  eventKey,
  eventTime,
  MAX_ID_BYTES,
  MAX_TIME,
  sortKeyTime,
  suffixOf,
} from '../../src/views/event-table/keys.js';
import { decodeCursor, encodeCursor } from '../../src/views/event-table/replay-checkpoint.js';
import { eventTable } from '../../src/views/event-table/view.js';

const T = Date.parse('2026-11-22T10:15:30.123Z');

describe('event table key encoding', () => {
  it("names buckets as the framework's time buckets: UTC start at the size's unit, so bucket ids sort by time", () => {
    expect(bucketId(T, '1d')).toBe('2026-11-22');
    expect(bucketId(T, '6h')).toBe('2026-11-22T06');
    expect(bucketId(T, '1h')).toBe('2026-11-22T10');
    expect(bucketId(T, '15m')).toBe('2026-11-22T10:15');
    expect(bucketId(T, '30s')).toBe('2026-11-22T10:15:30');
    const ids = [0, 1, 2, 3, 25].map((h) => bucketId(T + h * 3_600_000, '1h'));
    expect([...ids].sort()).toEqual(ids);
  });

  it('rejects buckets that do not divide a day into whole seconds', () => {
    for (const b of ['7m', '5h', '2d', '500ms', '0s', 'soon'] as const) {
      expect(() => parseBucket(b as '1h'), b).toThrow(expect.objectContaining({ code: 'config.invalid' }));
    }
  });

  it('puts a fixed-width ISO timestamp first in the sort key, so keys sort by time, then by id', () => {
    const k = eventKey(T, 'e-1', '1h', 4);
    expect(k.sk).toBe('2026-11-22T10:15:30.123Z#e-1');
    expect(k.pk).toBe(`2026-11-22T10#${k.suffix}`);
    expect(sortKeyTime(k.sk)).toBe(T);
    const times = [
      Date.UTC(1970, 0, 1),
      Date.UTC(2001, 8, 9, 1, 46, 40),
      T,
      T + 1,
      Date.UTC(9999, 11, 31, 23, 59, 59, 999),
    ];
    const keys = times.map((t) => eventKey(t, 'x', '1h', 1).sk);
    expect([...keys].sort()).toEqual(keys);
    expect(eventKey(T, 'a', '1h', 1).sk < eventKey(T, 'b', '1h', 1).sk).toBe(true);
  });

  it('chooses the write-shard suffix from the event id alone: the same id always lands on the same partition, and ids spread', () => {
    expect(suffixOf('order-17', 8)).toBe(suffixOf('order-17', 8));
    const counts = new Array(8).fill(0) as number[];
    for (let i = 0; i < 8000; i++) counts[suffixOf(`e${i}`, 8)]!++;
    for (const c of counts) expect(c).toBeGreaterThan(850);
    expect(suffixOf('anything', 1)).toBe(0);
  });

  it("takes event ids up to 512 UTF-8 bytes, which keeps the sort key within DynamoDB's key rules", () => {
    const longest = 'é'.repeat(MAX_ID_BYTES / 2);
    expect(eventId(longest, 'events')).toBe(longest);
    const sortKey = eventKey(MAX_TIME, longest, '1h', 4).sk;
    expect(keyProblem({ name: 'sk', type: 'S', role: 'sort' }, sortKey)).toBeUndefined();
    for (const bad of [longest + 'x', '', 7 as unknown])
      expect(() => eventId(bad, 'events')).toThrow(expect.objectContaining({ code: 'view.invalidEvent' }));
  });

  it('fails invalid times with view.invalidEvent', () => {
    for (const t of [NaN, Infinity, -1, new Date('nope'), '2026-01-01' as unknown, undefined, Date.UTC(10000, 0, 1)]) {
      let err: unknown;
      try {
        eventTime(t, 'events');
      } catch (e) {
        err = e;
      }
      expect(isTributaryError(err, 'view.invalidEvent'), String(t)).toBe(true);
    }
    expect(eventTime(new Date(T), 'events')).toBe(T);
  });

  it('derives the default id from the canonical JSON of the payload: key order does not matter, content does', () => {
    expect(canonicalJson({ b: 1, a: [true, { d: null, c: 'x', u: undefined }], at: new Date(T) })).toBe(
      '{"a":[true,{"c":"x","d":null}],"at":"2026-11-22T10:15:30.123Z","b":1}',
    );
    expect(defaultEventId({ user: 'u1', n: 2 })).toBe(defaultEventId({ n: 2, user: 'u1' }));
    expect(defaultEventId({ user: 'u1', n: 2 })).not.toBe(defaultEventId({ user: 'u1', n: 3 }));
    expect(defaultEventId({ user: 'u1' })).toMatch(/^[0-9a-f]{64}$/);
  });

  it('locates an event: its period table, key and payload', () => {
    const view = eventTable<{ id: string; at: number; body: string }, { body: string }>({
      table: 'events',
      time: (e) => e.at,
      id: (e) => e.id,
      payload: (e) => ({ body: e.body }),
      bucket: '1h',
      writeShards: 4,
      rotation: { period: 'day', retention: 7 },
    });
    const loc = view.locate({ id: 'e1', at: T, body: 'hi' });
    expect(loc).toMatchObject({
      table: 'events_2026_11_22',
      sk: '2026-11-22T10:15:30.123Z#e1',
      id: 'e1',
      payload: { body: 'hi' },
    });
    expect(view.tables(new Date(T)).map((t) => t.name)).toEqual(['events_2026_11_22', 'events_2026_11_23']);
    expect(view.tables(new Date(T))[0]).toMatchObject({
      partitionKey: { name: 'pk', type: 'S' },
      sortKey: { name: 'sk', type: 'S' },
    });
  });

  it('round-trips replay checkpoints, event ids holding | included', () => {
    const c = { end: T, bucket: '2026-11-22T10', sk: '2026-11-22T10:15:30.123Z#a|b|c' };
    expect(decodeCursor(encodeCursor(c))).toEqual(c);
    expect(() => decodeCursor('49590338271490256608559692538361571095921575989136588898')).toThrow(
      expect.objectContaining({ code: 'config.invalid' }),
    );
  });
});
