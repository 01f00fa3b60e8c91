import type { RotationOptions } from './options.js';

/** A rotation period: one UTC day or one UTC month. */
export type Period = RotationOptions['period'];

const DAY = 86_400_000;
const pad = (n: number, w = 2) => String(n).padStart(w, '0');

/** Start (epoch ms, UTC) of the period holding `ms`. */
export function periodStart(ms: number, period: Period): number {
  const d = new Date(ms);
  return period === 'day' ? Math.floor(ms / DAY) * DAY : Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
}

/** Start of the period `k` periods after (or before, when negative) the one starting at `start`. */
export function addPeriods(start: number, k: number, period: Period): number {
  if (period === 'day') return start + k * DAY;
  const d = new Date(start);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + k, 1);
}

/** The period's id, as it ends a table name: `2026_11` (month) or `2026_11_22` (day). */
export function periodId(ms: number, period: Period): string {
  const d = new Date(ms);
  const ym = `${pad(d.getUTCFullYear(), 4)}_${pad(d.getUTCMonth() + 1)}`;
  return period === 'day' ? `${ym}_${pad(d.getUTCDate())}` : ym;
}

/** The start of the period an id names; undefined when `id` is not exactly such an id (`2026_13`, `2026_11_22` for months...). */
export function parsePeriodId(id: string, period: Period): number | undefined {
  const m = (period === 'day' ? /^(\d{4})_(\d{2})_(\d{2})$/ : /^(\d{4})_(\d{2})$/).exec(id);
  if (!m) return undefined;
  const start = Date.UTC(Number(m[1]), Number(m[2]) - 1, m[3] ? Number(m[3]) : 1);
  // Round trip: rejects months and days out of range (Date.UTC would roll them over).
  return periodId(start, period) === id && Number(m[1]) >= 1970 ? start : undefined;
}

/** Logical name of the table of one period: `${table}_${periodId}`. */
export const periodTable = (table: string, ms: number, period: Period): string => `${table}_${periodId(ms, period)}`;

/** An IAM name pattern matching every period's table and no other: `${table}_????_??` (month), `${table}_????_??_??` (day). */
export const periodTablePattern = (table: string, period: Period): string =>
  `${table}_${period === 'day' ? '????_??_??' : '????_??'}`;
