import type { TableSpec } from '../../core/tables.js';
import type { ResolvedLayout } from './options.js';
import { addPeriods, periodStart, periodTable } from './period.js';

/** Partition and sort key attributes of every event table. */
export const PK = 'pk';
export const SK = 'sk';

/** The spec of one event table (one period's, when it rotates). */
export function eventTableSpec(name: string, layout: ResolvedLayout): TableSpec {
  return {
    name,
    partitionKey: { name: PK, type: 'S' },
    sortKey: { name: SK, type: 'S' },
    ...(layout.provisioned ? { provisioned: layout.provisioned } : {}),
  };
}

/** The tables that should exist at `now`: the table, or the current period's and `createAhead` future ones. */
export function currentSpecs(layout: ResolvedLayout, now: Date): TableSpec[] {
  const r = layout.rotation;
  if (!r) return [eventTableSpec(layout.table, layout)];
  const start = periodStart(now.getTime(), r.period);
  return Array.from({ length: 1 + layout.createAhead }, (_, k) =>
    eventTableSpec(periodTable(layout.table, addPeriods(start, k, r.period), r.period), layout),
  );
}
