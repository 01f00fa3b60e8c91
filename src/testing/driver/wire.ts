/** An AttributeValue map, as DynamoDB's JSON carries items. */
export type WireItem = Record<string, Record<string, unknown>>;

/** An answer of an in-memory service: status and JSON body (an error's body has `__type` and `message`). */
export interface WireAnswer {
  readonly status: number;
  readonly body: Record<string, unknown>;
}

/** A DynamoDB error answer, as DynamoDB's JSON protocol carries it. */
export const ddbError = (
  status: number,
  type: string,
  message: string,
  extra: Record<string, unknown> = {},
): WireAnswer => ({
  status,
  body: { __type: `com.amazonaws.dynamodb.v20120810#${type}`, message, ...extra },
});

/** The key attributes of an item. */
export const pickKey = (item: WireItem, keys: readonly string[]): WireItem =>
  Object.fromEntries(keys.filter((k) => item[k] !== undefined).map((k) => [k, item[k]!]));

/** A shard iterator of the in-memory streams: where a reader is, as a token it hands back. */
export const encodeIterator = (it: object): string => Buffer.from(JSON.stringify(it)).toString('base64url');

/** The position a token of `encodeIterator` holds; undefined for a token that is not one. */
export function decodeIterator<T extends object>(token: unknown): Partial<T> | undefined {
  if (typeof token !== 'string') return undefined;
  try {
    const it = JSON.parse(Buffer.from(token, 'base64url').toString()) as unknown;
    return it && typeof it === 'object' ? (it as Partial<T>) : undefined;
  } catch {
    return undefined;
  }
}
