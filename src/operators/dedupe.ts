import { LRUCache } from 'lru-cache';
import { filter, type MonoTypeOperatorFunction } from 'rxjs';
import { TributaryError } from '../core/errors.js';
import type { Position } from '../core/position.js';
import type { SourceRecord } from '../core/records.js';

/** How long and how many keys {@link dedupe} remembers. Give at least one of the two. */
export interface DedupeWindow {
  /**
   * A record is dropped when it is at most this many ms (record time) apart from the record that
   * passed with its key. Default: no time limit, only `keys` bounds what is remembered.
   */
  readonly ms?: number;
  /** Most keys remembered; the least recently seen is forgotten first. Default 100,000. */
  readonly keys?: number;
}

export interface DedupeOptions<R extends SourceRecord> {
  /** A record's identity: two records with equal keys are duplicates (e.g. the producer's event id). */
  readonly key: (record: R) => string | number;
  /** How long and how many keys are remembered. */
  readonly within: DedupeWindow;
  /**
   * A record's time in epoch ms. Default its `arrivalTime` (Kinesis) or `approximateCreationTime`
   * (DynamoDB), else `Date.now()`. Tests inject a clock here.
   */
  readonly time?: (record: R) => number;
}

/** What is remembered of the record that passed with a key. */
interface Passed {
  readonly position: string;
  readonly time: number;
}

const DEFAULT_KEYS = 100_000;

/**
 * Drops records whose key was seen recently, across batches: Kinesis producers retry, and a
 * retried put is a second record with the same payload. The first record with a key passes; a
 * later one with the same key is dropped while it comes within `within.ms` (record time) of it,
 * and while the key is among the `within.keys` most recently seen.
 *
 * A batch the runner retries or bisects runs through the operators again: a record at the same
 * position as the one that passed is that record again, not a duplicate, so it passes again.
 *
 * State lives in this call's closure, shared by every batch (and every shard) of the pipelines
 * it is used in, and only in this process's memory: it does not survive a restart, and a shard
 * whose lease moves to another worker starts there with nothing remembered. So a duplicate may
 * still pass after a restart or a lease move, as may a replayed record after a crash (the
 * at-least-once guarantee). Keep the sinks behind it idempotent (puts of whole items, event
 * tables keyed by event id, mirrors with versions); `dedupe` saves the writes, it does not make
 * the pipeline exactly-once.
 *
 * @example
 * ```ts
 * pipeline('orders').from(kinesisStream('orders', { decode: json(OrderSchema) }))
 *   .pipe(dedupe({ key: (r) => r.value.orderId, within: { ms: 10 * 60_000, keys: 500_000 } }))
 *   .to(tableWriter('orders_by_id'))
 * ```
 */
export function dedupe<R extends SourceRecord>(options: DedupeOptions<R>): MonoTypeOperatorFunction<R> {
  const { ms = Infinity, keys = DEFAULT_KEYS } = options.within;
  if (options.within.ms === undefined && options.within.keys === undefined)
    throw new TributaryError('config.invalid', 'dedupe: give within.ms, within.keys or both');
  if (!(ms > 0)) throw new TributaryError('config.invalid', `dedupe: within.ms must be positive, got ${ms}`);
  if (!Number.isInteger(keys) || keys <= 0)
    throw new TributaryError('config.invalid', `dedupe: within.keys must be a positive integer, got ${keys}`);
  const timeOf = options.time ?? recordTime;
  // Expiry is checked here against record time, so the cache needs no TTL clock of its own; an
  // expired entry is replaced by the next record with its key or falls off the end of the LRU.
  const passed = new LRUCache<string | number, Passed>({ max: keys });
  return filter((record) => {
    const key = options.key(record);
    const time = timeOf(record);
    const position = positionKey(record.position);
    const seen = passed.get(key);
    // The record that passed, run again by a retry or a bisection, passes again. Should it end in
    // the dead letters, its duplicates are still dropped: the letter holds the record.
    if (seen && Math.abs(time - seen.time) <= ms) return seen.position === position;
    passed.set(key, { position, time });
    return true;
  });
}

function recordTime(record: SourceRecord): number {
  const r = record as { arrivalTime?: unknown; approximateCreationTime?: unknown };
  const t = r.arrivalTime ?? r.approximateCreationTime;
  return t instanceof Date ? t.getTime() : Date.now();
}

/** A position as one string: the same record read again (retry, bisection) has the same one. */
function positionKey(p: Position): string {
  return `${p.source}\u0000${p.shardId}\u0000${p.sequenceNumber}\u0000${p.subSequenceNumber ?? 0}`;
}
