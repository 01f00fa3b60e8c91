import { TributaryError } from '../../core/errors.js';
import type { TableSpec } from '../../core/tables.js';
import { resolveLayout, type EventTableLayout, type ResolvedLayout } from './options.js';
import { addPeriods, parsePeriodId, periodId, periodStart, type Period } from './period.js';
import { currentSpecs } from './tables.js';

/** What rotation maintenance should do at one instant. All table names are logical. */
export interface RotationPlan {
  readonly period: Period;
  /** Id of the current period, e.g. `2026_11`. */
  readonly current: string;
  /** Id of the oldest period kept; tables of older periods are past retention. */
  readonly oldestKept: string;
  /** Tables that should exist: the current period's and `createAhead` future ones. */
  readonly ensure: readonly TableSpec[];
  /** Of the `existing` names, those of this table's periods older than `oldestKept`, oldest first. Nothing else, ever. */
  readonly drop: readonly string[];
}

/** A view (its `layout`) or a bare layout. */
export type LayoutSource = { readonly layout: EventTableLayout } | EventTableLayout;

export function layoutOf(s: LayoutSource): ResolvedLayout {
  return resolveLayout('layout' in s ? s.layout : s);
}

/**
 * Plans the rotation of an event table at `now`: which period tables should exist (current and
 * ahead) and which of the `existing` ones are past retention. Pure: `maintainRotation` lists the
 * tables and applies the plan. A name is dropped only when it is exactly `${table}_${period id}`
 * of this table's period kind (a day-named table is never taken for a month's, nor
 * `events_archive_2026_01` for a table of `events`).
 *
 * @example
 * ```ts
 * const plan = rotationPlan(events, new Date('2026-11-22T10:00:00Z'), ['events_2026_08', 'events_2026_09', 'events_backup']);
 * // with { period: 'month', retention: 3, createAhead: 1 }:
 * // plan.ensure -> specs of events_2026_11 and events_2026_12; plan.drop -> ['events_2026_08']
 * ```
 */
export function rotationPlan(source: LayoutSource, now: Date, existing: readonly string[] = []): RotationPlan {
  const layout = layoutOf(source);
  const r = layout.rotation;
  if (!r)
    throw new TributaryError(
      'config.invalid',
      `event table '${layout.table}' does not rotate: there is no rotation to plan`,
      { details: { table: layout.table } },
    );
  const current = periodStart(now.getTime(), r.period);
  const oldestKept = addPeriods(current, -(r.retention - 1), r.period);
  const drop = existing
    .map((name) => ({ name, start: tablePeriod(name, layout.table, r.period) }))
    .filter((t): t is { name: string; start: number } => t.start !== undefined && t.start < oldestKept)
    .sort((a, b) => a.start - b.start)
    .map((t) => t.name);
  return {
    period: r.period,
    current: periodId(current, r.period),
    oldestKept: periodId(oldestKept, r.period),
    ensure: currentSpecs(layout, now),
    drop,
  };
}

/** The start of the period a logical name is the table of, or undefined when it is not one of `table`'s period tables. */
export function tablePeriod(name: string, table: string, period: Period): number | undefined {
  if (!name.startsWith(`${table}_`)) return undefined;
  return parsePeriodId(name.slice(table.length + 1), period);
}
