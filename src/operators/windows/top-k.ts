import { invalidState, itemSketch, jsonNumber, jsonObject, type Aggregation, type Json } from './aggregation.js';
import { wholeNumber } from './checks.js';

/** One of the most frequent values: its count is a lower bound, the truth is at most `count + error`. */
export interface TopKItem {
  readonly value: string;
  readonly count: number;
  /** The most `count` may be under the true count (the same for every item of a result; 0 when exact). */
  readonly error: number;
}

/** Options of {@link topK}. */
export interface TopKOptions {
  /**
   * How many values are counted at once (Misra-Gries counters). Counts are exact while a window
   * and key has at most this many distinct values; beyond, each count is under by at most
   * N / (capacity + 1), N being the number of values. Default `max(100, 10 * k)`.
   */
  readonly capacity?: number;
}

/**
 * A Misra-Gries summary: at most `capacity` counters. Mergeable as in Agarwal et al.,
 * "Mergeable summaries" (2012): add the counters, then take the (capacity + 1)-th largest off
 * every counter, which keeps the bound of one summary over all the values of both.
 *
 * @example
 * ```ts
 * const f = new FrequentItems(100);
 * for (const page of ['/', '/', '/cart']) f.add(page);
 * f.top(1); // [{ value: '/', count: 2, error: 0 }]
 * ```
 */
export class FrequentItems {
  constructor(
    readonly capacity: number,
    /** Values added, including those no counter holds. */
    public total = 0,
    readonly counters = new Map<string, number>(),
  ) {}

  /**
   * Counts `value` `weight` times (default once; weights may be fractions: capacity units). Past
   * `capacity` counters, the new value and every counter cancel by the least of them, repeatedly
   * (Misra-Gries with weights), which keeps the bound of {@link error}.
   */
  add(value: string, weight = 1): void {
    this.total += weight;
    const c = this.counters.get(value);
    if (c !== undefined) {
      this.counters.set(value, c + weight);
      return;
    }
    let left = weight;
    while (left > 0 && this.counters.size >= this.capacity) {
      // The new value and one share of each counted value cancel out: capacity + 1 distinct
      // values lose `cut` each, so no count is under by more than (total − counted) / (capacity + 1).
      let cut = left;
      for (const n of this.counters.values()) if (n < cut) cut = n;
      for (const [v, n] of this.counters) {
        if (n <= cut) this.counters.delete(v);
        else this.counters.set(v, n - cut);
      }
      left -= cut;
    }
    if (left > 0) this.counters.set(value, left);
  }

  merge(other: FrequentItems): void {
    this.total += other.total;
    for (const [v, n] of other.counters) this.counters.set(v, (this.counters.get(v) ?? 0) + n);
    if (this.counters.size <= this.capacity) return;
    const cut = [...this.counters.values()].sort((a, b) => b - a)[this.capacity]!;
    for (const [v, n] of this.counters) {
      if (n <= cut) this.counters.delete(v);
      else this.counters.set(v, n - cut);
    }
  }

  /** How much any count may be under the truth: (total − counted) / (capacity + 1), rounded down for whole counts. */
  error(): number {
    let counted = 0;
    for (const n of this.counters.values()) counted += n;
    const bound = (this.total - counted) / (this.capacity + 1);
    // Whole counts are under by a whole number; weighted ones (capacity units) by a fraction.
    return Number.isInteger(this.total) ? Math.floor(bound) : bound;
  }

  /** The `k` largest counts, largest first (equal counts by value). */
  top(k: number): TopKItem[] {
    const error = this.error();
    return [...this.counters.entries()]
      .sort(([va, a], [vb, b]) => b - a || (va < vb ? -1 : va > vb ? 1 : 0))
      .slice(0, k)
      .map(([value, count]) => ({ value, count, error }));
  }

  /** `{ n, c }`: the total and the counters as `[value, count]`, by value, so equal states print alike. */
  toJSON(): Json {
    const c = [...this.counters.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return { n: this.total, c };
  }

  static fromJSON(json: Json, capacity: number): FrequentItems {
    const o = jsonObject(json, 'topK');
    const total = jsonNumber(o.n, 'topK');
    if (!Array.isArray(o.c)) throw invalidState('topK: the state has no counters (c)');
    const counters = new Map<string, number>();
    for (const e of o.c as readonly Json[]) {
      if (!Array.isArray(e) || typeof e[0] !== 'string') throw invalidState('topK: a counter is not [value, count]');
      counters.set(e[0], jsonNumber(e[1], 'topK'));
    }
    if (counters.size > capacity) throw invalidState(`topK: the state has more than ${capacity} counters`);
    return new FrequentItems(capacity, total, counters);
  }
}

/**
 * The `k` most frequent values read from the records, most frequent first: strings, or numbers
 * counted as their string; `null`/`undefined` are skipped. Each item carries its count and the
 * most that count may be under the truth (`error`): 0 while the window and key has at most
 * `capacity` distinct values, at most N / (capacity + 1) beyond (N: the values counted). Any value
 * more frequent than that bound is kept. States merge within the same bound, over all the values.
 *
 * @example
 * ```ts
 * { pages: topK(10, (r: KinesisRecord<Click>) => r.value.page) }
 * // [{ value: '/home', count: 1200, error: 0 }, ...]
 * ```
 */
export function topK<R>(
  k: number,
  of: (record: R) => string | number | bigint | null | undefined,
  options: TopKOptions = {},
): Aggregation<R, FrequentItems, TopKItem[], string | undefined> {
  wholeNumber('topK: k', k, 1);
  const capacity = wholeNumber('topK: capacity', options.capacity ?? Math.max(100, 10 * k), k);
  return itemSketch('topK', of, {
    describe: { kind: 'topK', k, capacity },
    init: () => new FrequentItems(capacity),
    result: (s) => s.top(k),
    fromJSON: (j) => FrequentItems.fromJSON(j, capacity),
  });
}
