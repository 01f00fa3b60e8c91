import { GetShardIteratorCommand, type GetShardIteratorCommandInput, type _Record } from '@aws-sdk/client-kinesis';
import type { Batch, Rejected } from '../../core/batch.js';
import { comparePosition, type Checkpoint } from '../../core/position.js';
import type { KinesisRecord } from '../../core/records.js';
import type { ShardInfo, ShardReader, SourceEnv } from '../../core/source.js';
import { decodePage, rejection, type Decoder } from '../decoding/decoder.js';
import { deaggregate, type UserRecord } from '../decoding/kpl.js';
import { Pacer } from '../pacing.js';
import { getKinesisRecordsFast } from './fast-get-records.js';
import { isThrottle, withRetry } from '../retry.js';

type Ref = { StreamName?: string; StreamARN?: string };

/**
 * Reads one Kinesis shard in order: de-aggregates KPL records, decodes payloads, and resumes
 * inside an aggregated record from its sub-sequence number.
 */
export class KinesisShardReader<T> implements ShardReader<KinesisRecord<T>> {
  private iterator: string | undefined;
  private ended: boolean;
  private seq = 0;
  private resumeFrom: Checkpoint;
  /** Set right after (re-)acquiring at a sequence: records at or before it are skipped. */
  private skipThrough: { sequenceNumber: string; subSequenceNumber: number } | undefined;
  private readonly pacer: Pacer;

  constructor(
    private readonly source: string,
    private readonly ref: Ref,
    private readonly shard: ShardInfo,
    from: Checkpoint,
    private readonly env: SourceEnv,
    private readonly opts: { decode: Decoder<T>; batchSize: number; idlePollMs: number },
  ) {
    this.resumeFrom = from;
    this.ended = from.kind === 'SHARD_END';
    // Kinesis allows 5 GetRecords per second per shard.
    this.pacer = new Pacer({ minIntervalMs: 200, idleStartMs: 200, idleMaxMs: opts.idlePollMs });
  }

  async next(signal: AbortSignal): Promise<Batch<KinesisRecord<T>> & { ended: boolean }> {
    while (!this.ended && !signal.aborted) {
      await this.pacer.beforeRead(signal);
      if (signal.aborted) break;
      if (!this.iterator) this.iterator = await this.acquire(this.resumeFrom);
      let out;
      try {
        out = await withRetry(
          () =>
            getKinesisRecordsFast(this.env.clients.kinesis, {
              ShardIterator: this.iterator,
              Limit: this.opts.batchSize,
            }),
          { signal },
        );
      } catch (e) {
        if ((e as Error).name === 'ExpiredIteratorException') {
          this.env.onEvent?.({ type: 'iteratorExpired', shardId: this.shard.shardId });
          this.iterator = undefined;
          continue;
        }
        if (isThrottle(e)) {
          this.env.onEvent?.({ type: 'throttled', shardId: this.shard.shardId });
          this.pacer.throttled();
          continue;
        }
        throw e;
      }
      this.iterator = out.NextShardIterator;
      const raw = out.Records ?? [];
      this.checkTrimmed(raw);
      const { records, rejected } = await this.decodeAll(raw);
      const behind = raw.length > 0 || (out.MillisBehindLatest ?? 0) > 0;
      this.pacer.afterRead(behind);
      if (!this.iterator) this.ended = true;
      const lastRaw = raw[raw.length - 1];
      if (lastRaw) {
        const lastSub = this.lastSubSequence(records, rejected, lastRaw.SequenceNumber!);
        this.resumeFrom = { kind: 'sequence', sequenceNumber: lastRaw.SequenceNumber!, subSequenceNumber: lastSub };
      }
      if (raw.length > 0 || this.ended) {
        this.env.onEvent?.({
          type: 'fetched',
          shardId: this.shard.shardId,
          count: records.length + rejected.length,
          millisBehind: out.MillisBehindLatest,
        });
        return this.batch(
          records,
          rejected,
          this.ended ? { kind: 'SHARD_END' } : this.resumeFrom,
          out.MillisBehindLatest,
        );
      }
    }
    return this.batch([], [], this.ended ? { kind: 'SHARD_END' } : undefined);
  }

  /** Reading AT the checkpointed sequence returns that record first unless it was trimmed away. */
  private checkTrimmed(raw: _Record[]): void {
    const skip = this.skipThrough;
    if (!skip || raw.length === 0) return;
    if (raw[0]!.SequenceNumber !== skip.sequenceNumber) {
      this.env.onEvent?.({
        type: 'trimmedData',
        shardId: this.shard.shardId,
        checkpoint: { kind: 'sequence', ...skip },
      });
    }
  }

  private lastSubSequence(records: KinesisRecord<T>[], rejected: Rejected[], seq: string): number {
    let sub = 0;
    for (const r of records) if (r.position.sequenceNumber === seq) sub = Math.max(sub, r.position.subSequenceNumber);
    for (const r of rejected)
      if (r.position.sequenceNumber === seq) sub = Math.max(sub, r.position.subSequenceNumber ?? 0);
    return sub;
  }

  private async decodeAll(raw: _Record[]): Promise<{ records: KinesisRecord<T>[]; rejected: Rejected[] }> {
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
          rejected.push(
            rejection(
              { source: this.source, shardId: this.shard.shardId, sequenceNumber: seq, subSequenceNumber: 0 },
              agg,
              data,
            ),
          );
        }
        continue;
      }
      for (const u of agg.records) {
        const position = {
          source: this.source,
          shardId: this.shard.shardId,
          sequenceNumber: seq,
          subSequenceNumber: u.subSequenceNumber,
        };
        if (skip && comparePosition(position, skip) <= 0) continue;
        users.push({ u, position, arrivalTime });
      }
    }
    // The whole page at once: a JSON decoder parses it in one go.
    const results = await decodePage(
      this.opts.decode,
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

  private batch(
    records: KinesisRecord<T>[],
    rejected: Rejected[],
    checkpoint: Checkpoint | undefined,
    millisBehind?: number,
  ): Batch<KinesisRecord<T>> & { ended: boolean } {
    return {
      source: this.source,
      shardId: this.shard.shardId,
      seq: this.seq++,
      records,
      rejected,
      checkpoint,
      millisBehind,
      ended: this.ended,
    };
  }

  private async acquire(from: Checkpoint): Promise<string | undefined> {
    const input: GetShardIteratorCommandInput = {
      ...this.ref,
      ShardId: this.shard.shardId,
      ShardIteratorType: 'TRIM_HORIZON',
    };
    if (from.kind === 'sequence') {
      // AT, not AFTER: the checkpoint may sit inside an aggregated record; the rest of it is still due.
      Object.assign(input, { ShardIteratorType: 'AT_SEQUENCE_NUMBER', StartingSequenceNumber: from.sequenceNumber });
      this.skipThrough = { sequenceNumber: from.sequenceNumber, subSequenceNumber: from.subSequenceNumber };
    } else if (from.kind === 'LATEST') input.ShardIteratorType = 'LATEST';
    else if (from.kind === 'AT_TIMESTAMP')
      Object.assign(input, { ShardIteratorType: 'AT_TIMESTAMP', Timestamp: new Date(from.timestamp) });
    const out = await withRetry(() => this.env.clients.kinesis.send(new GetShardIteratorCommand(input)));
    return out.ShardIterator;
  }
}
