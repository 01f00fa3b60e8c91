import type { AttributeValue } from '@aws-sdk/client-dynamodb';

/** DynamoDB's limit on one item, names and values included. */
export const MAX_ITEM_BYTES = 400 * 1024;

const utf8 = (s: string) => Buffer.byteLength(s, 'utf8');

/**
 * Size of a marshalled item as DynamoDB counts it: attribute names plus values (strings in UTF-8,
 * numbers about one byte per two digits plus one, containers three bytes plus one per element).
 */
export function itemSize(item: Record<string, AttributeValue>): number {
  let n = 0;
  for (const [k, v] of Object.entries(item)) n += utf8(k) + valueSize(v);
  return n;
}

function valueSize(v: AttributeValue): number {
  if (v.S !== undefined) return utf8(v.S);
  if (v.N !== undefined) return numberSize(v.N);
  if (v.B !== undefined) return v.B.byteLength;
  if (v.BOOL !== undefined || v.NULL !== undefined) return 1;
  if (v.SS) return v.SS.reduce((a, s) => a + utf8(s), 0);
  if (v.NS) return v.NS.reduce((a, s) => a + numberSize(s), 0);
  if (v.BS) return v.BS.reduce((a, b) => a + b.byteLength, 0);
  if (v.L) return 3 + v.L.reduce((a, e) => a + 1 + valueSize(e), 0);
  if (v.M) return 3 + Object.entries(v.M).reduce((a, [k, e]) => a + 1 + utf8(k) + valueSize(e), 0);
  return 0;
}

function numberSize(n: string): number {
  const digits = n.replace(/^-/, '').replace(/e.*$/i, '').replace('.', '').replace(/^0+/, '').length;
  return Math.ceil(digits / 2) + 1;
}
