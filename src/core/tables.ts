/** Attribute types of DynamoDB keys. */
export type KeyType = 'S' | 'N' | 'B';

/** A table a tributary app needs: its keys, and whether it has a stream. */
export interface TableSpec {
  readonly name: string;
  readonly partitionKey: { readonly name: string; readonly type: KeyType };
  readonly sortKey?: { readonly name: string; readonly type: KeyType };
  /** Stream view type, when the table is a source. */
  readonly stream?: 'NEW_AND_OLD_IMAGES' | 'NEW_IMAGE' | 'OLD_IMAGE' | 'KEYS_ONLY';
  /** Provisioned capacity; on-demand when absent. */
  readonly provisioned?: { readonly read: number; readonly write: number };
}
