import { TributaryError } from './errors.js';

/**
 * A bucket (window) length: a positive whole number of seconds, minutes, hours or days, e.g.
 * `'1m'`, `'5m'`, `'1h'`, `'1d'`, `'30s'`.
 */
export type BucketSize = `${number}${'s' | 'm' | 'h' | 'd'}`;

/** A time as a `Date`, epoch milliseconds, or an ISO 8601 string (UTC when it has no offset). */
export type TimeInput = Date | number | string;

const UNIT_MS = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
type Unit = keyof typeof UNIT_MS;

/** Characters of `toISOString()` kept for an id at each unit: `YYYY-MM-DDTHH:MM:SS`, `...:MM`, `...THH`, `YYYY-MM-DD`. */
const ID_LENGTH: Record<Unit, number> = { s: 19, m: 16, h: 13, d: 10 };

/** Years 0000–9999 only: beyond them `toISOString()` adds a sign and ids stop sorting as strings. */
const MIN_MS = Date.parse('0000-01-01T00:00:00.000Z');
const MAX_MS = Date.parse('9999-12-31T23:59:59.999Z');

interface Parsed {
  readonly ms: number;
  readonly unit: Unit;
}

const sizes = new Map<string, Parsed>();

function parseSize(size: string, what = 'bucket size'): Parsed {
  const known = sizes.get(size);
  if (known) return known;
  const m = /^([1-9]\d{0,5})(s|m|h|d)$/.exec(size);
  if (!m)
    throw new TributaryError(
      'config.invalid',
      `invalid ${what} '${size}': use a whole number of s, m, h or d, e.g. '1m', '5m', '1h', '1d'`,
      { details: { size } },
    );
  const unit = m[2] as Unit;
  const parsed = { ms: Number(m[1]) * UNIT_MS[unit], unit };
  sizes.set(size, parsed);
  return parsed;
}

/**
 * Epoch milliseconds of a time input; throws `bucket.invalidTime` when it is not a valid time in
 * years 0000–9999. An ISO string without an offset is read as UTC.
 *
 * @example
 * ```ts
 * toEpochMs('2026-11-22T21:04'); // 1795381440000
 * ```
 */
export function toEpochMs(t: TimeInput): number {
  let ms: number;
  if (t instanceof Date) ms = t.getTime();
  else if (typeof t === 'number') ms = t;
  else if (typeof t === 'string') {
    // `Date.parse` reads a date-time without an offset as local time; a bucket must not depend on the host's zone.
    const s = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/.test(t) ? `${t}Z` : t;
    ms = /^\d{4}-\d{2}-\d{2}/.test(s) ? Date.parse(s) : NaN;
  } else ms = NaN;
  if (!Number.isFinite(ms) || ms < MIN_MS || ms > MAX_MS) {
    throw new TributaryError('bucket.invalidTime', `not a time in years 0000-9999: ${describe(t)}`, {
      details: { time: describe(t) },
    });
  }
  return ms;
}

const describe = (t: unknown): string =>
  t instanceof Date ? String(t.getTime()) : typeof t === 'string' ? JSON.stringify(t) : String(t);

/** The id of the bucket of `unit` precision starting at `startMs`. */
function idOf(startMs: number, unit: Unit): string {
  return new Date(startMs).toISOString().slice(0, ID_LENGTH[unit]);
}

/**
 * The tumbling bucket holding `t`: the bucket's start in UTC, in ISO 8601 cut at the size's unit,
 * so ids sort as strings in time order:
 *
 * | size | id |
 * |---|---|
 * | `'30s'` | `'2026-11-22T21:04:30'` |
 * | `'1m'`, `'5m'` | `'2026-11-22T21:04'`, `'2026-11-22T21:00'` |
 * | `'1h'`, `'6h'` | `'2026-11-22T21'`, `'2026-11-22T18'` |
 * | `'1d'` | `'2026-11-22'` |
 *
 * Buckets are aligned to the Unix epoch (1970-01-01T00:00Z): sizes that divide a minute, an hour
 * or a day start on the minute, the hour or at midnight UTC; other sizes (e.g. `'7d'`, which starts
 * on Thursdays) start at whole multiples of the size since the epoch. A bucket holds
 * `[start, start + size)`. Numbers are epoch milliseconds; strings are ISO 8601, read as UTC when
 * they carry no offset. Throws `bucket.invalidTime` for an invalid time (so a pipeline dead-letters
 * the record) and `config.invalid` for an invalid size.
 *
 * @example
 * ```ts
 * bucket('2026-11-22T21:04:59.999Z', '1m'); // '2026-11-22T21:04'
 * bucket(Date.UTC(2026, 10, 22, 21, 4), '1h'); // '2026-11-22T21'
 * counterView({ table: 'page_views', key: r => ({ page: r.value.page, minute: bucket(r.value.at, '1m') }), ... })
 * ```
 */
export function bucket(t: TimeInput, size: BucketSize): string {
  const { ms, unit } = parseSize(size);
  const at = toEpochMs(t);
  return idOf(Math.floor(at / ms) * ms, unit);
}

/**
 * The hopping (sliding) windows holding `t`: windows `size` long that start every `hop`, so each
 * time falls in `size / hop` windows. Returns their ids, oldest first; a window's id is its start,
 * formatted as {@link bucket} formats a bucket of the hop's unit (a window holds `[start, start + size)`).
 * `size` must be a whole multiple of `hop`. Give every id to a counter to count over each window.
 *
 * @example
 * ```ts
 * hopping('2026-11-22T21:04:30Z', '5m', '1m');
 * // ['2026-11-22T21:00', '2026-11-22T21:01', '2026-11-22T21:02', '2026-11-22T21:03', '2026-11-22T21:04']
 * counterView({ table: 'views_5m', key: r => hopping(r.value.at, '5m', '1m').map(w => ({ page: r.value.page, window: w })), ... })
 * ```
 */
export function hopping(t: TimeInput, size: BucketSize, hop: BucketSize): string[] {
  const s = parseSize(size);
  const h = parseSize(hop, 'hop');
  if (s.ms % h.ms !== 0)
    throw new TributaryError('config.invalid', `window size '${size}' must be a whole multiple of the hop '${hop}'`, {
      details: { size, hop },
    });
  const at = toEpochMs(t);
  const last = Math.floor(at / h.ms) * h.ms;
  const ids: string[] = [];
  for (let start = last - s.ms + h.ms; start <= last; start += h.ms) {
    if (start >= MIN_MS) ids.push(idOf(start, h.unit));
  }
  return ids;
}

/**
 * The start of a bucket id made by {@link bucket} or {@link hopping}, as a `Date`.
 *
 * @example
 * ```ts
 * bucketStart('2026-11-22T21'); // 2026-11-22T21:00:00.000Z
 * ```
 */
export function bucketStart(id: string): Date {
  const full = /^\d{4}-\d{2}-\d{2}$/.test(id)
    ? `${id}T00:00:00Z`
    : /^\d{4}-\d{2}-\d{2}T\d{2}$/.test(id)
      ? `${id}:00:00Z`
      : /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}$/.test(id)
        ? `${id}:00Z`
        : /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$/.test(id)
          ? `${id}Z`
          : '';
  const ms = full ? Date.parse(full) : NaN;
  if (!Number.isFinite(ms))
    throw new TributaryError('bucket.invalidTime', `not a bucket id: ${JSON.stringify(id)}`, { details: { id } });
  return new Date(ms);
}
