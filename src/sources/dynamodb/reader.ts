import { GetShardIteratorCommand, type GetShardIteratorCommandInput } from '@aws-sdk/client-dynamodb-streams';
import type { Batch } from '../../core/batch.js';
import type { Checkpoint } from '../../core/position.js';
import type { DynamoChange } from '../../core/records.js';
import type { ShardInfo, ShardReader, SourceEnv } from '../../core/source.js';
import { Pacer } from '../pacing.js';
import { isThrottle, withRetry } from '../retry.js';
import { toChange } from './convert.js';
import { getRecordsFast } from './fast-get-records.js';

/** Reads one DynamoDB Streams shard in order; re-acquires expired iterators from the last position. */
export class DynamoShardReader<T> implements ShardReader<DynamoChange<T>> {
  private iterator: string | undefined;
  private ended = false;
  private seq = 0;
  /** Where to resume if the iterator must be acquired again: the last record handed out, or the start. */
  private resumeFrom: Checkpoint;
  private readonly pacer: Pacer;

  constructor(
    private readonly source: string,
    private readonly streamArn: string,
    private readonly shard: ShardInfo,
    from: Checkpoint,
    private readonly env: SourceEnv,
    private readonly opts: { batchSize: number; idlePollMs: number },
  ) {
    this.resumeFrom = from;
    this.ended = from.kind === 'SHARD_END';
    // DynamoDB Streams has no documented per-shard call limit like Kinesis; Lambda polls 4 times a second.
    this.pacer = new Pacer({ minIntervalMs: 0, idleStartMs: 100, idleMaxMs: opts.idlePollMs });
  }

  async next(signal: AbortSignal): Promise<Batch<DynamoChange<T>> & { ended: boolean }> {
    while (!this.ended && !signal.aborted) {
      await this.pacer.beforeRead(signal);
      if (signal.aborted) break;
      if (!this.iterator) this.iterator = await this.acquire(this.resumeFrom);
      if (!this.iterator) {
        this.ended = true;
        break;
      }
      let out;
      try {
        out = await withRetry(
          () => getRecordsFast(this.env.clients.streams, { ShardIterator: this.iterator, Limit: this.opts.batchSize }),
          { signal },
        );
      } catch (e) {
        const name = (e as Error).name;
        if (name === 'ExpiredIteratorException') {
          this.env.onEvent?.({ type: 'iteratorExpired', shardId: this.shard.shardId });
          this.iterator = undefined;
          continue;
        }
        if (name === 'TrimmedDataAccessException') {
          this.env.onEvent?.({ type: 'trimmedData', shardId: this.shard.shardId, checkpoint: this.resumeFrom });
          this.iterator = undefined;
          this.resumeFrom = { kind: 'TRIM_HORIZON' };
          continue;
        }
        if (isThrottle(e)) {
          this.pacer.throttled();
          continue;
        }
        throw e;
      }
      this.iterator = out.nextShardIterator;
      const records = out.records.map((r) => toChange<T>(r, this.source, this.shard.shardId));
      this.pacer.afterRead(records.length > 0);
      if (!this.iterator) this.ended = true;
      if (records.length > 0 || this.ended) {
        const last = records[records.length - 1];
        if (last)
          this.resumeFrom = { kind: 'sequence', sequenceNumber: last.position.sequenceNumber, subSequenceNumber: 0 };
        this.env.onEvent?.({ type: 'fetched', shardId: this.shard.shardId, count: records.length });
        // DynamoDB Streams reports no lag: the age of the newest record read stands in for it (iterator age).
        const age = last ? Math.max(0, Date.now() - last.approximateCreationTime.getTime()) : undefined;
        return { ...this.batch(records, this.ended ? { kind: 'SHARD_END' } : this.resumeFrom), millisBehind: age };
      }
    }
    return this.batch([], this.ended ? { kind: 'SHARD_END' } : undefined);
  }

  private batch(
    records: DynamoChange<T>[],
    checkpoint: Checkpoint | undefined,
  ): Batch<DynamoChange<T>> & { ended: boolean } {
    return {
      source: this.source,
      shardId: this.shard.shardId,
      seq: this.seq++,
      records,
      rejected: [],
      checkpoint,
      ended: this.ended,
    };
  }

  private async acquire(from: Checkpoint): Promise<string | undefined> {
    const input: GetShardIteratorCommandInput = {
      StreamArn: this.streamArn,
      ShardId: this.shard.shardId,
      ShardIteratorType: 'TRIM_HORIZON',
    };
    if (from.kind === 'sequence')
      Object.assign(input, { ShardIteratorType: 'AFTER_SEQUENCE_NUMBER', SequenceNumber: from.sequenceNumber });
    else if (from.kind === 'LATEST') input.ShardIteratorType = 'LATEST';
    try {
      const out = await withRetry(() => this.env.clients.streams.send(new GetShardIteratorCommand(input)));
      return out.ShardIterator;
    } catch (e) {
      const name = (e as Error).name;
      if (name === 'TrimmedDataAccessException') {
        this.env.onEvent?.({ type: 'trimmedData', shardId: this.shard.shardId, checkpoint: from });
        this.resumeFrom = { kind: 'TRIM_HORIZON' };
        return this.acquire(this.resumeFrom);
      }
      if (name === 'ResourceNotFoundException') {
        // The shard aged out of the stream (24 h retention): whatever it held is gone.
        this.env.onEvent?.({ type: 'trimmedData', shardId: this.shard.shardId, checkpoint: from });
        return undefined;
      }
      throw e;
    }
  }
}
