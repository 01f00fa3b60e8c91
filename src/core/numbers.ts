import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { NumberValueImpl as NumberValue, unmarshall } from '@aws-sdk/util-dynamodb';

// DynamoDB numbers hold 38 significant digits and magnitudes up to 1e126: many do not fit a JS
// number. util-dynamodb's default throws on some ("can't be converted to BigInt") and rounds
// decimals silently; a throw in a stream reader blocks its shard. Images are unmarshalled here
// instead, by one rule, so that every number reaches pipelines without loss.

export { NumberValue };

/**
 * A number of an unmarshalled image, exactly as DynamoDB stored it: a plain `number` when it holds
 * the stored value exactly, a `bigint` for a longer integer (as util-dynamodb has always given
 * them), else util-dynamodb's `NumberValue` holding the stored decimal text. `marshall` writes each
 * back digit for digit.
 *
 * @example
 * ```ts
 * const n: DynamoNumber = change.newImage!.price;
 * const text = typeof n === 'number' ? String(n) : n.toString(); // '3.1415926535897932384626433832795028841'
 * ```
 */
export type DynamoNumber = number | bigint | NumberValue;

const INTEGER = /^-?\d+$/;
const DECIMAL = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/;

/** The decimal value of `text` as sign, significant digits and exponent; undefined when it is no decimal. */
function canonical(text: string): string | undefined {
  const m = DECIMAL.exec(text);
  if (!m) return undefined;
  const int = m[2] ?? '';
  const digits = int + (m[3] ?? '');
  const first = digits.search(/[1-9]/);
  if (first < 0) return '0';
  let last = digits.length - 1;
  while (digits[last] === '0') last--;
  const exponent = int.length - 1 - first + Number(m[4] ?? 0);
  return `${m[1] === '-' ? '-' : ''}${digits.slice(first, last + 1)}e${exponent}`;
}

/**
 * The value of a DynamoDB number as {@link DynamoNumber}: a plain number iff it is within
 * ±`Number.MAX_SAFE_INTEGER` and `String(Number(text))` denotes the same decimal value as `text`
 * (so writing it back stores the same number); else a bigint when `text` is written as an
 * integer; else a `NumberValue` of `text`.
 *
 * @example
 * ```ts
 * exactNumber('12.5');                   // 12.5
 * exactNumber('9007199254740993');       // 9007199254740993n
 * exactNumber('12345678901234567890.5'); // NumberValue { value: '12345678901234567890.5' }
 * exactNumber('9.99E+125');              // NumberValue { value: '9.99E+125' }
 * ```
 */
export function exactNumber(text: string): DynamoNumber {
  const n = Number(text);
  const safe = Math.abs(n) <= Number.MAX_SAFE_INTEGER;
  // The cheap check first: most numbers arrive in the form `String` gives them.
  if (safe && String(n) === text) return n;
  if (safe && canonical(String(n)) === canonical(text)) return n;
  return INTEGER.test(text) ? BigInt(text) : NumberValue.from(text);
}

// Set while one image is unmarshalled (synchronously), so that only images holding a NumberValue
// pay for the walk that makes their number sets uniform.
let wrapped = false;
const OPTIONS = {
  wrapNumbers: (text: string): DynamoNumber => {
    const v = exactNumber(text);
    if (typeof v !== 'number') wrapped = true;
    return v;
  },
};

/**
 * Unmarshalls an item, key or image with every number as {@link exactNumber} gives it. A number
 * set holds plain numbers only when all its members fit, else `NumberValue`s only (`marshall`
 * types a set by its first member: a plain number first fails on a wider member).
 *
 * @example
 * ```ts
 * unmarshallImage({ id: { S: 'a' }, n: { N: '0.5' }, s: { NS: ['1', '1e100'] } });
 * // { id: 'a', n: 0.5, s: Set { NumberValue('1'), NumberValue('1e100') } }
 * ```
 */
export function unmarshallImage(image: Record<string, AttributeValue>): Record<string, unknown> {
  wrapped = false;
  const out = unmarshall(image, OPTIONS);
  if (wrapped) uniformSets(out);
  return out;
}

function uniformSets(v: unknown): unknown {
  if (v instanceof Set) {
    let plain = false;
    let wide = false;
    for (const x of v as Set<unknown>) {
      if (typeof x === 'number') plain = true;
      else if (typeof x === 'bigint' || x instanceof NumberValue) wide = true;
    }
    return plain && wide
      ? new Set([...(v as Set<unknown>)].map((x) => (x instanceof NumberValue ? x : NumberValue.from(String(x)))))
      : v;
  }
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) v[i] = uniformSets(v[i]);
  } else if (typeof v === 'object' && v !== null && !(v instanceof Uint8Array) && !(v instanceof NumberValue)) {
    const o = v as Record<string, unknown>;
    for (const k of Object.keys(o)) o[k] = uniformSets(o[k]);
  }
  return v;
}
