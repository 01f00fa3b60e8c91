import { callExtractor, invalidState, jsonNumber, numberInput, type Aggregation, type Json } from './aggregation.js';

/**
 * The number of records.
 *
 * @example
 * ```ts
 * { clicks: count() }
 * ```
 */
export function count<R = unknown>(): Aggregation<R, number, number, null> {
  return {
    describe: () => ({ kind: 'count' }),
    extract: () => null,
    init: () => 0,
    add: (s) => s + 1,
    merge: (a, b) => a + b,
    result: (s) => s,
    toJSON: (s) => s,
    fromJSON: (j) => jsonNumber(j, 'count'),
  };
}

/**
 * The sum of a number read from each record (0 when there is none). A record whose value is
 * `null` or `undefined` is skipped; any other value that is not a finite number makes the record
 * invalid (`window.invalidRecord`). Sums are doubles: exact for whole numbers up to 2^53, while
 * sums of fractions may differ in their last bits with the order in which states were merged.
 *
 * @example
 * ```ts
 * { revenue: sum((r: KinesisRecord<Order>) => r.value.amount) }
 * ```
 */
export function sum<R>(
  of: (record: R) => number | null | undefined,
): Aggregation<R, number, number, number | undefined> {
  return {
    describe: () => ({ kind: 'sum' }),
    extract: (r) => numberInput('sum', callExtractor('sum', of, r)),
    init: () => 0,
    add: (s, v) => (v === undefined ? s : s + v),
    merge: (a, b) => a + b,
    result: (s) => s,
    toJSON: (s) => s,
    fromJSON: (j) => jsonNumber(j, 'sum'),
  };
}

/**
 * The least number read from the records; `null` when none had one (`null`/`undefined` values
 * are skipped).
 *
 * @example
 * ```ts
 * { fastest: min((r: KinesisRecord<Req>) => r.value.ms) }
 * ```
 */
export function min<R>(
  of: (record: R) => number | null | undefined,
): Aggregation<R, number | null, number | null, number | undefined> {
  return extreme('min', of, (a, b) => (b < a ? b : a));
}

/**
 * The greatest number read from the records; `null` when none had one.
 *
 * @example
 * ```ts
 * { slowest: max((r: KinesisRecord<Req>) => r.value.ms) }
 * ```
 */
export function max<R>(
  of: (record: R) => number | null | undefined,
): Aggregation<R, number | null, number | null, number | undefined> {
  return extreme('max', of, (a, b) => (b > a ? b : a));
}

function extreme<R>(
  kind: 'min' | 'max',
  of: (record: R) => number | null | undefined,
  pick: (a: number, b: number) => number,
): Aggregation<R, number | null, number | null, number | undefined> {
  return {
    describe: () => ({ kind }),
    extract: (r) => numberInput(kind, callExtractor(kind, of, r)),
    init: () => null,
    add: (s, v) => (v === undefined ? s : s === null ? v : pick(s, v)),
    merge: (a, b) => (b === null ? a : a === null ? b : pick(a, b)),
    result: (s) => s,
    toJSON: (s) => s,
    fromJSON: (j) => (j === null ? null : jsonNumber(j, kind)),
  };
}

/** The state of {@link avg}: the sum and the number of values. */
export type AvgState = [sum: number, count: number];

/**
 * The mean of a number read from the records; `null` when none had one (`null`/`undefined`
 * values are skipped, and do not count).
 *
 * @example
 * ```ts
 * { meanMs: avg((r: KinesisRecord<Req>) => r.value.ms) }
 * ```
 */
export function avg<R>(
  of: (record: R) => number | null | undefined,
): Aggregation<R, AvgState, number | null, number | undefined> {
  return {
    describe: () => ({ kind: 'avg' }),
    extract: (r) => numberInput('avg', callExtractor('avg', of, r)),
    init: () => [0, 0],
    add: (s, v) => {
      if (v !== undefined) {
        s[0] += v;
        s[1] += 1;
      }
      return s;
    },
    merge: (a, b) => {
      a[0] += b[0];
      a[1] += b[1];
      return a;
    },
    result: (s) => (s[1] === 0 ? null : s[0] / s[1]),
    toJSON: (s) => [s[0], s[1]],
    fromJSON: (j: Json) => {
      if (!Array.isArray(j) || j.length !== 2) throw invalidState('avg: expected [sum, count]');
      return [jsonNumber(j[0], 'avg'), jsonNumber(j[1], 'avg')];
    },
  };
}
