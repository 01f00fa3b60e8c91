import type { AttributeValue, Item } from './wire.js';

const utf8 = (s: string) => Buffer.byteLength(s, 'utf8');
/** Bytes of a base64 string once decoded, without decoding it. */
const b64 = (s: string) => Math.floor((s.length * 3) / 4) - (s.endsWith('==') ? 2 : s.endsWith('=') ? 1 : 0);

/**
 * Size of an item in DynamoDB's JSON wire form, counted as DynamoDB counts it: attribute names
 * plus values; strings in UTF-8, binaries decoded, numbers one byte per two significant digits
 * plus one, lists and maps three bytes plus one per element. Matches the units DynamoDB Local
 * reports at the 1 KB boundaries (checked for strings, numbers, binaries and maps).
 *
 * @example
 * ```ts
 * wireItemSize({ pk: { S: 'a' }, n: { N: '123' } }); // 2 + 1 + 1 + 3 = 7
 * ```
 */
export function wireItemSize(item: Item): number {
  let n = 0;
  for (const [k, v] of Object.entries(item)) n += utf8(k) + valueSize(v);
  return n;
}

function valueSize(v: AttributeValue): number {
  if (v.S !== undefined) return utf8(v.S);
  if (v.N !== undefined) return numberSize(v.N);
  if (v.B !== undefined) return b64(v.B);
  if (v.BOOL !== undefined || v.NULL !== undefined) return 1;
  if (v.SS) return v.SS.reduce((a, s) => a + utf8(s), 0);
  if (v.NS) return v.NS.reduce((a, s) => a + numberSize(s), 0);
  if (v.BS) return v.BS.reduce((a, s) => a + b64(s), 0);
  if (v.L) return 3 + v.L.reduce((a, e) => a + 1 + valueSize(e), 0);
  if (v.M) return 3 + Object.entries(v.M).reduce((a, [k, e]) => a + 1 + utf8(k) + valueSize(e), 0);
  return 0;
}

function numberSize(n: string): number {
  const digits = n.replace(/^[-+]/, '').replace(/e.*$/i, '').replace('.', '').replace(/^0+/, '').replace(/0+$/, '').length;
  return Math.ceil(Math.max(digits, 1) / 2) + 1;
}

/**
 * Write capacity units for an item of `bytes`: one per started kilobyte, at least one.
 *
 * @example
 * ```ts
 * writeUnits(1024); // 1
 * writeUnits(1025); // 2
 * ```
 */
export function writeUnits(bytes: number): number {
  return Math.max(1, Math.ceil(bytes / 1024));
}

/**
 * Read capacity units for `bytes` read: one per started 4 KB strongly consistent, half that
 * eventually consistent, at least one (or a half).
 *
 * @example
 * ```ts
 * readUnits(5000, true);  // 2
 * readUnits(5000, false); // 1
 * ```
 */
export function readUnits(bytes: number, consistent: boolean): number {
  const units = Math.max(1, Math.ceil(bytes / 4096));
  return consistent ? units : units / 2;
}
