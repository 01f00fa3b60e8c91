import { GetShardIteratorCommand, type GetShardIteratorCommandInput, type _Record } from '@aws-sdk/client-kinesis';
import type { Rejected } from '../../core/batch.js';
import { comparePosition, type Checkpoint } from '../../core/position.js';
import type { KinesisRecord } from '../../core/records.js';
import type { SourceEnv } from '../../core/source.js';
import { decodePage, rejection, type Decoder } from '../decoding/decoder.js';
import { deaggregate, type UserRecord } from '../decoding/kpl.js';
import type { PacingOptions } from '../pacing.js';
import type { ParsedPage, ReadFailure, ShardAdapter } from '../polling/shard-adapter.js';
import { getKinesisRecordsFast, type KinesisPage } from './fast-get-records.js';

/**
 * Kinesis's answers that mean "over the read limit": the shard's (5 calls, 2 MB a second), KMS's
 * for encrypted streams, and the throttle any AWS API may answer.
 */
const THROTTLES = new Set(['ProvisionedThroughputExceededException', 'KMSThrottlingException', 'ThrottlingException']);

/** Where one Kinesis shard is, and how to read it. */
export interface KinesisShardRef<T> {
  /** The source's name as declared in the app: records' positions carry it. */
  readonly source: string;
  /** The stream, by name or ARN, as GetShardIterator takes it. */
  readonly stream: { readonly StreamName?: string; readonly StreamARN?: string };
  readonly shardId: string;
  /** Turns each (de-aggregated) payload into a value; failures go to the dead letters. */
  readonly decode: Decoder<T>;
  /** Records per GetRecords call (Kinesis allows at most 10,000, and 10 MB). */
  readonly batchSize: number;
  /** Longest wait between polls of an idle shard. */
  readonly idlePollMs: number;
}

/**
 * Kinesis's side of `ShardPoller`: de-aggregates KPL records, decodes payloads a page at a time,
 * resumes inside an aggregated record from its sub-sequence number, and reports the service's
 * MillisBehindLatest as lag.
 *
 * @example
 * ```ts
 * const adapter = new KinesisAdapter<Click>(env, { source: 'clicks', stream: { StreamName: 'clicks' }, shardId, decode: json(), batchSize: 1000, idlePollMs: 1000 });
 * const reader = new ShardPoller(adapter, { source: 'clicks', shardId }, checkpoint, env.onEvent);
 * ```
 */
export class KinesisAdapter<T> implements ShardAdapter<KinesisRecord<T>, KinesisPage> {
  readonly pacing: PacingOptions;
  /** Set right after acquiring at a sequence: records at or before it are skipped. */
  private skipThrough: { sequenceNumber: string; subSequenceNumber: number } | undefined;

  constructor(
    private readonly env: SourceEnv,
    private readonly ref: KinesisShardRef<T>,
  ) {
    // Kinesis allows 5 GetRecords per second per shard.
    this.pacing = { minIntervalMs: 200, idleStartMs: 200, idleMaxMs: ref.idlePollMs };
  }

  async iterator(from: Checkpoint): Promise<string | undefined> {
    const input: GetShardIteratorCommandInput = {
      ...this.ref.stream,
      ShardId: this.ref.shardId,
      ShardIteratorType: 'TRIM_HORIZON',
    };
    if (from.kind === 'sequence') {
      // AT, not AFTER: the checkpoint may sit inside an aggregated record; the rest of it is still due.
      Object.assign(input, { ShardIteratorType: 'AT_SEQUENCE_NUMBER', StartingSequenceNumber: from.sequenceNumber });
      this.skipThrough = { sequenceNumber: from.sequenceNumber, subSequenceNumber: from.subSequenceNumber };
    } else if (from.kind === 'LATEST') input.ShardIteratorType = 'LATEST';
    else if (from.kind === 'AT_TIMESTAMP')
      Object.assign(input, { ShardIteratorType: 'AT_TIMESTAMP', Timestamp: new Date(from.timestamp) });
    const out = await this.env.clients.kinesis.send(new GetShardIteratorCommand(input), {
      abortSignal: this.env.signal,
    });
    return out.ShardIterator;
  }

  getRecords(iterator: string): Promise<KinesisPage> {
    return getKinesisRecordsFast(
      this.env.clients.kinesis,
      { ShardIterator: iterator, Limit: this.ref.batchSize },
      this.env.signal,
    );
  }

  async parse(page: KinesisPage): Promise<ParsedPage<KinesisRecord<T>>> {
    const raw = page.Records ?? [];
    const trimmed = this.isTrimmed(raw);
    const { records, rejected } = await this.decodeAll(raw);
    const lastRaw = raw[raw.length - 1];
    return {
      records,
      rejected,
      nextIterator: page.NextShardIterator,
      resumeFrom: lastRaw && {
        kind: 'sequence',
        sequenceNumber: lastRaw.SequenceNumber!,
        subSequenceNumber: this.lastSubSequence(records, rejected, lastRaw.SequenceNumber!),
      },
      behind: raw.length > 0 || (page.MillisBehindLatest ?? 0) > 0,
      millisBehind: page.MillisBehindLatest,
      trimmed,
    };
  }

  classify(error: unknown): ReadFailure | undefined {
    const name = (error as Error | undefined)?.name ?? '';
    if (THROTTLES.has(name)) return 'throttled';
    return name === 'ExpiredIteratorException' ? 'expired' : undefined;
  }

  /** Reading AT the checkpointed sequence returns that record first unless it was trimmed away. */
  private isTrimmed(raw: _Record[]): boolean {
    const skip = this.skipThrough;
    return !!skip && raw.length > 0 && raw[0]!.SequenceNumber !== skip.sequenceNumber;
  }

  private lastSubSequence(records: KinesisRecord<T>[], rejected: Rejected[], seq: string): number {
    let sub = 0;
    for (const r of records) if (r.position.sequenceNumber === seq) sub = Math.max(sub, r.position.subSequenceNumber);
    for (const r of rejected)
      if (r.position.sequenceNumber === seq) sub = Math.max(sub, r.position.subSequenceNumber ?? 0);
    return sub;
  }

  private async decodeAll(raw: _Record[]): Promise<{ records: KinesisRecord<T>[]; rejected: Rejected[] }> {
    const { source, shardId } = this.ref;
    const rejected: Rejected[] = [];
    const skip = this.skipThrough;
    // An empty first read proves nothing; keep skipping until the checkpointed record has passed.
    if (raw.length > 0) this.skipThrough = undefined;
    const users: {
      readonly u: UserRecord;
      readonly position: KinesisRecord<T>['position'];
      readonly arrivalTime: Date;
    }[] = [];
    for (const r of raw) {
      const seq = r.SequenceNumber!;
      const data = r.Data ?? new Uint8Array();
      const arrivalTime = r.ApproximateArrivalTimestamp ?? new Date();
      const partitionKey = r.PartitionKey ?? '';
      const agg = deaggregate({ data, partitionKey, sequenceNumber: seq, approximateArrivalTimestamp: arrivalTime });
      if (!agg.ok) {
        if (!(skip && comparePosition({ sequenceNumber: seq, subSequenceNumber: 0 }, skip) <= 0)) {
          rejected.push(rejection({ source, shardId, sequenceNumber: seq, subSequenceNumber: 0 }, agg, data));
        }
        continue;
      }
      for (const u of agg.records) {
        const position = { source, shardId, sequenceNumber: seq, subSequenceNumber: u.subSequenceNumber };
        if (skip && comparePosition(position, skip) <= 0) continue;
        users.push({ u, position, arrivalTime });
      }
    }
    // The whole page at once: a JSON decoder parses it in one go.
    const results = await decodePage(
      this.ref.decode,
      users.map((x) => x.u.data),
    );
    const records: KinesisRecord<T>[] = [];
    for (let i = 0; i < users.length; i++) {
      const { u, position, arrivalTime } = users[i]!;
      const res = results[i]!;
      if (res.ok) {
        records.push({
          type: 'kinesis',
          value: res.value,
          partitionKey: u.partitionKey,
          explicitHashKey: u.explicitHashKey,
          arrivalTime,
          position,
          sizeBytes: u.data.byteLength,
        });
      } else {
        rejected.push(rejection(position, res, u.data));
      }
    }
    return { records, rejected };
  }
}
