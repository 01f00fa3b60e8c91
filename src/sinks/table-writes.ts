/** A put of a whole item, as an output of a pipeline bound for a table writer. */
export interface PutWrite<T = Record<string, unknown>> {
  readonly type: 'put';
  readonly item: T;
}
/** A delete by key, as an output of a pipeline bound for a table writer. */
export interface DeleteWrite<K = Record<string, unknown>> {
  readonly type: 'delete';
  readonly key: K;
}
export type TableWrite<T = Record<string, unknown>> = PutWrite<T> | DeleteWrite<Partial<T>>;

/**
 * Builds a put for {@link tableWriter}.
 *
 * @example
 * ```ts
 * map(c => put({ userId: c.newImage!.userId, albumId: c.newImage!.albumId }))
 * ```
 */
export const put = <T extends Record<string, unknown>>(item: T): PutWrite<T> => ({ type: 'put', item });

/**
 * Builds a delete for {@link tableWriter}.
 *
 * @example
 * ```ts
 * map(c => del({ userId: c.oldImage!.userId, albumId: c.oldImage!.albumId }))
 * ```
 */
export const del = <K extends Record<string, unknown>>(key: K): DeleteWrite<K> => ({ type: 'delete', key });
