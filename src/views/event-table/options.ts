import { TributaryError } from '../../core/errors.js';
import type { Provisioned } from '../../core/tables.js';
import { parseBucket, type BucketSize } from './bucket.js';

/** How the tables of an event table rotate: one table per period, dropped after a retention. */
export interface RotationOptions {
  /** One physical table per UTC day (`events_2026_11_22`) or per UTC month (`events_2026_11`). */
  readonly period: 'day' | 'month';
  /** Periods kept, the current one included: with `month` and 3, November keeps September to November. */
  readonly retention: number;
  /** Future periods whose tables are created ahead of need. Default 1. */
  readonly createAhead?: number;
}

/**
 * Where and how events are stored: what a replay needs to read them back. An event table view
 * exposes its layout as `view.layout`.
 */
export interface EventTableLayout {
  /** Logical table name; with rotation, the prefix of each period's table (`${table}_${period id}`). */
  readonly table: string;
  /** Partition granularity: a duration that divides a day evenly, e.g. `'1m'`, `'15m'`, `'1h'`, `'1d'`. */
  readonly bucket: BucketSize;
  /** Partitions each bucket is spread over (suffixes 0..writeShards-1). */
  readonly writeShards: number;
  readonly rotation?: RotationOptions;
  /** Provisioned capacity of each table; on-demand when absent. */
  readonly provisioned?: Provisioned;
}

/** Options of {@link eventTable}. */
export interface EventTableOptions<E, P = E> extends EventTableLayout {
  /** When the event happened: a Date or epoch milliseconds, between 1970 and 9999. */
  readonly time: (e: E) => Date | number;
  /** Stable identity of the event; stores are idempotent by it. Default: SHA-256 of the canonical JSON of the payload. */
  readonly id?: (e: E) => string;
  /** What is stored for the event (under the `payload` attribute). Default: the event itself. */
  readonly payload?: (e: E) => P;
}

/** A layout whose bucket is parsed and whose numbers are checked. */
export interface ResolvedLayout extends EventTableLayout {
  readonly bucketMs: number;
  readonly createAhead: number;
}

/** Checks a layout once, at definition time, so that mistakes surface before anything runs. */
export function resolveLayout(l: EventTableLayout): ResolvedLayout {
  const bad = (message: string) =>
    new TributaryError('config.invalid', `event table '${l.table}': ${message}`, { details: { table: l.table } });
  if (!/^[A-Za-z0-9_.-]{1,200}$/.test(l.table)) throw bad('the table name must be 1 to 200 letters, digits, _ . -');
  if (!Number.isInteger(l.writeShards) || l.writeShards < 1 || l.writeShards > 1000)
    throw bad(`writeShards must be a whole number from 1 to 1000, got ${l.writeShards}`);
  const bucketMs = parseBucket(l.bucket, l.table);
  const r = l.rotation;
  if (r) {
    if (r.period !== 'day' && r.period !== 'month')
      throw bad(`rotation.period must be 'day' or 'month', got '${String(r.period)}'`);
    if (!Number.isInteger(r.retention) || r.retention < 1)
      throw bad(`rotation.retention must be a whole number of periods >= 1, got ${r.retention}`);
    if (r.createAhead !== undefined && (!Number.isInteger(r.createAhead) || r.createAhead < 0))
      throw bad(`rotation.createAhead must be a whole number >= 0, got ${r.createAhead}`);
  }
  return { ...l, bucketMs, createAhead: r?.createAhead ?? 1 };
}
