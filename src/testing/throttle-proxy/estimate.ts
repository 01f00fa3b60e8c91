import { readUnits, wireItemSize, writeUnits } from './wire-size.js';
import type { Item, TransactGetItem, TransactWriteItem, WriteRequest } from './wire.js';

/**
 * Estimates of what a request will cost, made before it is sent. They are what the proxy
 * reserves from a budget; after the response, the reservation is replaced by the consumed
 * capacity DynamoDB Local reports (which knows the size of the stored item, for updates and
 * deletes). Where nothing is reported (a failed condition), the estimate stands.
 */

const sizeOf = (item: Item | undefined) => (item ? wireItemSize(item) : 0);

/** PutItem: the new item's size. (DynamoDB charges max(old, new); the report corrects this.) */
export const putUnits = (item: Item | undefined): number => writeUnits(sizeOf(item));

/** UpdateItem: the key plus the values the update writes; usually one unit. */
export const updateUnits = (key: Item | undefined, values: Item | undefined): number =>
  writeUnits(sizeOf(key) + sizeOf(values));

/** DeleteItem: the key (the stored item's size is only known afterwards). */
export const deleteUnits = (key: Item | undefined): number => writeUnits(sizeOf(key));

/** GetItem, and each key of a BatchGetItem: one item of up to 4 KB. */
export const getUnits = (consistent: boolean): number => readUnits(0, consistent);

/** Query and Scan: one page of up to 4 KB (the page size is only known afterwards). */
export const pageUnits = (consistent: boolean): number => readUnits(0, consistent);

/** One request of a BatchWriteItem. */
export function writeRequestUnits(r: WriteRequest): number {
  return r.PutRequest ? putUnits(r.PutRequest.Item) : deleteUnits(r.DeleteRequest?.Key);
}

/** The table an entry of TransactWriteItems names, and its cost: transactions cost double. */
export function transactWriteEntry(t: TransactWriteItem): { table: string; units: number } | undefined {
  if (t.Put) return { table: t.Put.TableName, units: 2 * putUnits(t.Put.Item) };
  if (t.Update)
    return { table: t.Update.TableName, units: 2 * updateUnits(t.Update.Key, t.Update.ExpressionAttributeValues) };
  if (t.Delete) return { table: t.Delete.TableName, units: 2 * deleteUnits(t.Delete.Key) };
  if (t.ConditionCheck) return { table: t.ConditionCheck.TableName, units: 2 * deleteUnits(t.ConditionCheck.Key) };
  return undefined;
}

/** The table an entry of TransactGetItems names, and its cost: a strongly consistent read, doubled. */
export function transactGetEntry(t: TransactGetItem): { table: string; units: number } | undefined {
  return t.Get ? { table: t.Get.TableName, units: 2 * getUnits(true) } : undefined;
}
