import { TributaryError } from '../../core/errors.js';
import { wholeNumber } from './checks.js';
import type { Window } from './window.js';

/** Fixed windows `sizeMs` long, one after the other: each record is in exactly one. */
export interface TumblingWindows {
  readonly kind: 'tumbling';
  readonly sizeMs: number;
}

/** Fixed windows `sizeMs` long starting every `hopMs`: each record is in `sizeMs / hopMs` of them. */
export interface HoppingWindows {
  readonly kind: 'hopping';
  readonly sizeMs: number;
  readonly hopMs: number;
}

/**
 * Sessions per key: a key's records less than `gapMs` apart are in one session, which ends
 * `gapMs` after its last record (`[first, last + gapMs)`).
 */
export interface SessionWindows {
  readonly kind: 'session';
  readonly gapMs: number;
}

/**
 * Which windows a record belongs to, by its event time. Plain data (JSON), so that two workers can
 * check that the partial states they merge were made by the same definition.
 */
export type WindowAssigner = TumblingWindows | HoppingWindows | SessionWindows;

/** The assigners whose windows depend on the record's time only, not on other records. */
export type FixedWindows = TumblingWindows | HoppingWindows;

/**
 * Tumbling windows of `sizeMs`, aligned to the Unix epoch: `[k * sizeMs, (k + 1) * sizeMs)`.
 * Throws `config.invalid` unless `sizeMs` is a positive whole number.
 *
 * @example
 * ```ts
 * const perMinute = tumblingWindows(60_000);
 * windowsOf(perMinute, 90_000); // [{ start: 60_000, end: 120_000 }]
 * ```
 */
export function tumblingWindows(sizeMs: number): TumblingWindows {
  return Object.freeze({ kind: 'tumbling', sizeMs: wholeNumber('tumblingWindows: sizeMs', sizeMs, 1) });
}

/**
 * Hopping (sliding) windows `sizeMs` long that start every `hopMs`, aligned to the Unix epoch, so
 * a record is in `sizeMs / hopMs` windows. `sizeMs` must be a whole multiple of `hopMs` (as for
 * the `hopping` bucket ids of `src/core/buckets.ts`); throws `config.invalid` otherwise.
 *
 * @example
 * ```ts
 * const last5m = hoppingWindows(300_000, 60_000); // a 5-minute window every minute
 * windowsOf(last5m, 330_000).length; // 5: [60_000, 360_000) ... [300_000, 600_000)
 * ```
 */
export function hoppingWindows(sizeMs: number, hopMs: number): HoppingWindows {
  wholeNumber('hoppingWindows: sizeMs', sizeMs, 1);
  wholeNumber('hoppingWindows: hopMs', hopMs, 1);
  if (sizeMs % hopMs !== 0)
    throw new TributaryError(
      'config.invalid',
      `hoppingWindows: sizeMs (${sizeMs}) must be a whole multiple of hopMs (${hopMs})`,
      { details: { sizeMs, hopMs } },
    );
  return Object.freeze({ kind: 'hopping', sizeMs, hopMs });
}

/**
 * Session windows per key with an inactivity gap of `gapMs`: a record opens `[t, t + gapMs)`, and
 * sessions of the same key that overlap are merged, also when a late record bridges two of them.
 * Records exactly `gapMs` apart are in two sessions (windows are end-exclusive). Throws
 * `config.invalid` unless `gapMs` is a positive whole number.
 *
 * @example
 * ```ts
 * const visits = sessionWindows(30 * 60_000); // a visit ends after 30 minutes without a click
 * ```
 */
export function sessionWindows(gapMs: number): SessionWindows {
  return Object.freeze({ kind: 'session', gapMs: wholeNumber('sessionWindows: gapMs', gapMs, 1) });
}

/**
 * The fixed windows holding event time `t`, oldest first.
 *
 * @example
 * ```ts
 * windowsOf(hoppingWindows(10, 5), 12); // [{ start: 5, end: 15 }, { start: 10, end: 20 }]
 * ```
 */
export function windowsOf(assigner: FixedWindows, t: number): Window[] {
  const size = assigner.sizeMs;
  const hop = assigner.kind === 'hopping' ? assigner.hopMs : size;
  const last = Math.floor(t / hop) * hop;
  const out: Window[] = [];
  for (let start = last - size + hop; start <= last; start += hop) out.push({ start, end: start + size });
  return out;
}
