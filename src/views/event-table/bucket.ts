import { bucket, type BucketSize } from '../../core/buckets.js';
import { TributaryError } from '../../core/errors.js';
import { parseDuration } from '../../core/time.js';

export type { BucketSize };

const DAY = 86_400_000;

/**
 * Milliseconds of an event table's bucket size. It must be whole seconds and divide a day evenly,
 * so that buckets align on UTC midnight and never straddle a day (nor, so, a rotation period).
 */
export function parseBucket(size: BucketSize, table = '?'): number {
  let ms: number;
  try {
    ms = parseDuration(size);
  } catch {
    ms = NaN;
  }
  if (!Number.isInteger(ms) || ms < 1000 || ms % 1000 !== 0 || DAY % ms !== 0) {
    throw new TributaryError(
      'config.invalid',
      `event table '${table}': bucket '${size}' must be whole seconds that divide a day evenly (e.g. 1m, 15m, 1h, 1d)`,
      {
        details: { table, bucket: size },
      },
    );
  }
  return ms;
}

/** Start (epoch ms) of the bucket holding `ms`. */
export const bucketFloor = (ms: number, bucketMs: number): number => Math.floor(ms / bucketMs) * bucketMs;

/**
 * The id of the bucket holding `ms`: the framework's time bucket (`core/buckets`), its start in
 * ISO 8601 UTC cut at the size's unit, so ids sort by time: `2026-11-22` (`'1d'`),
 * `2026-11-22T10` (`'1h'`), `2026-11-22T10:15` (`'15m'`).
 */
export const bucketId = (ms: number, size: BucketSize): string => bucket(ms, size);
