import type { AttributeValue } from '@aws-sdk/client-dynamodb';

/**
 * One string for a marshalled item, the same for items DynamoDB holds as equal: map keys and set
 * members in any order, numbers as DynamoDB compares them ('1.50' is '1.5'). (Type-only imports:
 * `core` loads no AWS client.)
 *
 * @example
 * ```ts
 * canonicalItem({ a: { N: '1.50' }, s: { SS: ['y', 'x'] } }) === canonicalItem({ s: { SS: ['x', 'y'] }, a: { N: '1.5' } }); // true
 * ```
 */
export function canonicalItem(item: Readonly<Record<string, AttributeValue>>): string {
  return canonical({ M: item as Record<string, AttributeValue> });
}

/**
 * True when two marshalled items hold the same attributes and values (map keys and set members
 * in any order).
 *
 * @example
 * ```ts
 * sameItem(marshall({ a: 1, tags: new Set(['x', 'y']) }), marshall({ tags: new Set(['y', 'x']), a: 1 })); // true
 * ```
 */
export function sameItem(a: Record<string, AttributeValue>, b: Record<string, AttributeValue>): boolean {
  return canonicalItem(a) === canonicalItem(b);
}

function canonical(v: AttributeValue): string {
  if (v.S !== undefined) return `S${JSON.stringify(v.S)}`;
  if (v.N !== undefined) return `N${canonicalNumber(v.N)}`;
  if (v.B !== undefined) return `B${Buffer.from(v.B).toString('base64')}`;
  if (v.BOOL !== undefined) return `BOOL${v.BOOL}`;
  if (v.NULL !== undefined) return 'NULL';
  if (v.SS) return `SS${JSON.stringify([...v.SS].sort())}`;
  if (v.NS) return `NS${JSON.stringify(v.NS.map(canonicalNumber).sort())}`;
  if (v.BS) return `BS${JSON.stringify(v.BS.map((b) => Buffer.from(b).toString('base64')).sort())}`;
  if (v.L) return `L[${v.L.map(canonical).join(',')}]`;
  if (v.M) {
    return `M{${Object.keys(v.M)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical(v.M![k]!)}`)
      .join(',')}}`;
  }
  return '?';
}

/** Numbers as DynamoDB compares them: '1.50' equals '1.5'. */
function canonicalNumber(n: string): string {
  const x = Number(n);
  return Number.isSafeInteger(x) || (Number.isFinite(x) && String(x) === n.replace(/\.?0+$/, '')) ? String(x) : n;
}
