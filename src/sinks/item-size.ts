import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import type { WireAttributeValue } from '../core/dynamodb-json.js';

/** DynamoDB's limit on one item, names and values included. */
export const MAX_ITEM_BYTES = 400 * 1024;

/** A binary as the SDK holds it (bytes) or as DynamoDB's JSON wire form carries it (base64). */
type Binary = Uint8Array | string;

const utf8 = (s: string) => Buffer.byteLength(s, 'utf8');
/** Bytes of a binary; a base64 string is measured without decoding it. */
const binarySize = (b: Binary) =>
  typeof b === 'string'
    ? Math.floor((b.length * 3) / 4) - (b.endsWith('==') ? 2 : b.endsWith('=') ? 1 : 0)
    : b.byteLength;

/**
 * Size of an item as DynamoDB counts it: attribute names plus values; strings in UTF-8, binaries
 * as bytes, numbers one byte per two significant digits (leading and trailing zeros trimmed) plus
 * one, lists and maps three bytes plus one per element. Takes marshalled items (SDK form) and
 * DynamoDB's JSON wire form (binaries in base64) alike; matches the units DynamoDB Local reports
 * at the 1 KB boundaries (test/unit/throttle-proxy.test.ts).
 *
 * @example
 * ```ts
 * itemSize(marshall({ pk: 'a', n: 123 }));       // 2 + 1 + 1 + 3 = 7
 * itemSize({ b: { B: 'AAEC' } });                // 1 + 3 (three bytes, in base64)
 * ```
 */
export function itemSize(
  item: Readonly<Record<string, AttributeValue>> | Readonly<Record<string, WireAttributeValue>>,
): number {
  let n = 0;
  for (const [k, v] of Object.entries(item as Readonly<Record<string, WireAttributeValue>>))
    n += utf8(k) + valueSize(v);
  return n;
}

function valueSize(v: WireAttributeValue): number {
  if (v.S !== undefined) return utf8(v.S);
  if (v.N !== undefined) return numberSize(v.N);
  if (v.B !== undefined) return binarySize(v.B);
  if (v.BOOL !== undefined || v.NULL !== undefined) return 1;
  if (v.SS) return v.SS.reduce((a, s) => a + utf8(s), 0);
  if (v.NS) return v.NS.reduce((a, s) => a + numberSize(s), 0);
  if (v.BS) return v.BS.reduce((a, b) => a + binarySize(b), 0);
  if (v.L) return 3 + v.L.reduce((a, e) => a + 1 + valueSize(e), 0);
  if (v.M) return 3 + Object.entries(v.M).reduce((a, [k, e]) => a + 1 + utf8(k) + valueSize(e), 0);
  return 0;
}

function numberSize(n: string): number {
  const digits = n
    .replace(/^[-+]/, '')
    .replace(/e.*$/i, '')
    .replace('.', '')
    .replace(/^0+/, '')
    .replace(/0+$/, '').length;
  return Math.ceil(Math.max(digits, 1) / 2) + 1;
}
