import { TributaryError } from '../../core/errors.js';

/**
 * Where a replay stands: the end it runs to (fixed when it first started) and the bucket and sort
 * key of the last event emitted. Stored as the lease's sequence number:
 * `replay|<end ISO>|<bucket id>|<sort key>` (the sort key last: an event id may hold `|`).
 */
export interface ReplayCursor {
  readonly end: number;
  readonly bucket: string;
  readonly sk: string;
}

const TAG = 'replay';

export function encodeCursor(c: ReplayCursor): string {
  return `${TAG}|${new Date(c.end).toISOString()}|${c.bucket}|${c.sk}`;
}

export function decodeCursor(s: string): ReplayCursor {
  const parts = s.split('|');
  const end = Date.parse(parts[1] ?? '');
  if (parts[0] !== TAG || parts.length < 4 || !Number.isFinite(end)) {
    throw new TributaryError(
      'config.invalid',
      `not a replay checkpoint: '${s}' (was the source renamed from another kind of source?)`,
      { details: { checkpoint: s } },
    );
  }
  return { end, bucket: parts[2]!, sk: parts.slice(3).join('|') };
}
