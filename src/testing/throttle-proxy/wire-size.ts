import type { Item } from './wire.js';
import { itemSize } from '../../sinks/item-size.js';

/**
 * Size of an item in DynamoDB's JSON wire form (binaries in base64), as DynamoDB counts it: the
 * sinks' own `itemSize`, which takes both forms.
 *
 * @example
 * ```ts
 * wireItemSize({ pk: { S: 'a' }, n: { N: '123' } }); // 2 + 1 + 1 + 3 = 7
 * ```
 */
export const wireItemSize = (item: Item): number => itemSize(item);

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
