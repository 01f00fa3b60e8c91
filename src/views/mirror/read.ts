import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { unmarshallImage } from '../../core/numbers.js';
import { readIo, type ReadTarget } from '../index-view/read-target.js';
import type { MirrorView } from './view.js';
import { MIRROR_DELETED_ATTRIBUTE, MIRROR_HIDDEN_ATTRIBUTES } from './version.js';

/**
 * A mirror item as the source held it: `undefined` for a tombstone (a deleted item), otherwise
 * the item without tributary's hidden attributes. Accepts marshalled or unmarshalled items.
 *
 * @example
 * ```ts
 * const users = (await scanAll(ddb, 'users_mirror')).map((i) => visibleMirrorItem<User>(i)).filter((u) => u !== undefined);
 * ```
 */
export function visibleMirrorItem<T = Record<string, unknown>>(item: Record<string, unknown>): T | undefined {
  const deleted = item[MIRROR_DELETED_ATTRIBUTE];
  if (
    deleted === true ||
    (typeof deleted === 'object' && deleted !== null && (deleted as AttributeValue).BOOL === true)
  )
    return undefined;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(item)) if (!MIRROR_HIDDEN_ATTRIBUTES.includes(k)) out[k] = v;
  return out as T;
}

export interface MirrorReadOptions {
  /** Which mirror table to read. Default the first. */
  readonly table?: string;
  /** Maps the logical table name to the physical one when reading through clients. */
  readonly tableName?: (logical: string) => string;
  readonly consistent?: boolean;
}

/**
 * Reads one item of a mirror by key: `undefined` when absent or deleted (a tombstone).
 *
 * @example
 * ```ts
 * const user = await getMirrored(usersMirror, clients, { userId: 'u1' });
 * ```
 */
export async function getMirrored<T>(
  view: MirrorView<T>,
  from: ReadTarget,
  key: Partial<T> & Record<string, unknown>,
  options: MirrorReadOptions = {},
): Promise<T | undefined> {
  const io = readIo(from, options.table ?? view.mirrorTables[0]!, options.tableName);
  const [raw] = await io.batchGet(
    [marshall(key, { removeUndefinedValues: true }) as Record<string, AttributeValue>],
    undefined,
    options.consistent ?? false,
  );
  return raw ? visibleMirrorItem<T>(unmarshallImage(raw)) : undefined;
}

/** One page of a mirror query. */
export interface MirrorPage<T> {
  /** Live items of the page; tombstones are filtered out (so a page may hold fewer than `limit`). */
  readonly items: T[];
  /** Pass as `exclusiveStartKey` for the next page; absent on the last. */
  readonly lastEvaluatedKey?: Record<string, unknown>;
}

/**
 * Queries one partition of a mirror, hiding tombstones and hidden attributes.
 *
 * @example
 * ```ts
 * const page = await queryMirror(ordersMirror, clients, { partition: 'c1', limit: 50 });
 * ```
 */
export async function queryMirror<T>(
  view: MirrorView<T>,
  from: ReadTarget,
  query: MirrorReadOptions & {
    readonly partition: string | number | Uint8Array;
    readonly limit?: number;
    readonly exclusiveStartKey?: Record<string, unknown>;
  },
): Promise<MirrorPage<T>> {
  const io = readIo(from, query.table ?? view.mirrorTables[0]!, query.tableName);
  const out = await io.query({
    KeyConditionExpression: '#pk = :pk',
    FilterExpression: 'attribute_not_exists(#d)',
    ExpressionAttributeNames: { '#pk': view.partitionKey.name, '#d': MIRROR_DELETED_ATTRIBUTE },
    ExpressionAttributeValues: marshall({ ':pk': query.partition }),
    Limit: query.limit,
    ExclusiveStartKey: query.exclusiveStartKey
      ? (marshall(query.exclusiveStartKey) as Record<string, AttributeValue>)
      : undefined,
    ConsistentRead: query.consistent,
  });
  const items = (out.Items ?? [])
    .map((i) => visibleMirrorItem<T>(unmarshallImage(i)))
    .filter((i): i is T => i !== undefined);
  return { items, ...(out.LastEvaluatedKey ? { lastEvaluatedKey: unmarshallImage(out.LastEvaluatedKey) } : {}) };
}
