import type { AttributeValue } from '@aws-sdk/client-dynamodb';

/** Canonical string of a key, to coalesce writes of the same item within a flush. */
export function keyString(key: Record<string, AttributeValue>, keyNames: readonly string[]): string {
  return keyNames.map((k) => JSON.stringify(key[k] ?? null)).join('|');
}
