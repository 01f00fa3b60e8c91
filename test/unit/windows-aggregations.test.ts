import { describe, expect, expectTypeOf, it } from 'vitest';
import { isTributaryError } from '../../src/core/errors.js';
import { aggregateOf, type Aggregation, type Json } from '../../src/operators/windows/aggregation.js';
import { distinct } from '../../src/operators/windows/distinct.js';
import { avg, count, max, min, sum } from '../../src/operators/windows/exact-aggregations.js';
import { HyperLogLog } from '../../src/operators/windows/hyperloglog.js';
import { percentiles } from '../../src/operators/windows/percentiles.js';
import { topK, type TopKItem } from '../../src/operators/windows/top-k.js';
import { thrown } from '../helpers.js';

/** A seeded generator (mulberry32). */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The state of `values`, added one by one. */
function stateOf<R, S, V, I>(agg: Aggregation<R, S, V, I>, values: readonly R[]): S {
  let s = agg.init();
  for (const v of values) s = agg.add(s, agg.extract(v));
  return s;
}

/** The state of `values` split in `parts` (by index), each part through JSON, merged. */
function mergedOf<R, S, V, I>(agg: Aggregation<R, S, V, I>, values: readonly R[], parts: number): S {
  let acc = agg.init();
  for (let p = 0; p < parts; p++) {
    const part = stateOf(
      agg,
      values.filter((_, i) => i % parts === p),
    );
    acc = agg.merge(acc, agg.fromJSON(JSON.parse(JSON.stringify(agg.toJSON(part))) as Json));
  }
  return acc;
}

describe('exact aggregations', () => {
  const values = Array.from({ length: 500 }, (_, i) => ({ x: ((i * 7919) % 1000) - 300, skip: i % 10 === 0 }));
  const read = (v: (typeof values)[number]) => (v.skip ? null : v.x);
  const kept = values.filter((v) => !v.skip).map((v) => v.x);

  it('count, sum, min, max and avg give the exact values, null/undefined skipped', () => {
    const agg = aggregateOf({ n: count(), total: sum(read), lo: min(read), hi: max(read), mean: avg(read) });
    expect(agg.result(stateOf(agg, values))).toEqual({
      n: 500,
      total: kept.reduce((a, x) => a + x, 0),
      lo: Math.min(...kept),
      hi: Math.max(...kept),
      mean: kept.reduce((a, x) => a + x, 0) / kept.length,
    });
  });

  it('merge, through JSON, to the same state as one pass over all values', () => {
    const agg = aggregateOf({ n: count(), total: sum(read), lo: min(read), hi: max(read), mean: avg(read) });
    const one = agg.result(stateOf(agg, values));
    for (const parts of [2, 3, 7]) expect(agg.result(mergedOf(agg, values, parts))).toEqual(one);
  });

  it('have null for min, max and avg of no values, and 0 for count and sum', () => {
    const agg = aggregateOf({ n: count(), total: sum(read), lo: min(read), hi: max(read), mean: avg(read) });
    expect(agg.result(agg.init())).toEqual({ n: 0, total: 0, lo: null, hi: null, mean: null });
    expect(agg.result(agg.merge(agg.init(), agg.init()))).toEqual({ n: 0, total: 0, lo: null, hi: null, mean: null });
  });

  it('refuse a value that is not a finite number with window.invalidRecord, and a throwing extractor with its cause', () => {
    const s = sum((r: { v: unknown }) => r.v as number);
    for (const bad of ['12', NaN, Infinity, {}, true])
      expect(thrown(() => s.extract({ v: bad }))).toMatchObject({ code: 'window.invalidRecord' });
    const boom = new Error('boom');
    const e = thrown(() =>
      max(() => {
        throw boom;
      }).extract({}),
    );
    expect(isTributaryError(e, 'window.')).toBe(true);
    expect((e as Error).cause).toBe(boom);
  });

  it('type the results of a spec by its names', () => {
    const agg = aggregateOf({
      n: count(),
      lo: min((r: { x: number }) => r.x),
      top: topK(2, (r: { x: number }) => r.x),
      p: percentiles((r: { x: number }) => r.x, [0.5, 0.99]),
    });
    const v = agg.result(agg.init());
    expectTypeOf(v.n).toEqualTypeOf<number>();
    expectTypeOf(v.lo).toEqualTypeOf<number | null>();
    expectTypeOf(v.top).toEqualTypeOf<TopKItem[]>();
    expectTypeOf(v.p).toEqualTypeOf<{ readonly '0.5': number | null; readonly '0.99': number | null }>();
  });
});

describe('distinct (HyperLogLog)', () => {
  const users = (n: number, prefix: string) => Array.from({ length: n }, (_, i) => `${prefix}-${i}`);

  it('estimates within its stated bound, 4 standard errors of 1.04 / sqrt(2^p), from 1 to 200,000 values', () => {
    for (const precision of [10, 12, 14]) {
      const agg = distinct((u: string) => u, { precision });
      const bound = 4 * (1.04 / Math.sqrt(2 ** precision));
      for (const n of [1, 2, 10, 100, 1_000, 5_000, 20_000, 200_000]) {
        if (precision === 14 && n > 20_000) continue;
        const est = agg.result(stateOf(agg, users(n, `p${precision}n${n}`)));
        expect(Math.abs(est - n), `precision ${precision}, ${n} values: ${est}`).toBeLessThanOrEqual(
          Math.max(1, bound * n),
        );
      }
    }
  });

  it('has a root-mean-square error near its standard error over many sets', () => {
    const agg = distinct((u: string) => u);
    const errors: number[] = [];
    for (let set = 0; set < 60; set++) {
      const n = 3_000 + set * 97;
      errors.push(agg.result(stateOf(agg, users(n, `set${set}`))) / n - 1);
    }
    const rms = Math.sqrt(errors.reduce((a, e) => a + e * e, 0) / errors.length);
    expect(rms).toBeLessThan(1.5 * 0.01625);
  });

  it('counts duplicates once, and numbers as their string', () => {
    const agg = distinct((v: string | number) => v);
    expect(agg.result(stateOf(agg, ['a', 'b', 'a', 1, '1', 2, 'b']))).toBe(4);
  });

  it('merges exactly: the merge of disjoint or overlapping parts equals the sketch of the union', () => {
    const agg = distinct((u: string) => u);
    const all = [...users(30_000, 'x'), ...users(10_000, 'x')];
    const one = stateOf(agg, all);
    for (const parts of [2, 5]) {
      const merged = mergedOf(agg, all, parts);
      expect(merged.registers).toEqual(one.registers);
      expect(agg.result(merged)).toBe(agg.result(one));
    }
  });

  it('goes to JSON sparse while few registers are set, dense beyond, and back to the same registers', () => {
    const few = new HyperLogLog(12);
    for (const u of users(50, 'few')) few.add(u);
    const many = new HyperLogLog(12);
    for (const u of users(50_000, 'many')) many.add(u);
    expect(few.toJSON()).toHaveProperty('s');
    expect(many.toJSON()).toHaveProperty('r');
    expect(JSON.stringify(many.toJSON()).length).toBeLessThan(6_000);
    for (const h of [few, many, new HyperLogLog(12)])
      expect(HyperLogLog.fromJSON(JSON.parse(JSON.stringify(h.toJSON())) as Json, 12).registers).toEqual(h.registers);
  });

  it('refuses a state of another precision or a broken one with window.invalidState', () => {
    const h = new HyperLogLog(10);
    h.add('a');
    const agg = distinct((u: string) => u);
    for (const bad of [h.toJSON(), { p: 12 }, { p: 12, r: 'AAAA' }, { p: 12, s: [4096 * 64] }, null, 'x'])
      expect(thrown(() => agg.fromJSON(bad as Json))).toMatchObject({ code: 'window.invalidState' });
  });

  it('takes precision 4 to 16 only', () => {
    for (const precision of [3, 17, 12.5])
      expect(thrown(() => distinct((u: string) => u, { precision }))).toMatchObject({ code: 'config.invalid' });
  });
});

describe('topK (Misra-Gries)', () => {
  /** A skewed stream: value i about 1/i as often as value 1, over `kinds` values. */
  function zipf(n: number, kinds: number, seed: number): string[] {
    const next = rng(seed);
    const weights = Array.from({ length: kinds }, (_, i) => 1 / (i + 1));
    const total = weights.reduce((a, w) => a + w, 0);
    return Array.from({ length: n }, () => {
      let x = next() * total;
      let i = 0;
      while (x > weights[i]! && i < kinds - 1) x -= weights[i++]!;
      return `v${i}`;
    });
  }
  const exactCounts = (xs: readonly string[]) => {
    const m = new Map<string, number>();
    for (const x of xs) m.set(x, (m.get(x) ?? 0) + 1);
    return m;
  };

  it('is exact, error 0, while there are at most `capacity` distinct values', () => {
    const xs = zipf(5_000, 40, 1);
    const agg = topK(5, (v: string) => v, { capacity: 40 });
    const exact = [...exactCounts(xs).entries()]
      .sort(([va, a], [vb, b]) => b - a || (va < vb ? -1 : 1))
      .slice(0, 5)
      .map(([value, count]) => ({ value, count, error: 0 }));
    expect(agg.result(stateOf(agg, xs))).toEqual(exact);
    expect(agg.result(mergedOf(agg, xs, 3))).toEqual(exact);
  });

  it('beyond capacity, undercounts each value by at most N / (capacity + 1), as it says, merged or not', () => {
    const xs = zipf(20_000, 2_000, 2);
    const exact = exactCounts(xs);
    const agg = topK(10, (v: string) => v, { capacity: 50 });
    for (const state of [stateOf(agg, xs), mergedOf(agg, xs, 4)]) {
      const top = agg.result(state);
      expect(top).toHaveLength(10);
      const error = top[0]!.error;
      expect(error).toBeGreaterThan(0);
      expect(error).toBeLessThanOrEqual(xs.length / 51);
      for (const item of top) {
        expect(item.count).toBeLessThanOrEqual(exact.get(item.value)!);
        expect(item.count + error).toBeGreaterThanOrEqual(exact.get(item.value)!);
      }
      // Every value more frequent than the bound is kept: the true top 3 here.
      const trueTop = [...exact.entries()].sort(([, a], [, b]) => b - a).filter(([, n]) => n > error);
      for (const [value] of trueTop) expect(state.counters.has(value), value).toBe(true);
      expect(state.counters.size).toBeLessThanOrEqual(50);
    }
  });

  it('skips null and undefined, counts numbers as their string, and round-trips through JSON', () => {
    const agg = topK(2, (v: string | number | null) => v);
    const s = stateOf(agg, ['a', 1, '1', null, 'a', 'a']);
    expect(agg.result(s)).toEqual([
      { value: 'a', count: 3, error: 0 },
      { value: '1', count: 2, error: 0 },
    ]);
    expect(agg.toJSON(agg.fromJSON(JSON.parse(JSON.stringify(agg.toJSON(s))) as Json))).toEqual(agg.toJSON(s));
    expect(thrown(() => agg.fromJSON({ n: 1, c: [[1, 1]] }))).toMatchObject({ code: 'window.invalidState' });
  });

  it('takes k >= 1 and capacity >= k only', () => {
    expect(thrown(() => topK(0, (v: string) => v))).toMatchObject({ code: 'config.invalid' });
    expect(thrown(() => topK(10, (v: string) => v, { capacity: 5 }))).toMatchObject({ code: 'config.invalid' });
  });
});

describe('percentiles (DDSketch)', () => {
  const QS = [0, 0.1, 0.5, 0.9, 0.99, 1] as const;
  /** The exact order statistics around rank q(n - 1). */
  const around = (sorted: readonly number[], q: number) => [
    sorted[Math.floor(q * (sorted.length - 1))]!,
    sorted[Math.ceil(q * (sorted.length - 1))]!,
  ];
  const within = (got: number, [lo, hi]: number[], alpha: number) => {
    const a = Math.min(lo! * (1 - alpha), lo! * (1 + alpha));
    const b = Math.max(hi! * (1 - alpha), hi! * (1 + alpha));
    expect(got).toBeGreaterThanOrEqual(a - 1e-9);
    expect(got).toBeLessThanOrEqual(b + 1e-9);
  };

  for (const alpha of [0.01, 0.05]) {
    it(`is within the relative accuracy ${alpha} of each exact quantile, over positive, negative and zero values`, () => {
      const next = rng(3);
      const xs = Array.from({ length: 5_000 }, (_, i) =>
        i % 50 === 0 ? 0 : (next() < 0.3 ? -1 : 1) * Math.exp(next() * 10),
      );
      const sorted = [...xs].sort((a, b) => a - b);
      const agg = percentiles((x: number) => x, QS, { relativeAccuracy: alpha });
      for (const state of [stateOf(agg, xs), mergedOf(agg, xs, 4)]) {
        const v = agg.result(state);
        for (const q of QS) within(v[`${q}`]!, around(sorted, q), alpha);
        expect(v['0']).toBe(sorted[0]);
        expect(v['1']).toBe(sorted[sorted.length - 1]);
      }
    });
  }

  it('merges negative values too (the library merge drops them: DataDog/sketches-js #22)', () => {
    const agg = percentiles((x: number) => x, [0.25]);
    const xs = Array.from({ length: 1_000 }, (_, i) => (i % 2 ? -1 : 1) * (1 + (i % 100)));
    expect(agg.result(mergedOf(agg, xs, 2))).toEqual(agg.result(stateOf(agg, xs)));
  });

  it('merges to the same quantiles as one pass, and round-trips through JSON', () => {
    const agg = percentiles((x: number) => x, [0.5, 0.99]);
    const xs = Array.from({ length: 3_000 }, (_, i) => ((i * 37) % 997) / 7 + 0.5);
    const one = stateOf(agg, xs);
    expect(agg.result(mergedOf(agg, xs, 5))).toEqual(agg.result(one));
    const back = agg.fromJSON(JSON.parse(JSON.stringify(agg.toJSON(one))) as Json);
    expect(agg.toJSON(back)).toEqual(agg.toJSON(one));
  });

  it('gives null for no values, and skips null and undefined', () => {
    const agg = percentiles((x: number | null) => x, [0.5]);
    expect(agg.result(agg.init())).toEqual({ '0.5': null });
    expect(agg.result(stateOf(agg, [null, 4, null]))).toEqual({ '0.5': 4 });
  });

  it('refuses a state of another definition or a broken one, and bad options', () => {
    const agg = percentiles((x: number) => x, [0.5]);
    for (const bad of [null, { n: 1, zero: 0, sum: 1, min: 1, max: 1, pos: [], neg: [] }, { pos: 'x' }])
      expect(thrown(() => agg.fromJSON(bad as Json))).toMatchObject({ code: 'window.invalidState' });
    expect(thrown(() => percentiles((x: number) => x, [1.5]))).toMatchObject({ code: 'config.invalid' });
    expect(thrown(() => percentiles((x: number) => x, [0.5], { relativeAccuracy: 0 }))).toMatchObject({
      code: 'config.invalid',
    });
  });
});
