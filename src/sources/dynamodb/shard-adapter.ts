import { GetShardIteratorCommand, type GetShardIteratorCommandInput } from '@aws-sdk/client-dynamodb-streams';
import type { Rejected } from '../../core/batch.js';
import type { Checkpoint } from '../../core/position.js';
import { recordJson } from '../../core/record-json.js';
import type { DynamoChange } from '../../core/records.js';
import type { SourceEnv } from '../../core/source.js';
import type { PacingOptions } from '../pacing.js';
import type { ParsedPage, ReadFailure, ShardAdapter } from '../polling/shard-adapter.js';
import { toChange } from './convert.js';
import { getRecordsFast, type RecordsPage } from './fast-get-records.js';

/** DynamoDB Streams' answers that mean "over the read limit": its own, and the throttle any AWS API may answer. */
const THROTTLES = new Set(['LimitExceededException', 'ThrottlingException']);

const FAILURES: ReadonlyMap<string, ReadFailure> = new Map([
  ['ExpiredIteratorException', 'expired'],
  ['TrimmedDataAccessException', 'trimmed'],
  // The shard aged out of the stream (24 h retention): whatever it held is gone.
  ['ResourceNotFoundException', 'gone'],
]);

/** Where one DynamoDB Streams shard is, and how much one call reads. */
export interface DynamoShardRef {
  /** The source's name as declared in the app: records' positions carry it. */
  readonly source: string;
  readonly streamArn: string;
  readonly shardId: string;
  /** Records per GetRecords call (DynamoDB Streams allows at most 1,000, and 1 MB). */
  readonly batchSize: number;
  /** Longest wait between polls of an idle shard. */
  readonly idlePollMs: number;
}

/**
 * DynamoDB Streams' side of `ShardPoller`: iterators after a sequence number, GetRecords parsed by
 * `JSON.parse`, images unmarshalled into `T`, and lag as the age of the newest record read (the
 * service reports none).
 *
 * @example
 * ```ts
 * const adapter = new DynamoStreamsAdapter<Order>(env, { source: 'orders', streamArn, shardId, batchSize: 1000, idlePollMs: 1000 });
 * const reader = new ShardPoller(adapter, { source: 'orders', shardId }, checkpoint, env.onEvent);
 * ```
 */
export class DynamoStreamsAdapter<T> implements ShardAdapter<DynamoChange<T>, RecordsPage> {
  readonly pacing: PacingOptions;

  constructor(
    private readonly env: SourceEnv,
    private readonly ref: DynamoShardRef,
  ) {
    // DynamoDB Streams has no documented per-shard call limit like Kinesis; Lambda polls 4 times a second.
    this.pacing = { minIntervalMs: 0, idleStartMs: 100, idleMaxMs: ref.idlePollMs };
  }

  async iterator(from: Checkpoint): Promise<string | undefined> {
    const input: GetShardIteratorCommandInput = {
      StreamArn: this.ref.streamArn,
      ShardId: this.ref.shardId,
      ShardIteratorType: 'TRIM_HORIZON',
    };
    if (from.kind === 'sequence')
      Object.assign(input, { ShardIteratorType: 'AFTER_SEQUENCE_NUMBER', SequenceNumber: from.sequenceNumber });
    else if (from.kind === 'LATEST') input.ShardIteratorType = 'LATEST';
    const out = await this.env.clients.streams.send(new GetShardIteratorCommand(input), {
      abortSignal: this.env.signal,
    });
    return out.ShardIterator;
  }

  getRecords(iterator: string): Promise<RecordsPage> {
    return getRecordsFast(
      this.env.clients.streams,
      { ShardIterator: iterator, Limit: this.ref.batchSize },
      this.env.signal,
    );
  }

  parse(page: RecordsPage): ParsedPage<DynamoChange<T>> {
    const { source, shardId } = this.ref;
    const records: DynamoChange<T>[] = [];
    const rejected: Rejected[] = [];
    for (const r of page.records) {
      // A record that cannot be converted goes to the dead letters alone: a throw here would
      // retry the page forever and block the shard, records before it included.
      try {
        records.push(toChange<T>(r, source, shardId));
      } catch (e) {
        const sequenceNumber = r.dynamodb?.SequenceNumber ?? '0';
        rejected.push({
          position: { source, shardId, sequenceNumber },
          code: 'decode.schema',
          reason: `stream record ${sequenceNumber}: ${(e as Error)?.message ?? String(e)}`,
          raw: recordJson(r),
        });
      }
    }
    const last = records[records.length - 1];
    const lastRead = page.records[page.records.length - 1];
    return {
      records,
      rejected,
      nextIterator: page.nextShardIterator,
      resumeFrom: lastRead && {
        kind: 'sequence',
        sequenceNumber: lastRead.dynamodb?.SequenceNumber ?? '0',
        subSequenceNumber: 0,
      },
      behind: page.records.length > 0,
      // DynamoDB Streams reports no lag: the age of the newest record read stands in for it (iterator age),
      // and an empty page of an open shard means the reader is at the tip: 0, not the last page's age.
      millisBehind: last
        ? Math.max(0, Date.now() - last.approximateCreationTime.getTime())
        : page.records.length === 0 && page.nextShardIterator !== undefined
          ? 0
          : undefined,
      trimmed: false,
    };
  }

  classify(error: unknown): ReadFailure | undefined {
    const name = (error as Error | undefined)?.name ?? '';
    return THROTTLES.has(name) ? 'throttled' : FAILURES.get(name);
  }
}
