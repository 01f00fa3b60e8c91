import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { isTributaryError, TributaryError } from '../../core/errors.js';
import { isStorableNumber, keyProblem, keyRules, type KeyRule, type KeyValue } from '../../core/key-rules.js';
import { NumberValue } from '../../core/numbers.js';
import type { ChangeKind } from '../../core/records.js';
import type { KeyAttr } from '../../core/tables.js';
import type { SumsByKey } from './coalesce.js';
import { keyAttr, type CounterKey, type CounterViewOptions, type Increment } from './options.js';

/** A counter view's definition, checked and compiled for the hot path. */
export interface CounterPlan<R> {
  readonly table: string;
  /** Partition key, then sort key. */
  readonly attrs: readonly KeyAttr[];
  /** The key rules of `attrs`, in the same order. */
  readonly rules: readonly KeyRule[];
  readonly fields: readonly string[];
  readonly increments: readonly Increment<R>[];
  readonly key: (r: R) => CounterKey | readonly CounterKey[];
  readonly sign?: (r: R) => number;
}

/** What the checks need to know of a plan (the record type does not matter to them). */
type PlanInfo = Pick<CounterPlan<unknown>, 'table' | 'attrs' | 'rules'>;

/**
 * Checks a view's options; throws `config.invalid` on what can never work.
 *
 * @example
 * ```ts
 * const plan = compilePlan({ table: 'views', partitionKey: 'page', key: r => ({ page: r.page }), add: { views: 1 } });
 * ```
 */
export function compilePlan<R>(o: CounterViewOptions<R>): CounterPlan<R> {
  const bad = (msg: string) =>
    new TributaryError('config.invalid', `counter view '${o.table}': ${msg}`, { details: { table: o.table } });
  if (!o.table) throw bad('a table name is required');
  const attrs = [keyAttr(o.partitionKey), ...(o.sortKey === undefined ? [] : [keyAttr(o.sortKey)])];
  if (attrs.some((a) => !a.name) || (attrs.length === 2 && attrs[0]!.name === attrs[1]!.name))
    throw bad('key attribute names must be non-empty and distinct');
  const fields = Object.keys(o.add);
  if (fields.length === 0) throw bad('`add` must name at least one attribute to increment');
  for (const f of fields) {
    if (attrs.some((a) => a.name === f)) throw bad(`'${f}' is a key attribute; it cannot be incremented`);
    const inc = o.add[f];
    if (typeof inc === 'number' ? !isStorableNumber(inc) : typeof inc !== 'function')
      throw bad(`increment of '${f}' must be a finite number or a function`);
  }
  const d = o.decrementOnRemove;
  return {
    table: o.table,
    attrs,
    rules: keyRules(attrs[0]!, attrs[1]),
    fields,
    increments: fields.map((f) => o.add[f]!),
    key: o.key,
    sign: typeof d === 'function' ? d : d ? changeSign : undefined,
  };
}

/**
 * A DynamoDB modify with both images, as the remove of its old item and the insert of its new
 * one, for `decrementOnRemove: true`; undefined for any other record.
 */
function asRemoveAndInsert<R>(r: R): [R, R] | undefined {
  const c = r as { type?: unknown; kind?: ChangeKind; oldImage?: unknown; newImage?: unknown };
  if (c.type !== 'dynamodb' || c.kind !== 'modify' || c.oldImage === undefined || c.newImage === undefined)
    return undefined;
  return [{ ...c, kind: 'remove', newImage: undefined } as R, { ...c, kind: 'insert', oldImage: undefined } as R];
}

/**
 * `decrementOnRemove: true`: DynamoDB changes count +1 on insert, -1 on remove, and a modify as
 * both (see {@link asRemoveAndInsert}; 0 when it carries only one image); other records +1.
 */
function changeSign(r: unknown): number {
  const c = r as { type?: unknown; kind?: ChangeKind };
  if (c.type !== 'dynamodb') return 1;
  return c.kind === 'insert' ? 1 : c.kind === 'remove' ? -1 : 0;
}

/**
 * Turns one write's outputs into sums per key, checking every key and increment first: a bad
 * one rejects the whole write before anything is buffered, so the runner can isolate its record
 * without the rest of the write having been counted. Returns the sums and the records counted.
 *
 * @example
 * ```ts
 * const { sums } = prepare(plan, outputs); // Map { '"home"' => { key: { page: { S: 'home' } }, sums: [3] } }
 * ```
 */
export function prepare<R>(plan: CounterPlan<R>, outputs: readonly R[]): { sums: SumsByKey; records: number } {
  const sums: SumsByKey = new Map();
  const n = plan.fields.length;
  const values = new Array<number>(n);
  let records = 0;
  const accumulate = (r: R, sign: number) => {
    const keys = call(plan, 'key', () => plan.key(r));
    let nonZero = false;
    for (let i = 0; i < n; i++) {
      const inc = plan.increments[i]!;
      const v = safeIncrement(
        plan,
        plan.fields[i]!,
        typeof inc === 'number' ? inc : call(plan, `add.${plan.fields[i]}`, () => inc(r)),
      );
      values[i] = v * sign;
      if (v !== 0) nonZero = true;
    }
    for (const k of Array.isArray(keys) ? (keys as readonly CounterKey[]) : [keys as CounterKey]) {
      const id = keyId(plan, k);
      if (!nonZero) continue;
      let e = sums.get(id);
      if (!e) sums.set(id, (e = { key: marshalKey(plan, k), sums: new Array<number>(n).fill(0) }));
      for (let i = 0; i < n; i++) e.sums[i]! += values[i]!;
    }
  };
  for (const r of outputs) {
    // A live count follows a modify as a remove of the old item and an insert of the new one would:
    // its old key loses the old increments and its new key gains the new (the difference, when the key stays).
    const moved = plan.sign === changeSign ? asRemoveAndInsert(r) : undefined;
    if (moved) {
      accumulate(moved[0], -1);
      accumulate(moved[1], 1);
      records++;
      continue;
    }
    const sign = plan.sign
      ? safeIncrement(
          plan,
          'decrementOnRemove',
          call(plan, 'decrementOnRemove', () => plan.sign!(r)),
        )
      : 1;
    if (sign === 0) continue;
    accumulate(r, sign);
    records++;
  }
  return { sums, records };
}

/** User code that throws fails the write as `pipeline.userCode` (a TributaryError it threw is kept). */
function call<T>(plan: PlanInfo, what: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (isTributaryError(e)) throw e;
    throw new TributaryError(
      'pipeline.userCode',
      `counter view '${plan.table}': ${what} threw: ${(e as Error)?.message ?? String(e)}`,
      { details: { table: plan.table }, cause: e },
    );
  }
}

/**
 * An increment whose sums stay exact in JS: a number within ±`Number.MAX_SAFE_INTEGER` that
 * DynamoDB can store, or a bigint in that range (as a number). Anything else (a `NumberValue` of
 * an image's large or long decimal, NaN, a larger number) is `view.invalidIncrement`: summed in
 * JS, it would be rounded silently.
 */
function safeIncrement(plan: PlanInfo, field: string, v: unknown): number {
  const n = typeof v === 'bigint' && v >= MIN_SAFE && v <= MAX_SAFE ? Number(v) : v;
  if (typeof n === 'number' && Math.abs(n) <= Number.MAX_SAFE_INTEGER && isStorableNumber(n)) return n;
  throw invalidIncrement(plan, field, v);
}

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);
const MIN_SAFE = -MAX_SAFE;

function invalidIncrement(plan: PlanInfo, field: string, v: unknown): TributaryError {
  return new TributaryError(
    'view.invalidIncrement',
    `counter view '${plan.table}': ${field} must be a safe number (finite, within ±Number.MAX_SAFE_INTEGER, and one DynamoDB can store), got ${preview(v)}`,
    {
      details: { table: plan.table, field, value: preview(v) },
    },
  );
}

function invalidKey(plan: PlanInfo, msg: string, key: unknown): TributaryError {
  return new TributaryError('view.invalidKey', `counter view '${plan.table}': ${msg}`, {
    details: { table: plan.table, key: preview(key) },
  });
}

/**
 * A canonical string of a key, checking it on the way: exactly the table's key attributes, each
 * valid by DynamoDB's key rules for its declared type (`view.invalidKey` otherwise).
 *
 * @example
 * ```ts
 * keyId(plan, { page: 'home', minute: '2026-11-22T21:04' }); // '["home","2026-11-22T21:04"]'
 * ```
 */
export function keyId(plan: PlanInfo, k: unknown): string {
  if (typeof k !== 'object' || k === null || Array.isArray(k))
    throw invalidKey(
      plan,
      `a key must be an object with ${plan.attrs.map((a) => `'${a.name}'`).join(' and ')}, got ${preview(k)}`,
      k,
    );
  const obj = k as Record<string, unknown>;
  const parts: string[] = [];
  for (const rule of plan.rules) {
    const v = obj[rule.name];
    const problem = keyProblem(rule, v, 'view');
    if (problem) throw invalidKey(plan, problem, k);
    parts.push(keyPart(v as KeyValue));
  }
  let defined = 0;
  for (const name in obj) if (obj[name] !== undefined) defined++;
  if (defined !== plan.attrs.length) {
    const extra = Object.keys(obj).filter(
      (name) => obj[name] !== undefined && !plan.attrs.some((a) => a.name === name),
    );
    throw invalidKey(plan, `key has attributes that are not the table's key: ${extra.join(', ')}`, k);
  }
  return parts.length === 1 ? parts[0]! : JSON.stringify(parts);
}

/** A checked key value as a string: the same string for values DynamoDB holds as the same key. */
function keyPart(v: KeyValue): string {
  if (typeof v === 'string') return v;
  if (v instanceof Uint8Array) return Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64');
  return String(v);
}

/** The key in DynamoDB's wire form; only called once `keyId` has checked it. */
function marshalKey(plan: PlanInfo, k: CounterKey): Record<string, AttributeValue> {
  const key: Record<string, AttributeValue> = {};
  for (const a of plan.attrs) {
    const v = k[a.name]!;
    key[a.name] = a.type === 'S' ? { S: v as string } : a.type === 'N' ? { N: String(v) } : { B: v as Uint8Array };
  }
  return key;
}

function preview(v: unknown): string {
  let s: string;
  try {
    s =
      typeof v === 'string'
        ? JSON.stringify(v)
        : typeof v === 'number'
          ? String(v)
          : typeof v === 'bigint'
            ? `${v}n`
            : v instanceof NumberValue
              ? `NumberValue ${v.toString()}`
              : v instanceof Uint8Array
                ? `<${v.byteLength} bytes>`
                : (JSON.stringify(v) ?? String(v));
  } catch {
    s = String(v);
  }
  return s.length > 200 ? `${s.slice(0, 200)}...` : s;
}
