import { LogCollapsingLowestDenseDDSketch } from '@datadog/sketches-js';
import { TributaryError } from '../../core/errors.js';
import {
  callExtractor,
  invalidState,
  jsonNumber,
  jsonObject,
  numberInput,
  type Aggregation,
  type Json,
} from './aggregation.js';

/** Options of {@link percentiles}. */
export interface PercentilesOptions {
  /**
   * The relative accuracy α of DDSketch, between 0 and 1: a quantile's value is within α × its
   * true value. Default 0.01 (1 %).
   */
  readonly relativeAccuracy?: number;
}

/** The quantiles' values, by quantile as written (`'0.5'`, `'0.99'`); `null` when there were no values. */
export type PercentileValues<Q extends readonly number[]> = { readonly [P in `${Q[number]}`]: number | null };

type Sketch = LogCollapsingLowestDenseDDSketch;
type Store = Sketch['store'];

/**
 * Bins before the lowest are collapsed: 2,048 bins of 1 % cover values from 1 to 10^17, so only
 * a window whose values span more than that loses accuracy, on its lowest quantiles only; it
 * keeps a state's memory bounded whatever the values.
 */
const BIN_LIMIT = 2048;

/**
 * Quantiles of a number read from the records (DDSketch, from `@datadog/sketches-js`), e.g.
 * `[0.5, 0.99]` for the median and the 99th percentile; `null`/`undefined` values are skipped.
 * Each value returned is within the relative accuracy α (default 1 %) of the exact quantile:
 * for α = 0.01 and a true p99 of 250 ms, between 247.5 and 252.5 ms. Values are kept within the
 * least and greatest value seen, which are exact (quantiles 0 and 1 give them). States merge exactly (bin counts add), so merged partials give
 * the quantiles of all their records.
 *
 * @example
 * ```ts
 * { latency: percentiles((r: KinesisRecord<Req>) => r.value.ms, [0.5, 0.99]) }
 * // result: { latency: { '0.5': 12.1, '0.99': 250.3 } }
 * ```
 */
export function percentiles<R, const Q extends readonly number[]>(
  of: (record: R) => number | null | undefined,
  quantiles: Q,
  options: PercentilesOptions = {},
): Aggregation<R, Sketch, PercentileValues<Q>, number | undefined> {
  const alpha = options.relativeAccuracy ?? 0.01;
  if (!(alpha > 0 && alpha < 1))
    throw new TributaryError('config.invalid', `percentiles: relativeAccuracy must be between 0 and 1, got ${alpha}`);
  if (quantiles.length === 0 || quantiles.some((q) => !(q >= 0 && q <= 1)))
    throw new TributaryError(
      'config.invalid',
      `percentiles: give quantiles between 0 and 1, got [${quantiles.join(', ')}]`,
    );
  const init = (): Sketch => new LogCollapsingLowestDenseDDSketch({ relativeAccuracy: alpha, binLimit: BIN_LIMIT });
  return {
    describe: () => ({ kind: 'percentiles', quantiles: [...quantiles], relativeAccuracy: alpha, binLimit: BIN_LIMIT }),
    extract: (r) => numberInput('percentiles', callExtractor('percentiles', of, r)),
    init,
    add: (s, v) => {
      if (v !== undefined) s.accept(v);
      return s;
    },
    merge: (a, b) => mergeSketch(a, b),
    result: (s) =>
      Object.fromEntries(
        quantiles.map((q) => [String(q), s.count === 0 ? null : valueAt(s, q)]),
      ) as PercentileValues<Q>,
    toJSON: (s) => ({
      n: s.count,
      zero: s.zeroCount,
      sum: s.sum,
      min: s.count === 0 ? null : s.min,
      max: s.count === 0 ? null : s.max,
      pos: storeToJSON(s.store),
      neg: storeToJSON(s.negativeStore),
    }),
    fromJSON: (j) => {
      const o = jsonObject(j, 'percentiles');
      const s = init();
      storeFromJSON(s.store, o.pos);
      storeFromJSON(s.negativeStore, o.neg);
      s.zeroCount = jsonNumber(o.zero, 'percentiles');
      s.count = s.store.count + s.negativeStore.count + s.zeroCount;
      if (s.count !== jsonNumber(o.n, 'percentiles'))
        throw invalidState('percentiles: the bins do not add up to the count');
      s.sum = jsonNumber(o.sum, 'percentiles');
      if (s.count > 0) {
        s.min = jsonNumber(o.min, 'percentiles');
        s.max = jsonNumber(o.max, 'percentiles');
      }
      return s;
    },
  };
}

/**
 * `into` with `from`'s values added. Not the library's `merge`: in 2.1.1 it leaves out the other
 * sketch's negative values while counting them (DataDog/sketches-js issue #22), which moves every
 * quantile of a merge that holds negative values. Each store's own `merge` is right.
 */
function mergeSketch(into: Sketch, from: Sketch): Sketch {
  if (from.count === 0) return into;
  into.store.merge(from.store);
  into.negativeStore.merge(from.negativeStore);
  into.zeroCount += from.zeroCount;
  into.count += from.count;
  into.sum += from.sum;
  if (from.min < into.min) into.min = from.min;
  if (from.max > into.max) into.max = from.max;
  return into;
}

/** The sketch's quantile, kept within the least and greatest values, which are exact (so are quantiles 0 and 1). */
function valueAt(s: Sketch, q: number): number {
  if (q === 0) return s.min;
  if (q === 1) return s.max;
  return Math.min(s.max, Math.max(s.min, s.getValueAtQuantile(q)));
}

/** A store's bins as `[lowest key, count, count, ...]` (contiguous from the lowest non-empty bin), `[]` when empty. */
function storeToJSON(store: Store): Json {
  if (store.count === 0) return [];
  let lo = store.minKey;
  let hi = store.maxKey;
  const at = (key: number): number => store.bins[key - store.offset] ?? 0;
  while (lo < hi && at(lo) === 0) lo++;
  while (hi > lo && at(hi) === 0) hi--;
  const out = [lo];
  for (let key = lo; key <= hi; key++) out.push(at(key));
  return out;
}

function storeFromJSON(store: Store, json: Json | undefined): void {
  if (!Array.isArray(json)) throw invalidState('percentiles: a store is not an array');
  const bins = json as readonly Json[];
  if (bins.length === 0) return;
  const lo = jsonNumber(bins[0], 'percentiles');
  for (let i = 1; i < bins.length; i++) {
    const n = jsonNumber(bins[i], 'percentiles');
    if (n < 0) throw invalidState('percentiles: a bin count is negative');
    if (n > 0) store.add(lo + i - 1, n);
  }
}
