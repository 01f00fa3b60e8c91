import type { Rejected } from '../../core/batch.js';
import type { Checkpoint } from '../../core/position.js';
import type { SourceRecord } from '../../core/records.js';
import type { PacingOptions } from '../pacing.js';

/** One GetRecords answer, as the service's adapter turns it into records for the poller. */
export interface ParsedPage<R extends SourceRecord> {
  /** The page's records, in shard order. */
  readonly records: R[];
  /** Records of the page that could not be decoded, for the dead letters. */
  readonly rejected: Rejected[];
  /** The iterator for the next call; undefined once a closed shard has been read to its end. */
  readonly nextIterator: string | undefined;
  /** Where to re-acquire an iterator after this page: after its last record; undefined when it had none. */
  readonly resumeFrom: Checkpoint | undefined;
  /** The shard has more to read right now (the page had records, or the service says it is behind). */
  readonly behind: boolean;
  /** How far behind the tip of the shard this page was read, when it can be told. */
  readonly millisBehind: number | undefined;
  /** The page shows that records after the position it was read from were trimmed away. */
  readonly trimmed: boolean;
}

/**
 * What a failed call of an adapter means to the poller: `expired` (iterator too old: get another
 * from the last position), `trimmed` (the position is past the trim horizon: read from there),
 * `gone` (the shard no longer exists: nothing more to read), `throttled` (over the shard's read
 * limit: back off).
 */
export type ReadFailure = 'expired' | 'trimmed' | 'gone' | 'throttled';

/**
 * One stream service's side of polling one shard: `ShardPoller` owns the loop (pacing, retries,
 * re-acquiring iterators, reporting) and asks the adapter only what differs between services.
 * An adapter serves one shard, and may keep state between `iterator` and `parse` (Kinesis does,
 * to skip what it read again inside an aggregated record).
 *
 * @example
 * ```ts
 * const reader = new ShardPoller(new DynamoStreamsAdapter<Order>(...), { source: 'orders', shardId }, from, env.onEvent);
 * ```
 */
export interface ShardAdapter<R extends SourceRecord, P> {
  /** The rhythm of reads the service allows on one shard (its per-shard call limit). */
  readonly pacing: PacingOptions;
  /** Gets an iterator that reads from `from` (a start position, or after a checkpoint). */
  iterator(from: Checkpoint): Promise<string | undefined>;
  /** One GetRecords call, within the service's per-call limits of records and bytes. */
  getRecords(iterator: string): Promise<P>;
  /** Turns a page into records. Called once for each page, in the order they were read. */
  parse(page: P): ParsedPage<R> | Promise<ParsedPage<R>>;
  /** What an error of `iterator` or `getRecords` means; undefined for errors the poller does not handle. */
  classify(error: unknown): ReadFailure | undefined;
}
