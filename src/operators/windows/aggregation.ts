import { TributaryError } from '../../core/errors.js';

/** A value JSON can hold without loss: what partial states are written as. */
export type Json = null | boolean | number | string | readonly Json[] | { readonly [key: string]: Json };

/**
 * An aggregation over the records of one window and key, as a mergeable state: states built on
 * disjoint sets of records (other shards, other workers) merge into the state of their union, and
 * go to and from JSON so that workers can exchange them through a table.
 *
 * `I` is what the aggregation reads of a record (`extract`); reading is kept apart from adding so
 * that a batch is checked whole before any state changes.
 *
 * @example
 * ```ts
 * // The longest value seen: a custom aggregation.
 * const longest = <R>(of: (r: R) => string): Aggregation<R, string, string, string> => ({
 *   describe: () => ({ kind: 'longest' }),
 *   extract: of,
 *   init: () => '',
 *   add: (s, v) => (v.length > s.length ? v : s),
 *   merge: (a, b) => (b.length > a.length ? b : a),
 *   result: (s) => s,
 *   toJSON: (s) => s,
 *   fromJSON: (j) => String(j),
 * });
 * ```
 */
export interface Aggregation<R, S, V, I = unknown> {
  /**
   * What states must share to be merged (the kind, a sketch's precision), as JSON: partial states
   * are merged only under an equal description. The extractor functions are not compared.
   */
  describe(): Json;
  /** What the aggregation reads of a record; throws `window.invalidRecord` when the record cannot be aggregated. */
  extract(record: R): I;
  /** The state of no records. */
  init(): S;
  /** The state with one more record (what `extract` read of it); may change and return `state`. */
  add(state: S, input: I): S;
  /** The state of both sets of records; may change and return `into`, never changes `from`. */
  merge(into: S, from: S): S;
  /** What the aggregation is worth, from a state: a JSON-friendly value. */
  result(state: S): V;
  /** The state as JSON. */
  toJSON(state: S): Json;
  /** A state from {@link toJSON}'s JSON; throws `window.invalidState` when it is not one. */
  fromJSON(json: Json): S;
}

/** Aggregations by name: `{ clicks: count(), revenue: sum((r) => r.value.amount) }`. */
export type AggregateSpec<R> = { readonly [name: string]: Aggregation<R, unknown, unknown, unknown> };

/** The result type of one aggregation. */
export type ResultOf<G> = G extends { result(state: never): infer V } ? V : never;

/** The results of a spec, by the spec's names: `{ clicks: number; revenue: number }`. */
export type AggregateResult<A> = { readonly [K in keyof A]: ResultOf<A[K]> };

/** The state of a composite aggregation: one state per aggregation of the spec, in the spec's order. */
export type SpecState = unknown[];

/**
 * The aggregations of a spec as one aggregation, whose result has the spec's names. What a
 * windowed aggregation computes per window and key.
 *
 * @example
 * ```ts
 * const agg = aggregateOf({ clicks: count(), revenue: sum((r: Order) => r.amount) });
 * const s = agg.add(agg.init(), agg.extract({ amount: 5 }));
 * agg.result(s); // { clicks: 1, revenue: 5 }
 * ```
 */
export function aggregateOf<R, A extends AggregateSpec<R>>(
  spec: A,
): Aggregation<R, SpecState, AggregateResult<A>, unknown[]> {
  const names = Object.keys(spec);
  if (names.length === 0) throw new TributaryError('config.invalid', 'aggregate: give at least one aggregation');
  const parts = names.map((n) => spec[n]!);
  return {
    describe: () => Object.fromEntries(names.map((n, i) => [n, parts[i]!.describe()])),
    extract: (record) => parts.map((p) => p.extract(record)),
    init: () => parts.map((p) => p.init()),
    add: (state, input) => {
      for (let i = 0; i < parts.length; i++) state[i] = parts[i]!.add(state[i], input[i]);
      return state;
    },
    merge: (into, from) => {
      for (let i = 0; i < parts.length; i++) into[i] = parts[i]!.merge(into[i], from[i]);
      return into;
    },
    result: (state) => Object.fromEntries(names.map((n, i) => [n, parts[i]!.result(state[i])])) as AggregateResult<A>,
    toJSON: (state) => Object.fromEntries(names.map((n, i) => [n, parts[i]!.toJSON(state[i])])),
    fromJSON: (json) => {
      const o = jsonObject(json, 'aggregate');
      return names.map((n, i) => {
        if (!(n in o)) throw invalidState(`aggregate: the state has no '${n}'`);
        return parts[i]!.fromJSON(o[n]!);
      });
    },
  };
}

/** The error for a partial state that does not fit its aggregation. */
export function invalidState(message: string, details: Record<string, unknown> = {}): TributaryError {
  return new TributaryError('window.invalidState', message, { details });
}

/** The error for a record an aggregation cannot take. */
export function invalidRecord(message: string, cause?: unknown): TributaryError {
  return new TributaryError('window.invalidRecord', message, cause === undefined ? {} : { cause });
}

/** `json` as an object, or `window.invalidState`. */
export function jsonObject(json: Json, what: string): { readonly [key: string]: Json } {
  if (json === null || typeof json !== 'object' || Array.isArray(json))
    throw invalidState(`${what}: the state is not a JSON object`);
  return json as { readonly [key: string]: Json };
}

/** `json` as a finite number, or `window.invalidState`. */
export function jsonNumber(json: Json | undefined, what: string): number {
  if (typeof json !== 'number' || !Number.isFinite(json)) throw invalidState(`${what}: expected a finite number`);
  return json;
}

/**
 * Runs a user's extractor, turning what it throws into `window.invalidRecord` (with the thrown
 * value as the cause), so a pipeline dead-letters the record rather than failing the batch for good.
 */
export function callExtractor<R, T>(what: string, fn: (record: R) => T, record: R): T {
  try {
    return fn(record);
  } catch (e) {
    throw invalidRecord(`${what}: the extractor threw`, e);
  }
}

/**
 * A numeric input: a finite number, or `undefined`/`null` for "no value" (the record is skipped
 * by this aggregation, as SQL skips NULL). Anything else is `window.invalidRecord`.
 */
export function numberInput(what: string, v: unknown): number | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v))
    throw invalidRecord(`${what}: the value must be a finite number, null or undefined, got ${describeValue(v)}`);
  return v;
}

/** A categorical input (for distinct and top-k): a string or a finite number (as its string), or `undefined`/`null` to skip. */
export function itemInput(what: string, v: unknown): string | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'string') return v;
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  if (typeof v === 'bigint') return v.toString();
  throw invalidRecord(`${what}: the value must be a string, a number, null or undefined, got ${describeValue(v)}`);
}

/** A mergeable sketch of categorical values (HyperLogLog, frequent items): what {@link itemSketch} wraps. */
export interface ItemSketch<S> {
  add(item: string): void;
  merge(other: S): void;
  toJSON(): Json;
}

/**
 * The aggregation of a categorical input into a mergeable sketch: each record's value (read by
 * `of`, checked by {@link itemInput}, skipped when null) is added to the sketch, and sketches
 * merge in place. `distinct` and `topK` are this with their own sketch and result.
 */
export function itemSketch<R, S extends ItemSketch<S>, O>(
  what: string,
  of: (record: R) => unknown,
  sketch: {
    readonly describe: Json;
    readonly init: () => S;
    readonly result: (s: S) => O;
    readonly fromJSON: (j: Json) => S;
  },
): Aggregation<R, S, O, string | undefined> {
  return {
    describe: () => sketch.describe,
    extract: (r) => itemInput(what, callExtractor(what, of, r)),
    init: sketch.init,
    add: (s, v) => {
      if (v !== undefined) s.add(v);
      return s;
    },
    merge: (a, b) => {
      a.merge(b);
      return a;
    },
    result: sketch.result,
    toJSON: (s) => s.toJSON(),
    fromJSON: sketch.fromJSON,
  };
}

function describeValue(v: unknown): string {
  return typeof v === 'number' ? String(v) : typeof v;
}
