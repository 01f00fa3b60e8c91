import {
  GetRecordsCommand,
  type GetRecordsCommandInput,
  type GetRecordsCommandOutput,
  type KinesisClient,
} from '@aws-sdk/client-kinesis';
import { bytesOf, dateOf, dropNulls, sendTakingJsonBody } from '../json-body.js';

/** What a Kinesis GetRecords call gives the reader: the SDK's output, without `$metadata`. */
export type KinesisPage = Omit<GetRecordsCommandOutput, '$metadata'>;

/** GetRecords' wire JSON in the SDK's shapes: record data (base64) as bytes, arrival times (epoch seconds) as Dates. */
function fromWire(json: unknown): KinesisPage {
  const page = dropNulls(json as KinesisPage);
  for (const r of page.Records ?? []) {
    const w = dropNulls(r as unknown as Record<string, unknown>);
    if (typeof w.Data === 'string') w.Data = bytesOf(w.Data);
    w.ApproximateArrivalTimestamp = dateOf(w.ApproximateArrivalTimestamp);
  }
  return page;
}

/**
 * Kinesis GetRecords, its answer parsed by `JSON.parse` (see `sendTakingJsonBody`).
 *
 * @example
 * ```ts
 * const out = await getKinesisRecordsFast(clients.kinesis, { ShardIterator: it, Limit: 1000 });
 * out.Records?.map((r) => r.Data); // Uint8Array payloads
 * ```
 */
export function getKinesisRecordsFast(
  client: KinesisClient,
  input: GetRecordsCommandInput,
  abortSignal?: AbortSignal,
): Promise<KinesisPage> {
  return sendTakingJsonBody(
    new GetRecordsCommand(input),
    (c) => client.send(c, { abortSignal }),
    fromWire,
    (out) => out,
  );
}
