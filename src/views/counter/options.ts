import { TributaryError } from '../../core/errors.js';
import type { KeyValue } from '../../core/key-rules.js';
import type { KeyAttr, Provisioned } from '../../core/tables.js';

/** The key of one counter item: the table's partition key (and sort key) attributes, nothing else. */
export type CounterKey = Readonly<Record<string, KeyValue>>;

/** An increment per record: a constant, or a function of the record. */
export type Increment<R> = number | ((r: R) => number);

/**
 * When a counter view writes. A flush sends one `UpdateItem` per key holding the sums of every
 * increment buffered since the last flush; the batches that contributed are acknowledged (and
 * their shards may checkpoint) only when it is durable. Flushes of one view run one at a time.
 */
export interface CounterFlushOptions {
  /** Flush once this many records are buffered. Default 20,000. */
  readonly maxRecords?: number;
  /** Flush once this many distinct keys are buffered (bounds a flush's `UpdateItem` calls). Default 2,000. */
  readonly maxKeys?: number;
  /**
   * Flush at the latest this long after the oldest buffered increment arrived, or after the
   * previous flush ended if that was later (flushes of a view run one at a time). Default 200 ms.
   */
  readonly maxDelayMs?: number;
  /**
   * A shard with this many batches buffered can fetch no more until a flush (the runner keeps
   * only `maxBatchesInFlight` batches of a shard unacknowledged): flush as soon as every shard
   * active in the last second is in that state, since waiting longer would gather nothing.
   * Default: the runner's `maxBatchesInFlight`.
   */
  readonly maxBatchesPerShard?: number;
  /** `UpdateItem` calls in flight at once during a flush. Default 16. */
  readonly concurrency?: number;
}

/**
 * Declares a counter view: a table of counters, each item keyed by a function of the record
 * (often a time bucket), its numeric attributes incremented with `ADD`.
 */
export interface CounterViewOptions<R> {
  /** Logical table name (the physical one gets the environment prefix). */
  readonly table: string;
  /** Partition key of the table; a bare name means a string (`S`) attribute. */
  readonly partitionKey: KeyAttr | string;
  /** Sort key of the table, if it has one; a bare name means a string (`S`) attribute. */
  readonly sortKey?: KeyAttr | string;
  /**
   * The counter(s) a record increments: one key, or several (hopping windows, several rollups
   * of one record). An empty array skips the record. Each key holds exactly the table's key attributes.
   */
  readonly key: (r: R) => CounterKey | readonly CounterKey[];
  /** Attributes to increment and by how much, e.g. `{ views: 1, bytes: r => r.value.size }`. */
  readonly add: Readonly<Record<string, Increment<R>>>;
  /**
   * Counts that go down again. `true`, for DynamoDB changes: an insert adds, a remove subtracts,
   * and a modify counts as the remove of the old item and the insert of the new one: the key the
   * old image gives loses the old image's increments, the key the new image gives gains the new
   * image's (so a photo moved to another album moves its count; a changed amount adds the
   * difference). The key and `add` functions see the modify as that remove and that insert
   * (`kind`, and only the image it has). The stream must carry NEW_AND_OLD_IMAGES. A function
   * gives each record's sign (multiplier) instead: `1`, `-1`, `0` to skip it.
   */
  readonly decrementOnRemove?: boolean | ((r: R) => number);
  readonly flush?: CounterFlushOptions;
  /** Provisioned capacity for the table spec; on-demand when absent. */
  readonly provisioned?: Provisioned;
}

/** Flush options with every default filled in. */
export type ResolvedFlush = Required<CounterFlushOptions>;

/**
 * Fills in defaults and checks the numbers are positive.
 *
 * @example
 * ```ts
 * resolveFlush({ maxDelayMs: 100 }, 4); // { maxRecords: 20000, maxKeys: 2000, maxDelayMs: 100, maxBatchesPerShard: 4, concurrency: 16 }
 * ```
 */
export function resolveFlush(f: CounterFlushOptions = {}, runnerWindow = 4): ResolvedFlush {
  const r: ResolvedFlush = {
    maxRecords: f.maxRecords ?? 20_000,
    maxKeys: f.maxKeys ?? 2_000,
    maxDelayMs: f.maxDelayMs ?? 200,
    maxBatchesPerShard: f.maxBatchesPerShard ?? runnerWindow,
    concurrency: f.concurrency ?? 16,
  };
  for (const [k, v] of Object.entries(r)) {
    if (!Number.isFinite(v) || v < (k === 'maxDelayMs' ? 0 : 1))
      throw new TributaryError(
        'config.invalid',
        `counter view flush option ${k} must be a positive number, got ${String(v)}`,
        { details: { option: k } },
      );
  }
  return r;
}

/**
 * A key attribute declaration in its long form.
 *
 * @example
 * ```ts
 * keyAttr('page'); // { name: 'page', type: 'S' }
 * ```
 */
export const keyAttr = (k: KeyAttr | string): KeyAttr => (typeof k === 'string' ? { name: k, type: 'S' } : k);
