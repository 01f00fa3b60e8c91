import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import {
  GetRecordsCommand,
  type DynamoDBStreamsClient,
  type _Record as StreamRecord,
} from '@aws-sdk/client-dynamodb-streams';
import { bytesOf, dateOf, dropNulls, sendTakingJsonBody } from '../json-body.js';

/** What a GetRecords call gives the reader. */
export interface RecordsPage {
  readonly records: StreamRecord[];
  readonly nextShardIterator: string | undefined;
}

/** The type tag of a binary or binary-set attribute value, whatever the spacing. */
const BINARY_TAG = /"BS?"\s*:/;

/** Binary attributes arrive as base64 on the wire; the SDK (and `unmarshall`) give them as bytes. */
function binaries(image: Record<string, AttributeValue> | undefined): void {
  if (!image) return;
  for (const v of Object.values(image)) fixValue(v);
}

function fixValue(v: AttributeValue): void {
  const w = v as unknown as Record<string, unknown>;
  if (typeof w.B === 'string') w.B = bytesOf(w.B);
  else if (Array.isArray(w.BS)) w.BS = w.BS.map((b: unknown) => (typeof b === 'string' ? bytesOf(b) : b));
  else if (w.M && typeof w.M === 'object') binaries(w.M as Record<string, AttributeValue>);
  else if (Array.isArray(w.L)) for (const e of w.L as AttributeValue[]) fixValue(e);
}

/**
 * GetRecords' wire JSON in the SDK's shapes where they differ: the creation time (epoch seconds)
 * as a Date, binary attributes (base64) as bytes. The rest of the wire format already is the SDK's
 * shape (AttributeValue maps, strings, numbers).
 */
function fromWire(json: unknown, text: string): RecordsPage {
  const page = json as { Records?: StreamRecord[]; NextShardIterator?: string };
  const records = page.Records ?? [];
  // Binary attributes are rare: look for their type tags in the text before walking any image.
  const mayHaveBinary = BINARY_TAG.test(text);
  for (const r of records) {
    dropNulls(r);
    const d = r.dynamodb as Record<string, unknown> | undefined;
    if (!d) continue;
    dropNulls(d);
    d.ApproximateCreationDateTime = dateOf(d.ApproximateCreationDateTime);
    if (mayHaveBinary) {
      binaries(d.Keys as Record<string, AttributeValue> | undefined);
      binaries(d.NewImage as Record<string, AttributeValue> | undefined);
      binaries(d.OldImage as Record<string, AttributeValue> | undefined);
    }
  }
  return { records, nextShardIterator: page.NextShardIterator ?? undefined };
}

/**
 * DynamoDB Streams GetRecords, its answer parsed by `JSON.parse` (see `sendTakingJsonBody`).
 *
 * @example
 * ```ts
 * const page = await getRecordsFast(clients.streams, { ShardIterator: it, Limit: 1000 });
 * page.records.map((r) => toChange(r, 'orders', shardId));
 * ```
 */
export function getRecordsFast(
  client: DynamoDBStreamsClient,
  input: { ShardIterator: string | undefined; Limit: number },
  abortSignal?: AbortSignal,
): Promise<RecordsPage> {
  return sendTakingJsonBody(
    new GetRecordsCommand(input),
    (c) => client.send(c, { abortSignal }),
    fromWire,
    (out) => ({ records: out.Records ?? [], nextShardIterator: out.NextShardIterator }),
  );
}
