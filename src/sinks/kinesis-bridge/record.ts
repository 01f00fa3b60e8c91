import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { createHash } from 'node:crypto';
import { toJsonItem, type DynamoKinesisRecordJson } from '../../core/dynamodb-json.js';
import type { DynamoChange } from '../../core/records.js';

const EVENT_NAMES = { insert: 'INSERT', modify: 'MODIFY', remove: 'REMOVE' } as const;
const MARSHALL = { removeUndefinedValues: true, convertClassInstanceToMap: true } as const;

/** A change ready for PutRecords: its payload and partition key. */
export interface BridgeEntry {
  readonly data: Uint8Array;
  readonly partitionKey: string;
}

/**
 * The record "Kinesis Data Streams for DynamoDB" would publish for a change, plus the stream
 * sequence number in `dynamodb.SequenceNumber` (tributary's extension, so that a consumer can
 * order changes made within one millisecond).
 *
 * @example
 * ```ts
 * const json = bridgeRecord(change, { tableName: 'users', region: 'eu-west-1' });
 * json.eventName; // 'MODIFY'
 * ```
 */
export function bridgeRecord<T>(
  change: DynamoChange<T>,
  where: { readonly tableName: string; readonly region: string },
): DynamoKinesisRecordJson {
  const image = (i: T | undefined) =>
    i === undefined
      ? undefined
      : toJsonItem(marshall(i as Record<string, unknown>, MARSHALL) as Record<string, AttributeValue>);
  const newImage = image(change.newImage);
  const oldImage = image(change.oldImage);
  return {
    awsRegion: where.region,
    eventID: change.eventId,
    eventName: EVENT_NAMES[change.kind],
    userIdentity: change.ttlExpired ? { type: 'Service', principalId: 'dynamodb.amazonaws.com' } : null,
    recordFormat: 'application/json',
    tableName: where.tableName,
    dynamodb: {
      ApproximateCreationDateTime: change.approximateCreationTime.getTime(),
      Keys: toJsonItem(marshall(change.keys, MARSHALL) as Record<string, AttributeValue>),
      ...(newImage ? { NewImage: newImage } : {}),
      ...(oldImage ? { OldImage: oldImage } : {}),
      SizeBytes: change.sizeBytes,
      SequenceNumber: change.position.sequenceNumber,
    },
    eventSource: 'aws:dynamodb',
  };
}

/**
 * The Kinesis partition key of an item: the MD5 of its key attributes (sorted by name), in upper
 * case hex as the native feature's keys look. Every change of one item lands on one shard.
 *
 * @example
 * ```ts
 * itemPartitionKey({ userId: 'u1' }); // '5F6E...' (32 hex digits)
 * ```
 */
export function itemPartitionKey(keys: Record<string, unknown>): string {
  const m = marshall(keys, MARSHALL) as Record<string, AttributeValue>;
  const canonical = Object.keys(m)
    .sort()
    .map((k) => `${k}=${JSON.stringify(toJsonItem({ v: m[k]! }).v)}`)
    .join('&');
  return createHash('md5').update(canonical).digest('hex').toUpperCase();
}

/**
 * Encodes a change as a PutRecords entry.
 *
 * @example
 * ```ts
 * const { data, partitionKey } = bridgeEntry(change, { tableName: 'users', region: 'us-east-1' });
 * ```
 */
export function bridgeEntry<T>(
  change: DynamoChange<T>,
  where: { readonly tableName: string; readonly region: string },
): BridgeEntry {
  return {
    data: new TextEncoder().encode(JSON.stringify(bridgeRecord(change, where))),
    partitionKey: itemPartitionKey(change.keys),
  };
}
