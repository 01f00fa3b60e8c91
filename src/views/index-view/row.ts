import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { TributaryError } from '../../core/errors.js';
import type { DynamoChange } from '../../core/records.js';
import { describeValue, keyProblem, keyRules } from '../../core/key-rules.js';
import type { KeyAttr } from '../../core/tables.js';
import { itemSize, MAX_ITEM_BYTES } from '../../sinks/item-size.js';
import { keyString } from '../../sinks/key-string.js';
import { sameItem } from '../../core/item-canonical.js';

/** An index view's definition, compiled: what planning needs. */
export interface IndexDef<T> {
  readonly name: string;
  readonly partitionKey: KeyAttr;
  readonly sortKey?: KeyAttr;
  readonly key: (item: T) => unknown;
  /** The row's non-key attributes for an item. */
  readonly project: (item: T) => unknown;
  /** Base key attributes copied into every row. */
  readonly baseKey: readonly string[];
}

/** A row built for an item, marshalled. */
export interface BuiltRow {
  readonly key: Record<string, AttributeValue>;
  readonly keyString: string;
  readonly item: Record<string, AttributeValue>;
}

/** A write an index view sends for a change. */
export type IndexWrite =
  | { readonly type: 'put'; readonly keyString: string; readonly item: Record<string, AttributeValue> }
  | { readonly type: 'delete'; readonly keyString: string; readonly key: Record<string, AttributeValue> };

const MARSHALL = { removeUndefinedValues: true, convertClassInstanceToMap: true } as const;
function userCode<R>(def: IndexDef<unknown>, what: string, fn: () => R): R {
  try {
    return fn();
  } catch (e) {
    throw new TributaryError(
      'pipeline.userCode',
      `index view '${def.name}': the ${what} function threw: ${(e as Error)?.message ?? String(e)}`,
      { cause: e, details: { view: def.name } },
    );
  }
}

/**
 * Builds the row of a base item: key attributes from `key`, then base key attributes, then the
 * projection (the key wins a clash). Throws `view.invalidKey` when the item has no valid key,
 * `sink.itemTooLarge` when the row exceeds 400 KB, `sink.invalidItem` when it cannot be marshalled,
 * and `pipeline.userCode` when the user's key or project function throws.
 *
 * @example
 * ```ts
 * buildRow(def, { albumId: 'a1', userId: 'u1', title: 'Trip' }).keyString; // '{"S":"u1"}|{"S":"a1"}'
 * ```
 */
export function buildRow<T>(def: IndexDef<T>, item: T): BuiltRow {
  const k = userCode(def as IndexDef<unknown>, 'key', () => def.key(item));
  if (typeof k !== 'object' || k === null || Array.isArray(k))
    throw invalidKey(
      def,
      undefined,
      `the key function returned ${describeValue(k)} instead of an object of key attributes`,
    );
  const keyAttrs = k as Record<string, unknown>;
  const declared = keyRules(def.partitionKey, def.sortKey);
  for (const rule of declared) {
    const problem = keyProblem(rule, keyAttrs[rule.name], 'view');
    if (problem) throw invalidKey(def, rule.name, problem);
  }
  const row: Record<string, unknown> = {};
  const projected = userCode(def as IndexDef<unknown>, 'project', () => def.project(item));
  if (projected !== undefined && (typeof projected !== 'object' || projected === null || Array.isArray(projected))) {
    throw new TributaryError(
      'pipeline.userCode',
      `index view '${def.name}': the project function returned ${describeValue(projected)} instead of an object`,
      { details: { view: def.name } },
    );
  }
  Object.assign(row, projected);
  for (const b of def.baseKey) row[b] = (item as Record<string, unknown>)[b];
  for (const [name, v] of Object.entries(keyAttrs)) {
    if (v === undefined) continue;
    // Other attributes (keys of the view's GSIs, say): key rules without a declared type or role.
    const problem = declared.some((r) => r.name === name) ? undefined : keyProblem({ name }, v, 'view');
    if (problem) throw invalidKey(def, name, problem);
    row[name] = v;
  }
  let marshalled: Record<string, AttributeValue>;
  try {
    marshalled = marshall(row, MARSHALL) as Record<string, AttributeValue>;
  } catch (e) {
    throw new TributaryError(
      'sink.invalidItem',
      `index view '${def.name}': the row cannot be stored: ${(e as Error).message}`,
      { cause: e, details: { view: def.name } },
    );
  }
  const size = itemSize(marshalled);
  if (size > MAX_ITEM_BYTES)
    throw new TributaryError(
      'sink.itemTooLarge',
      `index view '${def.name}': row of ${size} bytes exceeds DynamoDB's 400 KB limit`,
      { details: { view: def.name, size } },
    );
  const names = declared.map((a) => a.name);
  const key: Record<string, AttributeValue> = {};
  for (const n of names) key[n] = marshalled[n]!;
  return { key, keyString: keyString(key, names), item: marshalled };
}

function invalidKey(
  def: IndexDef<unknown> | IndexDef<never>,
  attribute: string | undefined,
  reason: string,
): TributaryError {
  return new TributaryError('view.invalidKey', `index view '${def.name}': ${reason}`, {
    details: { view: def.name, ...(attribute ? { attribute } : {}), reason },
  });
}

/** Like {@link buildRow}, but `undefined` for an item that could never have had a row (invalid key, too large). */
function rowIfAny<T>(def: IndexDef<T>, item: T): BuiltRow | undefined {
  try {
    return buildRow(def, item);
  } catch (e) {
    if (
      e instanceof TributaryError &&
      (e.code === 'view.invalidKey' || e.code === 'sink.itemTooLarge' || e.code === 'sink.invalidItem')
    )
      return undefined;
    throw e;
  }
}

/**
 * The writes that apply one change to an index view: an insert puts the row; a remove deletes
 * it; a modify that moves the row to another key deletes the old row and puts the new; a modify
 * that leaves key and row unchanged writes nothing. An old image without a valid row (its insert
 * went to the dead letters) counts as no row, so fixing an item creates its row.
 *
 * @example
 * ```ts
 * planIndexChange(def, change); // [{ type: 'delete', ... }, { type: 'put', ... }] when the key changed
 * ```
 */
export function planIndexChange<T>(def: IndexDef<T>, change: DynamoChange<T>): IndexWrite[] {
  const oldImage = change.kind === 'insert' ? undefined : change.oldImage;
  const newImage = change.kind === 'remove' ? undefined : change.newImage;
  if (change.kind !== 'insert' && !oldImage) throw missingImage(def, 'old');
  if (change.kind !== 'remove' && !newImage) throw missingImage(def, 'new');
  const before = oldImage === undefined ? undefined : rowIfAny(def, oldImage);
  const after = newImage === undefined ? undefined : buildRow(def, newImage);
  const writes: IndexWrite[] = [];
  if (before && before.keyString !== after?.keyString)
    writes.push({ type: 'delete', keyString: before.keyString, key: before.key });
  if (after && !(before && before.keyString === after.keyString && sameItem(before.item, after.item)))
    writes.push({ type: 'put', keyString: after.keyString, item: after.item });
  return writes;
}

function missingImage(def: IndexDef<unknown> | IndexDef<never>, which: 'old' | 'new'): TributaryError {
  return new TributaryError(
    'view.missingImage',
    `index view '${def.name}': the change has no ${which} image; the source table's stream must be NEW_AND_OLD_IMAGES`,
    { details: { view: def.name } },
  );
}

export { sameItem } from '../../core/item-canonical.js';
