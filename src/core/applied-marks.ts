import { createHash } from 'node:crypto';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';

/**
 * Applied marks: how an exactly-once pipeline knows, item by item, which records of a shard an
 * item already holds (see docs/exactly-once.md). Every item an exactly-once pipeline writes with
 * marks carries one hidden attribute per shard that wrote it, `_tributary_at_<id>`, holding the
 * position through which that shard's records are applied to the item. A write is conditioned on
 * the mark being older than the first record it carries, so a replayed or retried record is never
 * applied twice. (Type-only imports: `core` loads no AWS client.)
 */
export const APPLIED_MARK_PREFIX = '_tributary_at_';

/** Digits of a sequence number in a mark: DynamoDB and Kinesis sequence numbers are decimal, at most 128 bits (39 digits). */
const SEQUENCE_DIGITS = 40;
/** Digits of a sub-sequence number (a KPL user record's index inside its aggregate). */
const SUB_DIGITS = 10;

/**
 * The hidden attribute of one pipeline's marks for one shard: a short hash of the three names,
 * so that the attribute stays small (about 60 bytes with its value) whatever the names' length.
 *
 * @example
 * ```ts
 * markAttribute('page-views', 'clicks', 'shardId-000000000001'); // '_tributary_at_k3Jx0aQ2bZ'
 * ```
 */
export function markAttribute(pipeline: string, source: string, shardId: string): string {
  const h = createHash('sha256').update(`${pipeline}\u0000${source}\u0000${shardId}`).digest('base64url');
  return `${APPLIED_MARK_PREFIX}${h.slice(0, 10)}`;
}

/**
 * A position as a mark: fixed-width digits, so that marks order as strings (DynamoDB's `<` on
 * strings compares them byte by byte, as this module does).
 *
 * @example
 * ```ts
 * encodeMark({ sequenceNumber: '49590338271490256608559692538361571095921575989136588898' }) < encodeMark({ sequenceNumber: '49590338271490256608559692538361571095921575989136588899' }); // true
 * ```
 */
export function encodeMark(p: { readonly sequenceNumber: string; readonly subSequenceNumber?: number }): string {
  const seq = p.sequenceNumber.replace(/^0+(?=\d)/, '').padStart(SEQUENCE_DIGITS, '0');
  return `${seq}.${String(p.subSequenceNumber ?? 0).padStart(SUB_DIGITS, '0')}`;
}

/** True for the hidden attributes of applied marks. */
export const isMarkAttribute = (name: string): boolean => name.startsWith(APPLIED_MARK_PREFIX);

/**
 * An item without its applied marks: what a reader of a view should see.
 *
 * @example
 * ```ts
 * withoutMarks({ page: { S: 'home' }, views: { N: '3' }, _tributary_at_k3Jx0aQ2bZ: { S: '...' } }); // { page, views }
 * ```
 */
export function withoutMarks<T extends Record<string, unknown> | Record<string, AttributeValue>>(item: T): T {
  let has = false;
  for (const k in item)
    if (isMarkAttribute(k)) {
      has = true;
      break;
    }
  if (!has) return item;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(item)) if (!isMarkAttribute(k)) out[k] = v;
  return out as T;
}
