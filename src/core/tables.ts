import type { StreamViewType } from './images.js';

/** Attribute types of DynamoDB keys. */
export type KeyType = 'S' | 'N' | 'B';

export interface KeyAttr {
  readonly name: string;
  readonly type: KeyType;
}

/** Capacity of a provisioned table or index. */
export interface Provisioned {
  readonly read: number;
  readonly write: number;
}

export interface GsiSpec {
  readonly name: string;
  readonly partitionKey: KeyAttr;
  readonly sortKey?: KeyAttr;
  /** `ALL` (default), `KEYS_ONLY`, or the non-key attributes to include. */
  readonly projection?: 'ALL' | 'KEYS_ONLY' | readonly string[];
  /** Required when the table is provisioned. */
  readonly provisioned?: Provisioned;
}

/**
 * A table a tributary app needs: keys, indexes, capacity, stream. Views declare theirs; an app
 * may declare its source tables too. `tributary tables` and `tributary dev` create them.
 *
 * @example
 * ```ts
 * const spec: TableSpec = { name: 'user_albums', partitionKey: { name: 'userId', type: 'S' }, sortKey: { name: 'albumId', type: 'S' } };
 * ```
 */
export interface TableSpec {
  /** Logical name; the physical one gets the environment prefix. */
  readonly name: string;
  readonly partitionKey: KeyAttr;
  readonly sortKey?: KeyAttr;
  readonly globalSecondaryIndexes?: readonly GsiSpec[];
  /** Stream view type, when the table is a source. */
  readonly stream?: StreamViewType;
  /** Provisioned capacity; on-demand (PAY_PER_REQUEST) when absent. */
  readonly provisioned?: Provisioned;
  /** Attribute holding an expiry time in epoch seconds (DynamoDB TTL). */
  readonly ttlAttribute?: string;
}
