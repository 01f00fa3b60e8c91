import { createHash } from 'node:crypto';
import { TributaryError } from '../../core/errors.js';
import { utf8Bytes } from '../../core/key-rules.js';
import { bucketId, type BucketSize } from './bucket.js';

/** Earliest and latest instants an event may carry: ISO timestamps keep a fixed width (and so sort) in this range. */
export const MIN_TIME = 0;
export const MAX_TIME = Date.UTC(9999, 11, 31, 23, 59, 59, 999);

/**
 * Longest event id, in UTF-8 bytes: the sort key (24-character timestamp, `#`, id) must stay under
 * DynamoDB's 1,024 bytes (`MAX_SORT_KEY_BYTES` of the key rules).
 */
export const MAX_ID_BYTES = 512;

/** Where one event is stored. */
export interface EventKey {
  /** `${bucketId}#${suffix}` */
  readonly pk: string;
  /** `${ISO timestamp}#${eventId}`: sorts by time, then id. */
  readonly sk: string;
  readonly bucket: string;
  readonly suffix: number;
}

/** The fixed-width sortable timestamp of the sort key: ISO 8601 in UTC with milliseconds. */
export const timestamp = (ms: number): string => new Date(ms).toISOString();

/**
 * Checks and normalises an event's time; an invalid one fails with `view.invalidEvent` (the runner
 * dead-letters the record that produced it).
 */
export function eventTime(t: unknown, table: string): number {
  const ms = t instanceof Date ? t.getTime() : typeof t === 'number' ? new Date(t).getTime() : NaN;
  if (!Number.isFinite(ms) || ms < MIN_TIME || ms > MAX_TIME) {
    throw new TributaryError(
      'view.invalidEvent',
      `event table '${table}': the event's time must be a valid Date or epoch milliseconds between 1970 and 9999, got ${describe(t)}`,
      {
        details: { table, time: describe(t) },
      },
    );
  }
  return ms;
}

/** Checks an event id: a non-empty string of at most {@link MAX_ID_BYTES} bytes. */
export function eventId(id: unknown, table: string): string {
  if (typeof id !== 'string' || id === '' || utf8Bytes(id) > MAX_ID_BYTES) {
    throw new TributaryError(
      'view.invalidEvent',
      `event table '${table}': the event id must be a non-empty string of at most ${MAX_ID_BYTES} bytes, got ${describe(id)}`,
      {
        details: { table, id: describe(id) },
      },
    );
  }
  return id;
}

/** The write-shard suffix of an event: a hash of its id, so a retried event always lands on the same partition. */
export function suffixOf(id: string, writeShards: number): number {
  return createHash('sha256').update(id, 'utf8').digest().readUInt32BE(0) % writeShards;
}

/** The key of an event at `ms` with id `id`. */
export function eventKey(ms: number, id: string, size: BucketSize, writeShards: number): EventKey {
  const bucket = bucketId(ms, size);
  const suffix = suffixOf(id, writeShards);
  return { pk: `${bucket}#${suffix}`, sk: `${timestamp(ms)}#${id}`, bucket, suffix };
}

/** The time (epoch ms) a sort key (or a bare timestamp) encodes. */
export function sortKeyTime(sk: string): number {
  const ms = Date.parse(sk.slice(0, 24));
  if ((sk.length > 24 && sk[24] !== '#') || !Number.isFinite(ms))
    throw new TributaryError('config.invalid', `not an event table sort key: '${sk}'`, { details: { sk } });
  return ms;
}

function describe(v: unknown): string {
  if (v instanceof Date) return Number.isNaN(v.getTime()) ? 'Invalid Date' : `${v.toISOString()} (Date)`;
  const s = typeof v === 'string' ? JSON.stringify(v.length > 60 ? `${v.slice(0, 60)}…` : v) : String(v);
  return `${s} (${v === null ? 'null' : typeof v})`;
}
