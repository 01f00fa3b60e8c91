import { describe, expect, it } from 'vitest';
import { bucket, bucketStart, hopping } from '../../src/core/buckets.js';
import { isTributaryError } from '../../src/core/errors.js';

const T = '2026-11-22T21:04:30.250Z';

describe('bucket', () => {
  it('cuts the start of the bucket at the size unit, in UTC', () => {
    expect(bucket(T, '1s')).toBe('2026-11-22T21:04:30');
    expect(bucket(T, '30s')).toBe('2026-11-22T21:04:30');
    expect(bucket(T, '1m')).toBe('2026-11-22T21:04');
    expect(bucket(T, '5m')).toBe('2026-11-22T21:00');
    expect(bucket(T, '15m')).toBe('2026-11-22T21:00');
    expect(bucket(T, '1h')).toBe('2026-11-22T21');
    expect(bucket(T, '6h')).toBe('2026-11-22T18');
    expect(bucket(T, '1d')).toBe('2026-11-22');
  });

  it('reads Dates, epoch milliseconds and ISO strings alike; a string without an offset is UTC', () => {
    const ms = Date.parse(T);
    expect(bucket(new Date(ms), '1m')).toBe('2026-11-22T21:04');
    expect(bucket(ms, '1m')).toBe('2026-11-22T21:04');
    expect(bucket('2026-11-22T21:04:30', '1m')).toBe('2026-11-22T21:04');
    expect(bucket('2026-11-22T23:04:30+02:00', '1m')).toBe('2026-11-22T21:04');
    expect(bucket('2026-11-22', '1h')).toBe('2026-11-22T00');
  });

  it('is tumbling: the start is inclusive, the end exclusive', () => {
    expect(bucket('2026-11-22T21:05:00.000Z', '5m')).toBe('2026-11-22T21:05');
    expect(bucket('2026-11-22T21:04:59.999Z', '5m')).toBe('2026-11-22T21:00');
    expect(bucket('2026-11-22T23:59:59.999Z', '1d')).toBe('2026-11-22');
    expect(bucket('2026-11-23T00:00:00.000Z', '1d')).toBe('2026-11-23');
  });

  it('aligns sizes that do not divide a day to the epoch (7d buckets start on Thursdays)', () => {
    expect(bucket('1970-01-08T00:00:00Z', '7d')).toBe('1970-01-08');
    const start = bucketStart(bucket(T, '7d'));
    expect(start.getUTCDay()).toBe(4);
    expect(Date.parse(T) - start.getTime()).toBeLessThan(7 * 86_400_000);
  });

  it('handles times before the epoch (floor, not truncation)', () => {
    expect(bucket('1969-12-31T23:59:59.999Z', '1m')).toBe('1969-12-31T23:59');
    expect(bucket(-1, '1d')).toBe('1969-12-31');
  });

  it('gives ids that sort as strings in time order', () => {
    const times = Array.from({ length: 500 }, (_, i) => Date.UTC(1999, 0, 1) + i * 7_919_000_003);
    for (const size of ['1m', '1h', '1d'] as const) {
      const ids = times.map((t) => bucket(t, size));
      expect([...ids].sort()).toEqual(ids);
    }
  });

  it('rejects invalid times with bucket.invalidTime and invalid sizes with config.invalid', () => {
    const code = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        return isTributaryError(e) ? e.code : 'other';
      }
      return 'none';
    };
    expect(code(() => bucket('yesterday', '1m'))).toBe('bucket.invalidTime');
    expect(code(() => bucket(Number.NaN, '1m'))).toBe('bucket.invalidTime');
    expect(code(() => bucket(new Date('nope'), '1m'))).toBe('bucket.invalidTime');
    expect(code(() => bucket(Date.UTC(10_000, 0, 1), '1m'))).toBe('bucket.invalidTime');
    expect(code(() => bucket('1700000000', '1m'))).toBe('bucket.invalidTime');
    expect(code(() => bucket(T, '0m'))).toBe('config.invalid');
    expect(code(() => bucket(T, '1.5m' as '1m'))).toBe('config.invalid');
    expect(code(() => bucket(T, '1w' as '1m'))).toBe('config.invalid');
  });
});

describe('hopping', () => {
  it('returns every window holding the time, oldest first, ids at the hop precision', () => {
    expect(hopping(T, '5m', '1m')).toEqual([
      '2026-11-22T21:00',
      '2026-11-22T21:01',
      '2026-11-22T21:02',
      '2026-11-22T21:03',
      '2026-11-22T21:04',
    ]);
    expect(hopping(T, '1h', '15m')).toEqual([
      '2026-11-22T20:15',
      '2026-11-22T20:30',
      '2026-11-22T20:45',
      '2026-11-22T21:00',
    ]);
    expect(hopping(T, '1d', '1h')).toHaveLength(24);
  });

  it('with hop = size is the tumbling bucket', () => {
    expect(hopping(T, '5m', '5m')).toEqual([bucket(T, '5m')]);
  });

  it('puts each time in windows that hold it, and in no other', () => {
    const size = 10 * 60_000;
    for (let i = 0; i < 200; i++) {
      const t = Date.UTC(2026, 0, 1) + i * 37_123;
      const ids = hopping(t, '10m', '2m');
      expect(ids).toHaveLength(5);
      for (const id of ids) {
        const start = bucketStart(id).getTime();
        expect(start).toBeLessThanOrEqual(t);
        expect(t).toBeLessThan(start + size);
      }
    }
  });

  it('rejects a size that is not a multiple of the hop', () => {
    expect(() => hopping(T, '5m', '2m')).toThrow(/multiple/);
  });
});

describe('bucketStart', () => {
  it('reads back every id format', () => {
    expect(bucketStart('2026-11-22').toISOString()).toBe('2026-11-22T00:00:00.000Z');
    expect(bucketStart('2026-11-22T21').toISOString()).toBe('2026-11-22T21:00:00.000Z');
    expect(bucketStart('2026-11-22T21:04').toISOString()).toBe('2026-11-22T21:04:00.000Z');
    expect(bucketStart('2026-11-22T21:04:30').toISOString()).toBe('2026-11-22T21:04:30.000Z');
    expect(() => bucketStart('21:04')).toThrow(/not a bucket id/);
  });
});
