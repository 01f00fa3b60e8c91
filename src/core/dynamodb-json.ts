import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { TributaryError } from './errors.js';

// DynamoDB JSON, the wire format of items in DynamoDB's API and in "Kinesis Data Streams for
// DynamoDB" records: the types, and the codec between it and the SDK's marshalled form. The bridge
// sink encodes with it and the Kinesis decoder decodes, so both live below sinks and sources;
// the item size rule and the throttling proxy read its shapes.
// Type-only imports from the SDK: `core` loads no AWS client.

/**
 * An attribute value as code that reads DynamoDB's wire shapes sees it: every type member
 * optional, binaries as `Bin` (the SDK's bytes, DynamoDB JSON's base64 strings, or either).
 *
 * @example
 * ```ts
 * const v: WireAttributeValue<string> = JSON.parse('{"B":"AQI="}');
 * if (v.B !== undefined) console.log(Buffer.from(v.B, 'base64'));
 * ```
 */
export interface WireAttributeValue<Bin = Uint8Array | string> {
  readonly S?: string;
  readonly N?: string;
  readonly B?: Bin;
  readonly BOOL?: boolean;
  readonly NULL?: boolean;
  readonly SS?: readonly string[];
  readonly NS?: readonly string[];
  readonly BS?: readonly Bin[];
  readonly L?: readonly WireAttributeValue<Bin>[];
  readonly M?: Readonly<Record<string, WireAttributeValue<Bin>>>;
}

/**
 * An attribute value in DynamoDB's JSON wire format, as {@link toJsonItem} writes it: exactly one
 * type member (the SDK's `AttributeValue`, except that binary values are base64 strings, as in
 * stream records delivered as JSON). Code that reads values of either form takes the looser
 * {@link WireAttributeValue}, which every one of these is.
 */
export type JsonAttributeValue =
  | { readonly S: string }
  | { readonly N: string }
  | { readonly B: string }
  | { readonly BOOL: boolean }
  | { readonly NULL: true }
  | { readonly SS: readonly string[] }
  | { readonly NS: readonly string[] }
  | { readonly BS: readonly string[] }
  | { readonly L: readonly JsonAttributeValue[] }
  | { readonly M: { readonly [name: string]: JsonAttributeValue } };

/** An item (or key, or image) in DynamoDB's JSON wire format. */
export type JsonItem = { readonly [name: string]: JsonAttributeValue };

/**
 * A record of "Kinesis Data Streams for DynamoDB" as JSON: one item change, images in DynamoDB
 * JSON. `dynamodb.SequenceNumber` is not part of the native format: tributary's bridge adds the
 * DynamoDB Streams sequence number there so that changes within one timestamp can be ordered.
 */
export interface DynamoKinesisRecordJson {
  readonly awsRegion: string;
  readonly eventID: string;
  readonly eventName: 'INSERT' | 'MODIFY' | 'REMOVE';
  readonly userIdentity: { readonly type: 'Service'; readonly principalId: 'dynamodb.amazonaws.com' } | null;
  readonly recordFormat: 'application/json';
  readonly tableName: string;
  readonly dynamodb: {
    /** Epoch milliseconds (or microseconds, when the table's destination was set to MICROSECOND precision). */
    readonly ApproximateCreationDateTime: number;
    readonly Keys: JsonItem;
    readonly NewImage?: JsonItem;
    readonly OldImage?: JsonItem;
    readonly SizeBytes: number;
    /** tributary's extension: the DynamoDB Streams sequence number of the change. */
    readonly SequenceNumber?: string;
  };
  readonly eventSource: 'aws:dynamodb';
}

/** The error of a value that is not DynamoDB JSON, or not the record format around it: `decode.schema`. */
export const malformed = (reason: string): TributaryError => new TributaryError('decode.schema', reason);

const b64 = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('base64');

/**
 * Turns a marshalled item into DynamoDB JSON (binary as base64), ready for `JSON.stringify`.
 *
 * @example
 * ```ts
 * JSON.stringify(toJsonItem(marshall({ id: 'a', blob: Uint8Array.of(1, 2) })));
 * // '{"id":{"S":"a"},"blob":{"B":"AQI="}}'
 * ```
 */
export function toJsonItem(item: Record<string, AttributeValue>): JsonItem {
  const out: Record<string, JsonAttributeValue> = {};
  for (const [k, v] of Object.entries(item)) out[k] = toJsonValue(v);
  return out;
}

function toJsonValue(v: AttributeValue): JsonAttributeValue {
  if (v.S !== undefined) return { S: v.S };
  if (v.N !== undefined) return { N: v.N };
  if (v.B !== undefined) return { B: b64(v.B) };
  if (v.BOOL !== undefined) return { BOOL: v.BOOL };
  if (v.NULL !== undefined) return { NULL: true };
  if (v.SS !== undefined) return { SS: [...v.SS] };
  if (v.NS !== undefined) return { NS: [...v.NS] };
  if (v.BS !== undefined) return { BS: v.BS.map(b64) };
  if (v.L !== undefined) return { L: v.L.map(toJsonValue) };
  if (v.M !== undefined) return { M: toJsonItem(v.M) };
  throw new TributaryError(
    'sink.invalidItem',
    `unsupported attribute value with keys ${Object.keys(v).join(', ') || '(none)'}`,
  );
}

/**
 * Validates DynamoDB JSON and turns it into the SDK's marshalled form (base64 binary decoded).
 * Throws `decode.schema` with a message that names the path of the first malformed value.
 *
 * @example
 * ```ts
 * unmarshall(fromJsonItem(JSON.parse('{"id":{"S":"a"},"n":{"N":"2"}}'), 'NewImage')); // { id: 'a', n: 2 }
 * ```
 */
export function fromJsonItem(json: unknown, path: string): Record<string, AttributeValue> {
  if (!isObject(json)) throw malformed(`${path}: expected an object of attribute values`);
  const out: Record<string, AttributeValue> = {};
  for (const [k, v] of Object.entries(json)) out[k] = fromJsonValue(v, `${path}.${k}`);
  return out;
}

function fromJsonValue(json: unknown, path: string): AttributeValue {
  if (!isObject(json)) throw malformed(`${path}: expected an attribute value like {"S": "..."}`);
  const entries = Object.entries(json);
  if (entries.length !== 1)
    throw malformed(`${path}: an attribute value has exactly one type key, got ${entries.length}`);
  const [type, v] = entries[0]!;
  switch (type) {
    case 'S':
      return { S: str(v, path) };
    case 'N':
      return { N: num(v, path) };
    case 'B':
      return { B: bin(v, path) };
    case 'BOOL':
      if (typeof v !== 'boolean') throw malformed(`${path}: BOOL must be true or false`);
      return { BOOL: v };
    case 'NULL':
      if (v !== true) throw malformed(`${path}: NULL must be true`);
      return { NULL: true };
    case 'SS':
      return { SS: arr(v, path).map((x, i) => str(x, `${path}[${i}]`)) };
    case 'NS':
      return { NS: arr(v, path).map((x, i) => num(x, `${path}[${i}]`)) };
    case 'BS':
      return { BS: arr(v, path).map((x, i) => bin(x, `${path}[${i}]`)) };
    case 'L':
      return { L: arr(v, path).map((x, i) => fromJsonValue(x, `${path}[${i}]`)) };
    case 'M':
      return { M: fromJsonItem(v, path) };
    default:
      throw malformed(`${path}: unknown attribute type '${type}'`);
  }
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function str(v: unknown, path: string): string {
  if (typeof v !== 'string') throw malformed(`${path}: expected a string`);
  return v;
}

function num(v: unknown, path: string): string {
  if (typeof v !== 'string' || !/^-?\d+(\.\d+)?([eE][-+]?\d+)?$/.test(v.trim()))
    throw malformed(`${path}: expected a number as a string`);
  return v;
}

function bin(v: unknown, path: string): Uint8Array {
  if (typeof v !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(v)) throw malformed(`${path}: expected base64 binary`);
  return new Uint8Array(Buffer.from(v, 'base64'));
}

function arr(v: unknown, path: string): unknown[] {
  if (!Array.isArray(v)) throw malformed(`${path}: expected an array`);
  return v;
}
