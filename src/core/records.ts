import type { Position } from './position.js';

export type ChangeKind = 'insert' | 'modify' | 'remove';

/**
 * What any DynamoDB item change carries, read from the table's stream or from Kinesis.
 *
 * Numbers in `keys` and the images are `DynamoNumber`s (`src/core/numbers.ts`), without loss: a plain `number` iff
 * it is within ±`Number.MAX_SAFE_INTEGER` and `String(n)` denotes the stored decimal value (`12`,
 * `0.1`, `1e-7`), a `bigint` for a longer integer (`9007199254740993`), else util-dynamodb's
 * `NumberValue` holding the stored text (`12345678901234567890.5`, `9.99E+125`, a 38-digit decimal). A number set holds `NumberValue`s
 * only when any of its members needs one. `marshall` writes both back digit for digit.
 *
 * @example
 * ```ts
 * const price = change.newImage!.price as DynamoNumber;
 * const exact = typeof price === 'number' ? price : price.toString(); // bigint, NumberValue: exact text
 * ```
 */
export interface ItemChange<T = Record<string, unknown>> {
  readonly kind: ChangeKind;
  /** The item's key attributes, unmarshalled. */
  readonly keys: Partial<T> & Record<string, unknown>;
  readonly oldImage?: T;
  readonly newImage?: T;
  /** True when the item was removed by TTL expiry rather than by a caller. */
  readonly ttlExpired: boolean;
  readonly approximateCreationTime: Date;
  readonly eventId: string;
}

/**
 * One change from a DynamoDB table's stream, with images unmarshalled into the table's item type
 * (numbers as {@link ItemChange} says: `number`, else `bigint` or `NumberValue`, never rounded).
 *
 * @example
 * ```ts
 * pipeline('p').from(dynamodbTable<Order>('orders'))
 *   .pipe(filter(c => c.kind !== 'remove'), map(c => put(toRow(c.newImage!))))
 * ```
 */
export interface DynamoChange<T = Record<string, unknown>> extends ItemChange<T> {
  readonly type: 'dynamodb';
  readonly position: Position;
  /** Bytes of the stream record as the service reported them. */
  readonly sizeBytes: number;
}

/**
 * A DynamoDB item change read from a Kinesis stream (the payload of a Kinesis record, in the
 * format of "Kinesis Data Streams for DynamoDB"), with the images unmarshalled into `T`. Unlike a
 * {@link DynamoChange}, its position in Kinesis says nothing about the order of changes: Kinesis
 * may hold duplicates and changes out of order.
 *
 * @example
 * ```ts
 * kinesisStream('users_changes', { decode: kinesisDynamoChanges<User>() }); // KinesisRecord<KinesisDynamoChange<User>>
 * ```
 */
export interface KinesisDynamoChange<T = Record<string, unknown>> extends ItemChange<T> {
  readonly type: 'kinesis-dynamodb';
  /** The creation time in epoch microseconds, at the precision the record carried. */
  readonly approximateCreationMicros: number;
  /** The DynamoDB Streams sequence number, when the producer included it (tributary's bridge does). */
  readonly sequenceNumber?: string;
  readonly tableName: string;
  readonly awsRegion: string;
  readonly sizeBytes: number;
}

/** One record from a Kinesis data stream, decoded. */
export interface KinesisRecord<T = unknown> {
  readonly type: 'kinesis';
  readonly value: T;
  readonly partitionKey: string;
  readonly explicitHashKey?: string;
  readonly arrivalTime: Date;
  /** Position including the sub-sequence number of a KPL-aggregated user record (0 otherwise). */
  readonly position: Position & { readonly subSequenceNumber: number };
  readonly sizeBytes: number;
}

/** Anything a source can emit: every record carries its position. */
export interface SourceRecord {
  readonly position: Position;
}

/**
 * When a record entered its stream, in epoch milliseconds: a DynamoDB change's approximate
 * creation time (also when the change came through Kinesis), else a Kinesis record's arrival time.
 * Undefined for records that carry neither (scans, replays, in-memory sources) and for a zero time
 * (a stream record without `ApproximateCreationDateTime`).
 *
 * @example
 * ```ts
 * const ageMs = Date.now() - (createdAtMillis(record) ?? Date.now());
 * ```
 */
export function createdAtMillis(r: SourceRecord): number | undefined {
  const t = (r as Partial<ItemChange>).approximateCreationTime ?? (r as Partial<KinesisRecord>).arrivalTime;
  return t instanceof Date && t.getTime() > 0 ? t.getTime() : undefined;
}
