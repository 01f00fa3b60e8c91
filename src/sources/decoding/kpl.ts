import agg from 'aws-kinesis-agg';
import { TributaryError } from '../../core/errors.js';

/** One record as read from a Kinesis shard, before KPL de-aggregation. */
export interface RawKinesisRecord {
  readonly data: Uint8Array;
  readonly partitionKey: string;
  readonly sequenceNumber: string;
  readonly explicitHashKey?: string;
  readonly approximateArrivalTimestamp?: Date;
}

/** One user record: a whole plain record (sub-sequence 0) or one record packed in a KPL aggregate. */
export interface UserRecord {
  readonly data: Uint8Array;
  readonly partitionKey: string;
  readonly explicitHashKey?: string;
  readonly subSequenceNumber: number;
}

export type DeaggregateResult =
  | { readonly ok: true; readonly records: UserRecord[] }
  | { readonly ok: false; readonly code: 'decode.aggregation'; readonly reason: string };

// aws-kinesis-agg ships an index.d.ts that needs aws-sdk v2 / aws-lambda types and omits
// RecordAggregator, so describe the part we use ourselves.
interface LibUserRecord {
  readonly partitionKey?: string;
  readonly explicitPartitionKey?: string;
  readonly subSequenceNumber?: number;
  readonly data: string; // base64
}
type LibCallback = (err?: Error | null, record?: LibUserRecord) => void;
interface Lib {
  deaggregate(
    rec: { partitionKey: string; explicitPartitionKey?: string; sequenceNumber: string; data: string },
    computeChecksums: boolean,
    perRecord: LibCallback,
    afterRecord: LibCallback,
  ): void;
  RecordAggregator: new () => {
    addUserRecord(rec: { partitionKey: string; explicitHashKey?: string; data: Buffer }): void;
    build(): { partitionKey: string; data: Buffer } | undefined;
  };
}
const lib = agg as unknown as Lib;

const MAGIC = [0xf3, 0x89, 0x9a, 0xc2] as const;
const MD5_BYTES = 16;

const toBuffer = (d: Uint8Array): Buffer => Buffer.from(d.buffer, d.byteOffset, d.byteLength);
const message = (e: unknown): string => (e instanceof Error ? e.message : String(e));
const fail = (reason: string): DeaggregateResult => ({
  ok: false,
  code: 'decode.aggregation',
  reason: `corrupt KPL aggregated record: ${reason}`,
});

/**
 * True when `data` starts with the KPL aggregation magic bytes `F3 89 9A C2`.
 *
 * @example
 * ```ts
 * isAggregated(await aggregate([{ data, partitionKey: 'k' }])); // true
 * isAggregated(new TextEncoder().encode('{}'));                  // false
 * ```
 */
export function isAggregated(data: Uint8Array): boolean {
  return data.byteLength >= MAGIC.length && MAGIC.every((b, i) => data[i] === b);
}

/**
 * Unpacks a KPL-aggregated record into its user records (MD5 checksum verified); a plain record
 * yields itself with sub-sequence number 0. Never throws: a corrupt aggregate is `decode.aggregation`.
 * Synchronous: the library calls back before it returns.
 *
 * @example
 * ```ts
 * const r = deaggregate({ data, partitionKey: 'k', sequenceNumber: '4959...' });
 * if (r.ok) for (const u of r.records) console.log(u.subSequenceNumber, u.partitionKey);
 * ```
 */
export function deaggregate(rec: RawKinesisRecord): DeaggregateResult {
  if (!isAggregated(rec.data)) {
    const { data, partitionKey, explicitHashKey } = rec;
    return {
      ok: true,
      records: [
        { data, partitionKey, ...(explicitHashKey === undefined ? {} : { explicitHashKey }), subSequenceNumber: 0 },
      ],
    };
  }
  if (rec.data.byteLength < MAGIC.length + MD5_BYTES) {
    return fail(`${rec.data.byteLength} bytes is too short for magic bytes and an MD5 checksum`);
  }
  const found: LibUserRecord[] = [];
  let error: string | undefined;
  const onError = (err: Error, r?: LibUserRecord): void => {
    const where = r?.subSequenceNumber === undefined ? '' : `user record ${r.subSequenceNumber}: `;
    const m = message(err);
    error ??= where + (m === 'Invalid record checksum' ? 'MD5 checksum does not match the body' : m);
  };
  try {
    // The library reports errors through either callback, possibly more than once; first one wins.
    lib.deaggregate(
      {
        partitionKey: rec.partitionKey,
        explicitPartitionKey: rec.explicitHashKey,
        sequenceNumber: rec.sequenceNumber,
        data: toBuffer(rec.data).toString('base64'),
      },
      true,
      (err, r) => (err ? onError(err, r) : r && found.push(r)),
      (err, r) => err && onError(err, r),
    );
  } catch (e) {
    error ??= message(e);
  }
  if (error !== undefined) return fail(error);
  if (found.length === 0) return fail('aggregate holds no user records');
  const records: UserRecord[] = [];
  for (const [i, r] of found.entries()) {
    // The library passes records through unchanged (no sub-sequence number) when it sees no magic.
    if (r.subSequenceNumber !== i) return fail(`user record ${i} was not unpacked`);
    if (typeof r.partitionKey !== 'string') return fail(`user record ${i} has a partition key index outside the table`);
    // Caveat: for a record without its own key the library reports explicit_hash_key_table[0].
    const { explicitPartitionKey: explicitHashKey } = r;
    records.push({
      data: Buffer.from(r.data, 'base64'),
      partitionKey: r.partitionKey,
      ...(typeof explicitHashKey === 'string' ? { explicitHashKey } : {}),
      subSequenceNumber: i,
    });
  }
  return { ok: true, records };
}

/**
 * Packs user records into one KPL-aggregated payload (magic, protobuf, MD5), as the KPL would.
 * Rejects with `config.invalid` when there are no records or they exceed the 1 MiB Kinesis record limit.
 *
 * @example
 * ```ts
 * const enc = new TextEncoder();
 * const data = await aggregate([{ data: enc.encode('{"a":1}'), partitionKey: 'a' }]);
 * await kinesis.putRecord({ StreamName: 's', PartitionKey: 'a', Data: data });
 * ```
 */
export async function aggregate(
  records: readonly { data: Uint8Array; partitionKey: string; explicitHashKey?: string }[],
): Promise<Uint8Array> {
  const aggregator = new lib.RecordAggregator();
  for (const [i, r] of records.entries()) {
    try {
      aggregator.addUserRecord({
        partitionKey: r.partitionKey,
        explicitHashKey: r.explicitHashKey,
        data: toBuffer(r.data),
      });
    } catch (e) {
      throw new TributaryError(
        'config.invalid',
        `aggregate: record ${i} (partition key ${JSON.stringify(r.partitionKey)}): ${message(e)}`,
        { details: { index: i }, cause: e },
      );
    }
  }
  const built = aggregator.build();
  if (!built) throw new TributaryError('config.invalid', 'aggregate: no records to aggregate');
  return built.data;
}
