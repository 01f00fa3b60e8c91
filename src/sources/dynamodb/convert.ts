import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import type { _Record as StreamRecord } from '@aws-sdk/client-dynamodb-streams';
import { unmarshallImage } from '../../core/numbers.js';
import type { ChangeKind, DynamoChange } from '../../core/records.js';

const KINDS: Record<string, ChangeKind> = { INSERT: 'insert', MODIFY: 'modify', REMOVE: 'remove' };

type Image = Record<string, AttributeValue>;

/**
 * Turns a stream record into a typed change, images unmarshalled into `T` (numbers as
 * `unmarshallImage` gives them). Throws only on a value no DynamoDB type describes.
 */
export function toChange<T>(r: StreamRecord, source: string, shardId: string): DynamoChange<T> {
  const d = r.dynamodb ?? {};
  const seq = d.SequenceNumber ?? '0';
  const kind = KINDS[r.eventName ?? ''] ?? 'modify';
  const ttl = r.userIdentity?.Type === 'Service' && r.userIdentity.PrincipalId === 'dynamodb.amazonaws.com';
  return {
    type: 'dynamodb',
    kind,
    keys: d.Keys ? (unmarshallImage(d.Keys as Image) as DynamoChange<T>['keys']) : {},
    oldImage: d.OldImage ? (unmarshallImage(d.OldImage as Image) as T) : undefined,
    newImage: d.NewImage ? (unmarshallImage(d.NewImage as Image) as T) : undefined,
    ttlExpired: kind === 'remove' && ttl,
    approximateCreationTime: d.ApproximateCreationDateTime ?? new Date(0),
    eventId: r.eventID ?? seq,
    position: { source, shardId, sequenceNumber: seq },
    sizeBytes: d.SizeBytes ?? 0,
  };
}
