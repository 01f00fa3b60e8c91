import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { fromJsonItem, malformed } from '../../core/dynamodb-json.js';
import { unmarshallImage } from '../../core/numbers.js';
import type { ChangeKind, KinesisDynamoChange } from '../../core/records.js';
import { utf8Text, type DecodeResult, type Decoder } from './decoder.js';

const KINDS: Record<string, ChangeKind> = { INSERT: 'insert', MODIFY: 'modify', REMOVE: 'remove' };
/** Epoch values at or above this are microseconds (as milliseconds they would be past the year 5000). */
const MICROS_THRESHOLD = 1e14;

/**
 * Decodes records in the format of "Kinesis Data Streams for DynamoDB" (or of tributary's
 * {@link kinesisBridge}) into {@link KinesisDynamoChange} values that {@link mirror} accepts.
 * Malformed records are rejected with `decode.json` / `decode.schema` and a reason naming the field.
 *
 * @example
 * ```ts
 * pipeline('users-mirror')
 *   .from(kinesisStream('users_changes', { decode: kinesisDynamoChanges<User>() }))
 *   .to(mirror<User>({ tables: 'users_mirror', partitionKey: { name: 'userId', type: 'S' } }))
 * ```
 */
export function kinesisDynamoChanges<T = Record<string, unknown>>(): Decoder<KinesisDynamoChange<T>> {
  return {
    name: 'kinesis-dynamodb',
    decode(data: Uint8Array): DecodeResult<KinesisDynamoChange<T>> {
      const text = utf8Text(data);
      if (text === undefined) return { ok: false, code: 'decode.binary', reason: 'payload is not valid UTF-8' };
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch (e) {
        return { ok: false, code: 'decode.json', reason: (e as Error).message };
      }
      try {
        return { ok: true, value: parseChange<T>(json) };
      } catch (e) {
        return { ok: false, code: 'decode.schema', reason: (e as Error).message };
      }
    },
  };
}

function parseChange<T>(json: unknown): KinesisDynamoChange<T> {
  const r = obj(json, 'record');
  if (r.eventSource !== undefined && r.eventSource !== 'aws:dynamodb')
    throw malformed(`eventSource: expected 'aws:dynamodb', got ${JSON.stringify(r.eventSource)}`);
  if (r.recordFormat !== undefined && r.recordFormat !== 'application/json')
    throw malformed(`recordFormat: expected 'application/json', got ${JSON.stringify(r.recordFormat)}`);
  const kind = KINDS[String(r.eventName)];
  if (!kind) throw malformed(`eventName: expected INSERT, MODIFY or REMOVE, got ${JSON.stringify(r.eventName)}`);
  const d = obj(r.dynamodb, 'dynamodb');
  const keys = fromJsonItem(d.Keys, 'dynamodb.Keys');
  const image = (name: 'NewImage' | 'OldImage'): T | undefined =>
    d[name] === undefined || d[name] === null
      ? undefined
      : (unmarshallSafe(fromJsonItem(d[name], `dynamodb.${name}`), name) as T);
  const at = d.ApproximateCreationDateTime;
  if (at !== undefined && (typeof at !== 'number' || !Number.isFinite(at) || at < 0))
    throw malformed('dynamodb.ApproximateCreationDateTime: expected epoch milliseconds');
  const micros = at === undefined ? 0 : at >= MICROS_THRESHOLD ? Math.trunc(at) : Math.round(at * 1000);
  const seq = d.SequenceNumber;
  if (seq !== undefined && (typeof seq !== 'string' || !/^\d{1,40}$/.test(seq)))
    throw malformed('dynamodb.SequenceNumber: expected a decimal string');
  const ui = r.userIdentity as { type?: unknown; principalId?: unknown } | null | undefined;
  const newImage = image('NewImage');
  const oldImage = image('OldImage');
  return {
    type: 'kinesis-dynamodb',
    kind,
    keys: unmarshallSafe(keys, 'Keys') as KinesisDynamoChange<T>['keys'],
    oldImage,
    newImage,
    ttlExpired: kind === 'remove' && ui?.type === 'Service' && ui.principalId === 'dynamodb.amazonaws.com',
    approximateCreationTime: new Date(Math.floor(micros / 1000)),
    approximateCreationMicros: micros,
    ...(seq === undefined ? {} : { sequenceNumber: seq }),
    eventId: typeof r.eventID === 'string' ? r.eventID : '',
    tableName: typeof r.tableName === 'string' ? r.tableName : '',
    awsRegion: typeof r.awsRegion === 'string' ? r.awsRegion : '',
    sizeBytes: typeof d.SizeBytes === 'number' ? d.SizeBytes : 0,
  };
}

function obj(v: unknown, path: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw malformed(`${path}: expected an object`);
  return v as Record<string, unknown>;
}

function unmarshallSafe(item: Record<string, AttributeValue>, path: string): Record<string, unknown> {
  try {
    return unmarshallImage(item);
  } catch (e) {
    throw malformed(`${path}: ${(e as Error).message}`);
  }
}
