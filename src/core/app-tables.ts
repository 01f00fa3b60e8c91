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

/**
 * The DynamoDB tables an app's sources read (by logical name), each with the pipelines reading it:
 * the app reads them, it does not own them, so `tables drop` keeps them unless asked.
 */
export function appSourceTables(app: AppDef): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const p of app.pipelines) {
    const t = p.source.table;
    if (t !== undefined) out.set(t, [...(out.get(t) ?? []), p.name]);
  }
  return out;
}

/**
 * Logical names of the tables `tables drop` leaves alone without `--include-sources`: the tables
 * the app's sources read and those declared under `dev.tables` (sources for `tributary dev`),
 * unless a view writes them.
 */
export function appSourceTableNames(app: AppDef, now: Date = new Date()): Set<string> {
  const views = new Set<string>();
  for (const p of app.pipelines)
    for (const s of p.sinks) if (isView(s)) s.tables(now).forEach((t) => views.add(t.name));
  const names = new Set([...appSourceTables(app).keys(), ...(app.dev?.tables ?? []).map((t) => t.name)]);
  return new Set([...names].filter((n) => !views.has(n)));
}
