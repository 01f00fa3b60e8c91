import { NumberValue } from './numbers.js';
import type { KeyAttr, KeyType } from './tables.js';

/**
 * A value a DynamoDB key attribute may hold: a string (`S`), a number, bigint or `NumberValue`
 * (`N`), or binary (`B`). The key rules below say which of these DynamoDB accepts.
 *
 * @example
 * ```ts
 * const key: Record<string, KeyValue> = { page: 'home', minute: 29_000_000n };
 * ```
 */
export type KeyValue = string | number | bigint | NumberValue | Uint8Array;

/** Which key of a table (or index) an attribute is: the size limit depends on it. */
export type KeyRole = 'partition' | 'sort';

/** DynamoDB's limit on a partition key value, in bytes (UTF-8 for strings). */
export const MAX_PARTITION_KEY_BYTES = 2048;
/** DynamoDB's limit on a sort key value, in bytes (UTF-8 for strings). */
export const MAX_SORT_KEY_BYTES = 1024;

/** One key attribute to check. */
export interface KeyRule {
  /** The attribute's name, for messages. */
  readonly name: string;
  /** The declared type; a value of any of `S`, `N`, `B` passes when absent. */
  readonly type?: KeyType;
  /** Partition or sort key; without it the size limits are not checked (an attribute whose role is not known). */
  readonly role?: KeyRole;
}

/**
 * The rules of a table's key: its partition key, then its sort key if any.
 *
 * @example
 * ```ts
 * keyRules({ name: 'page', type: 'S' }, { name: 'minute', type: 'N' });
 * // [{ name: 'page', type: 'S', role: 'partition' }, { name: 'minute', type: 'N', role: 'sort' }]
 * ```
 */
export function keyRules(partitionKey: KeyAttr, sortKey?: KeyAttr): KeyRule[] {
  return [{ ...partitionKey, role: 'partition' }, ...(sortKey ? [{ ...sortKey, role: 'sort' as const }] : [])];
}

// DynamoDB numbers: magnitude from 1e-130 to below 1e126 (or zero), at most 38 significant digits.
const MAX_MAGNITUDE = 1e126;
const MIN_MAGNITUDE = 1e-130;
const MAX_EXPONENT = 125;
const MIN_EXPONENT = -130;
const MAX_DIGITS = 38;
const NUMBER_RULE = 'magnitude from 1e-130 to below 1e126, at most 38 significant digits';

/**
 * True when DynamoDB can store the number: finite, zero or of a magnitude from 1e-130 to below
 * 1e126. (A JavaScript number never has more than 17 significant digits, under DynamoDB's 38.)
 *
 * @example
 * ```ts
 * isStorableNumber(1e125); // true
 * isStorableNumber(1e126); // false
 * ```
 */
export function isStorableNumber(n: number): boolean {
  const a = Math.abs(n);
  // NaN and the infinities fail both comparisons.
  return n === 0 || (a < MAX_MAGNITUDE && a >= MIN_MAGNITUDE);
}

const NUMBER_TEXT = /^[+-]?(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/;

/**
 * True when DynamoDB can store the number written as `text` (an `N` on the wire, a bigint in
 * decimal): its range and its 38 significant digits, counted as DynamoDB counts them (leading and
 * trailing zeros do not count).
 *
 * @example
 * ```ts
 * isStorableNumberText('1' + '0'.repeat(100)); // true: one significant digit
 * isStorableNumberText('1'.repeat(39));        // false: 39 significant digits
 * ```
 */
export function isStorableNumberText(text: string): boolean {
  const m = NUMBER_TEXT.exec(text);
  const int = m?.[1] ?? '';
  const frac = m?.[2] ?? '';
  if (!m || int.length + frac.length === 0) return false;
  const digits = int + frac;
  const first = digits.search(/[1-9]/);
  if (first < 0) return true;
  let last = digits.length - 1;
  while (digits[last] === '0') last--;
  // The power of ten of the leading significant digit.
  const exponent = int.length - 1 - first + Number(m[3] ?? 0);
  return last - first + 1 <= MAX_DIGITS && exponent <= MAX_EXPONENT && exponent >= MIN_EXPONENT;
}

/**
 * Bytes of a string in UTF-8, as DynamoDB measures key and item sizes.
 *
 * @example
 * ```ts
 * utf8Bytes('é'); // 2
 * ```
 */
export const utf8Bytes = (s: string): number => Buffer.byteLength(s, 'utf8');

/**
 * A value described for an error message: its kind, and whether it is empty.
 *
 * @example
 * ```ts
 * describeValue(''); // 'an empty string'
 * describeValue([1]); // 'an array'
 * ```
 */
export function describeValue(v: unknown): string {
  if (v === undefined) return 'missing';
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (v instanceof Uint8Array) return v.byteLength === 0 ? 'empty binary' : 'binary';
  if (v instanceof Set) return 'a set';
  if (typeof v === 'string') return v === '' ? 'an empty string' : 'a string';
  if (typeof v === 'number') return Number.isFinite(v) ? 'a number' : `the number ${v}`;
  if (typeof v === 'bigint' || v instanceof NumberValue) return 'a number';
  if (typeof v === 'boolean') return `a boolean (${v})`;
  return `a${typeof v === 'object' ? 'n object' : ` ${typeof v}`}`;
}

const TYPE_NAMES: Readonly<Record<KeyType, string>> = { S: 'a string', N: 'a number', B: 'binary' };
const SCALARS = 'a key attribute must be a non-empty string, a number or non-empty binary';

/** The members of an `AttributeValue` that a key may use. */
interface WireScalars {
  readonly S?: unknown;
  readonly N?: unknown;
  readonly B?: unknown;
}

/**
 * The rules, on a value already known to be of key type `type`: an `N` is a number or bigint, or
 * its decimal text on the wire. Allocates nothing for a valid string, number or binary: counters
 * check every key of every record.
 */
function check(rule: KeyRule, type: KeyType, v: KeyValue, declaredBy: string): string | undefined {
  if (type !== 'N' && (v as string | Uint8Array).length === 0)
    return `key attribute '${rule.name}' is ${type === 'S' ? 'an empty string' : 'empty binary'}; ${SCALARS}`;
  if (rule.type && type !== rule.type)
    return `key attribute '${rule.name}' is ${TYPE_NAMES[type]} but the ${declaredBy} declares it as ${rule.type} (${TYPE_NAMES[rule.type]})`;
  if (type === 'N') {
    if (typeof v === 'number' ? isStorableNumber(v) : isStorableNumberText(String(v))) return undefined;
    const shown = typeof v === 'bigint' ? `${v}n` : String(v);
    return `key attribute '${rule.name}' is ${shown}, a number DynamoDB cannot store (${NUMBER_RULE})`;
  }
  if (!rule.role) return undefined;
  const max = rule.role === 'partition' ? MAX_PARTITION_KEY_BYTES : MAX_SORT_KEY_BYTES;
  // A UTF-16 code unit is at most 3 bytes in UTF-8: a short string needs no measuring.
  const bytes = typeof v === 'string' ? (v.length * 3 <= max ? 0 : utf8Bytes(v)) : (v as Uint8Array).byteLength;
  return bytes > max
    ? `key attribute '${rule.name}' is ${bytes} bytes; DynamoDB allows at most ${max} bytes in a ${rule.role} key`
    : undefined;
}

const notScalar = (rule: KeyRule, shown: string) => `key attribute '${rule.name}' is ${shown}; ${SCALARS}`;

/**
 * Why `value` cannot be the key attribute `rule` describes, or `undefined` when it can. The rules
 * are DynamoDB's: a key attribute is present; a string, a number (or bigint) or binary, of the
 * declared type; a string or binary is not empty; a number is one DynamoDB can store (range and
 * 38 significant digits); a partition key is at most 2,048 bytes and a sort key 1,024 (strings
 * measured in UTF-8). `declaredBy` names what declares the type, for the message.
 *
 * @example
 * ```ts
 * keyProblem({ name: 'userId', type: 'S' }, undefined); // "key attribute 'userId' is missing"
 * keyProblem({ name: 'userId', type: 'S' }, 7, 'view'); // "key attribute 'userId' is a number but the view declares it as S (a string)"
 * keyProblem({ name: 'page', role: 'partition' }, 'é'.repeat(1025)); // "... is 2050 bytes; DynamoDB allows at most 2048 bytes in a partition key"
 * ```
 */
export function keyProblem(rule: KeyRule, value: unknown, declaredBy = 'table'): string | undefined {
  if (value === undefined) return `key attribute '${rule.name}' is missing`;
  const type =
    typeof value === 'string'
      ? 'S'
      : typeof value === 'number' || typeof value === 'bigint' || value instanceof NumberValue
        ? 'N'
        : value instanceof Uint8Array
          ? 'B'
          : undefined;
  return type ? check(rule, type, value as KeyValue, declaredBy) : notScalar(rule, describeValue(value));
}

/**
 * {@link keyProblem} for a marshalled key attribute (an `AttributeValue`, as `marshall` from
 * `@aws-sdk/util-dynamodb` makes it): the same rules, on DynamoDB's wire form.
 *
 * @example
 * ```ts
 * wireKeyProblem({ name: 'id', role: 'partition' }, { S: '' }); // "key attribute 'id' is an empty string; ..."
 * wireKeyProblem({ name: 'id' }, { BOOL: true });             // "key attribute 'id' is of type BOOL; ..."
 * ```
 */
export function wireKeyProblem(rule: KeyRule, value: object | undefined, declaredBy = 'table'): string | undefined {
  if (value === undefined) return `key attribute '${rule.name}' is missing`;
  const w = value as WireScalars;
  if (typeof w.S === 'string') return check(rule, 'S', w.S, declaredBy);
  if (typeof w.N === 'string') return check(rule, 'N', w.N, declaredBy);
  if (w.B instanceof Uint8Array) return check(rule, 'B', w.B, declaredBy);
  const member = Object.keys(w).find((k) => (w as Record<string, unknown>)[k] !== undefined);
  return notScalar(rule, member ? `of type ${member}` : 'an empty attribute value');
}
