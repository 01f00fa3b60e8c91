import type { DynamoChange } from '../../core/records.js';
import type { GsiSpec, KeyAttr, KeyType, Provisioned } from '../../core/tables.js';
import type { View } from '../../core/view.js';

/** A key attribute of the view table, named among the attributes the key function returns. */
export interface ViewKeyAttr<K> {
  readonly name: keyof K & string;
  readonly type: KeyType;
}

/** Options every index view takes, whatever its projection. */
export interface IndexViewCommonOptions<T, K, BK extends readonly (keyof T & string)[]> {
  /** The view table (logical name). */
  readonly table: string;
  /** The view table's partition key: one of the attributes `key` returns. */
  readonly partitionKey: ViewKeyAttr<K>;
  /** The view table's sort key, if any: one of the attributes `key` returns. */
  readonly sortKey?: ViewKeyAttr<K>;
  /**
   * The view row's key attributes for a base item. The declared key attributes must come back
   * as scalars of their declared type; other attributes it returns (keys of the view's GSIs, say)
   * are written when defined and must be scalars too.
   */
  readonly key: (item: T) => K;
  /**
   * The base table and its key attributes, so that {@link fetchBase} can read the base items of
   * view rows. The base key attributes are copied into every row.
   */
  readonly base?: { readonly table: string; readonly key: BK };
  /** Capacity of the view table; on-demand when absent. */
  readonly provisioned?: Provisioned;
  readonly globalSecondaryIndexes?: readonly GsiSpec[];
  /** Sink name in logs. Default `index:<table>`. */
  readonly name?: string;
}

/** Options of an index view projecting a list of the base item's attributes (or none). */
export interface IndexViewOptions<
  T,
  K,
  A extends readonly (keyof T & string)[],
  BK extends readonly (keyof T & string)[],
> extends IndexViewCommonOptions<T, K, BK> {
  /** Base attributes copied into each row besides its key. Default none (a keys-only view). */
  readonly project?: A;
}

/** Options of an index view whose row attributes a function computes. */
export interface IndexViewProjectFnOptions<
  T,
  K,
  P,
  BK extends readonly (keyof T & string)[],
> extends IndexViewCommonOptions<T, K, BK> {
  /** The row's non-key attributes for a base item. */
  readonly project: (item: T) => P;
}

/** Flattens an intersection for readable hovers. */
export type Simplify<X> = { [P in keyof X]: X[P] } & {};

/**
 * An index (or projection) view: a table keyed differently from its source, kept equal to what
 * `key` and `project` make of each base item. `Row` is the type of its rows, inferred from the
 * definition; `T` the base item's.
 */
export interface IndexView<T, Row> extends View<DynamoChange<T>> {
  /** The view table (logical name). */
  readonly table: string;
  readonly partitionKey: KeyAttr;
  readonly sortKey?: KeyAttr;
  readonly base?: { readonly table: string; readonly key: readonly string[] };
  /**
   * The row this view holds for a base item. Throws `view.invalidKey` (with the reason) when the
   * item has no valid key for this view.
   */
  rowOf(item: T): Row;
  /** Counts of what this view has done since it was created. */
  readonly stats: IndexViewStats;
}

/** Counts of an index view's work; `unchanged` modifies cost no write at all. */
export interface IndexViewStats {
  /** Rows put (durably written). */
  readonly puts: number;
  /** Rows deleted (durably). */
  readonly deletes: number;
  /** Modifies that left the row's key and attributes as they were, so nothing was written. */
  readonly unchanged: number;
}
