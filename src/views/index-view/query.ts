import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { withoutMarks } from '../../core/applied-marks.js';
import { unmarshallImage } from '../../core/numbers.js';
import { TributaryError } from '../../core/errors.js';
import type { KeyValue } from '../../core/key-rules.js';
import type { TableIO } from '../../core/table-io.js';
import { keyString } from '../../sinks/key-string.js';
import type { IndexView } from './options.js';
import { isTableIO, readIo, type ReadTarget } from './read-target.js';

/** A condition on the view's sort key. */
export type SortCondition =
  | { readonly eq: KeyValue }
  | { readonly lt: KeyValue }
  | { readonly le: KeyValue }
  | { readonly gt: KeyValue }
  | { readonly ge: KeyValue }
  | { readonly between: readonly [KeyValue, KeyValue] }
  | { readonly beginsWith: string };

export interface QueryViewOptions {
  /** Value of the view's partition key. */
  readonly partition: KeyValue;
  /** Narrows the page by the sort key. */
  readonly sort?: SortCondition;
  /** Rows per page (DynamoDB's `Limit`). */
  readonly limit?: number;
  /** `lastEvaluatedKey` of the previous page. */
  readonly exclusiveStartKey?: Record<string, unknown>;
  /** Descending sort key order when false. Default true. */
  readonly scanForward?: boolean;
  readonly consistent?: boolean;
  /** Maps logical table names to physical ones when reading through clients (environment prefix). */
  readonly tableName?: (logical: string) => string;
  /**
   * Also fetch the base item of each row (BatchGetItem): `true` when reading through clients, or
   * the base table's TableIO.
   */
  readonly base?: true | TableIO;
}

/** One page of an index view. */
export interface ViewPage<Row> {
  readonly items: Row[];
  /** Pass as `exclusiveStartKey` for the next page; absent on the last page. */
  readonly lastEvaluatedKey?: Record<string, unknown>;
}

/** A page of an index view with the base item of each row, in the same order (`undefined` where the base item is gone). */
export interface ViewPageWithBase<T, Row> extends ViewPage<Row> {
  readonly base: (T | undefined)[];
}

const SORT_OPS = { eq: '=', lt: '<', le: '<=', gt: '>', ge: '>=' } as const;

function sortExpression(s: SortCondition): { expr: string; values: Record<string, unknown> } {
  if ('between' in s) return { expr: '#sk BETWEEN :s1 AND :s2', values: { ':s1': s.between[0], ':s2': s.between[1] } };
  if ('beginsWith' in s) return { expr: 'begins_with(#sk, :s1)', values: { ':s1': s.beginsWith } };
  const [op, v] = Object.entries(s)[0] as [keyof typeof SORT_OPS, KeyValue];
  return { expr: `#sk ${SORT_OPS[op]} :s1`, values: { ':s1': v } };
}

/**
 * Reads one page of an index view's partition, typed by the view's row; with `base`, also the
 * base items of the page (see {@link fetchBase}), in the page's order.
 *
 * @example
 * ```ts
 * const page = await queryView(userAlbums, clients, { partition: 'u1', limit: 20, base: true });
 * page.items[0].albumId; page.base[0]?.title;
 * const next = await queryView(userAlbums, clients, { partition: 'u1', limit: 20, exclusiveStartKey: page.lastEvaluatedKey });
 * ```
 */
export async function queryView<T, Row>(
  view: IndexView<T, Row>,
  from: ReadTarget,
  query: QueryViewOptions & { readonly base: true | TableIO },
): Promise<ViewPageWithBase<T, Row>>;
export async function queryView<T, Row>(
  view: IndexView<T, Row>,
  from: ReadTarget,
  query: QueryViewOptions,
): Promise<ViewPage<Row>>;
export async function queryView<T, Row>(
  view: IndexView<T, Row>,
  from: ReadTarget,
  query: QueryViewOptions,
): Promise<ViewPage<Row> | ViewPageWithBase<T, Row>> {
  const io = readIo(from, view.table, query.tableName);
  const names: Record<string, string> = { '#pk': view.partitionKey.name };
  const values: Record<string, unknown> = { ':pk': query.partition };
  let condition = '#pk = :pk';
  if (query.sort) {
    if (!view.sortKey) throw new TributaryError('config.invalid', `view '${view.name}' has no sort key to query by`);
    const s = sortExpression(query.sort);
    names['#sk'] = view.sortKey.name;
    Object.assign(values, s.values);
    condition += ` AND ${s.expr}`;
  }
  const out = await io.query({
    KeyConditionExpression: condition,
    ExpressionAttributeNames: names,
    ExpressionAttributeValues: marshall(values) as Record<string, AttributeValue>,
    Limit: query.limit,
    ExclusiveStartKey: query.exclusiveStartKey
      ? (marshall(query.exclusiveStartKey) as Record<string, AttributeValue>)
      : undefined,
    ScanIndexForward: query.scanForward ?? true,
    ConsistentRead: query.consistent,
  });
  // Rows an exactly-once pipeline wrote carry applied marks: what the view holds is the row without them.
  const items = (out.Items ?? []).map((i) => unmarshallImage(withoutMarks(i)) as Row);
  const page: ViewPage<Row> = {
    items,
    ...(out.LastEvaluatedKey ? { lastEvaluatedKey: unmarshallImage(out.LastEvaluatedKey) } : {}),
  };
  if (query.base === undefined) return page;
  const baseFrom = query.base === true ? from : query.base;
  if (query.base === true && isTableIO(from)) {
    throw new TributaryError(
      'config.invalid',
      `queryView('${view.name}'): reading through a TableIO, pass the base table's TableIO as \`base\``,
    );
  }
  return {
    ...page,
    base: await fetchBase(view, baseFrom, items, { tableName: query.tableName, consistent: query.consistent }),
  };
}

/**
 * Reads the base items of view rows with BatchGetItem (100 keys a call, unprocessed keys retried
 * by the TableIO), in the order of `rows`: `undefined` where a base item no longer exists (the
 * view catches up asynchronously). The view must declare `base`.
 *
 * @example
 * ```ts
 * const page = await queryView(userAlbums, clients, { partition: 'u1' });
 * const memberships = await fetchBase(userAlbums, clients, page.items);
 * ```
 */
export async function fetchBase<T, Row>(
  view: IndexView<T, Row>,
  from: ReadTarget,
  rows: readonly Row[],
  options: { readonly tableName?: (logical: string) => string; readonly consistent?: boolean } = {},
): Promise<(T | undefined)[]> {
  const base = view.base;
  if (!base)
    throw new TributaryError(
      'config.invalid',
      `view '${view.name}' declares no base table; give \`base: { table, key }\` in its options`,
    );
  if (rows.length === 0) return [];
  const io = readIo(from, base.table, options.tableName);
  const keyOf = (r: Row): Record<string, AttributeValue> => {
    const k: Record<string, unknown> = {};
    for (const a of base.key) k[a] = (r as Record<string, unknown>)[a];
    return marshall(k, { removeUndefinedValues: true }) as Record<string, AttributeValue>;
  };
  const keys = new Map<string, Record<string, AttributeValue>>();
  for (const r of rows) {
    const k = keyOf(r);
    keys.set(keyString(k, base.key), k);
  }
  const found = await io.batchGet([...keys.values()], undefined, options.consistent ?? false);
  const byKey = new Map(found.map((i) => [keyString(i, base.key), unmarshallImage(i) as T]));
  return rows.map((r) => byKey.get(keyString(keyOf(r), base.key)));
}
