import type { AppDef } from './pipeline.js';
import type { TableSpec } from './tables.js';
import { isView } from './view.js';

/**
 * Every table an app declares: its own `tables`, its views' tables and its dev tables, once each
 * by name (the first declaration wins). Lease and dead-letter tables are not included: the runner
 * creates those itself.
 */
export function appTables(app: AppDef, now: Date = new Date()): TableSpec[] {
  const byName = new Map<string, TableSpec>();
  const add = (t: TableSpec) => {
    if (!byName.has(t.name)) byName.set(t.name, t);
  };
  app.tables.forEach(add);
  for (const p of app.pipelines) for (const s of p.sinks) if (isView(s)) s.tables(now).forEach(add);
  app.dev?.tables?.forEach(add);
  return [...byName.values()];
}
