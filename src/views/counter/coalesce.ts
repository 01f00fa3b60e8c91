import type { AttributeValue, UpdateItemCommandInput } from '@aws-sdk/client-dynamodb';

/** The sums buffered for one counter item: its marshalled key and one sum per incremented field. */
export interface KeyedSums {
  readonly key: Record<string, AttributeValue>;
  /** Indexed like the view's fields. */
  readonly sums: number[];
}

/** Sums by key id (a canonical string of the key). */
export type SumsByKey = Map<string, KeyedSums>;

/**
 * Adds `from` into `into`, key by key and field by field.
 *
 * @example
 * ```ts
 * mergeSums(pending, prepare(plan, outputs).sums);
 * ```
 */
export function mergeSums(into: SumsByKey, from: SumsByKey): void {
  for (const [id, e] of from) {
    const have = into.get(id);
    if (!have) into.set(id, { key: e.key, sums: [...e.sums] });
    else for (let i = 0; i < e.sums.length; i++) have.sums[i]! += e.sums[i]!;
  }
}

/** One `UpdateItem` of a flush. */
export interface CounterUpdate {
  readonly id: string;
  readonly input: Omit<UpdateItemCommandInput, 'TableName'>;
}

/**
 * The `UpdateItem` calls that apply buffered sums: `ADD #c0 :c0, #c1 :c1, ...` per key, fields
 * whose sum is zero left out, keys whose sums are all zero not written at all (a missing counter
 * reads as zero).
 *
 * @example
 * ```ts
 * toUpdates(['views'], new Map([['home', { key: { page: { S: 'home' } }, sums: [3] }]]));
 * // [{ id: 'home', input: { Key: ..., UpdateExpression: 'ADD #c0 :c0', ... } }]
 * ```
 */
export function toUpdates(fields: readonly string[], sums: SumsByKey): CounterUpdate[] {
  const out: CounterUpdate[] = [];
  for (const [id, e] of sums) {
    const input = addInput(fields, e);
    if (input) out.push({ id, input });
  }
  return out;
}

/**
 * The input of one `ADD` update, or undefined when every sum is zero.
 *
 * @example
 * ```ts
 * addInput(['views', 'bytes'], { key: { page: { S: 'home' } }, sums: [3, 0] }); // UpdateExpression 'ADD #c0 :c0'
 * ```
 */
export function addInput(
  fields: readonly string[],
  e: KeyedSums,
): Omit<UpdateItemCommandInput, 'TableName'> | undefined {
  const parts: string[] = [];
  const names: Record<string, string> = {};
  const values: Record<string, AttributeValue> = {};
  for (let i = 0; i < fields.length; i++) {
    const v = e.sums[i]!;
    if (v === 0) continue;
    parts.push(`#c${i} :c${i}`);
    names[`#c${i}`] = fields[i]!;
    values[`:c${i}`] = { N: String(v) };
  }
  if (parts.length === 0) return undefined;
  return {
    Key: e.key,
    UpdateExpression: `ADD ${parts.join(', ')}`,
    ExpressionAttributeNames: names,
    ExpressionAttributeValues: values,
  };
}
