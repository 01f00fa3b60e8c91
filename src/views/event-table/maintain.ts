import { CreateTableCommand, DeleteTableCommand } from '@aws-sdk/client-dynamodb';
import type { Clients } from '../../core/clients.js';
import { TributaryError } from '../../core/errors.js';
import { isNotFound } from '../../core/not-found.js';
import { withRetry } from '../../core/retry.js';
import { waitTableActive } from '../../sinks/waiters.js';
import { createTableInput } from '../tables/create-input.js';
import { listTableNames } from '../tables/list.js';
import { layoutOf, rotationPlan, tablePeriod, type LayoutSource, type RotationPlan } from './rotation-plan.js';

/** Options of {@link maintainRotation}. */
export interface MaintainOptions {
  /** The instant to plan for. Default: now. */
  readonly now?: Date;
  /** Environment prefix of physical names (`dev_` makes `events_2026_11` into `dev_events_2026_11`). */
  readonly prefix?: string;
  /** Physical name of a logical one, when a prefix is not enough; the runner's `tableName`. Overrides `prefix`. */
  readonly tableName?: (logical: string) => string;
}

/** What {@link maintainRotation} did; physical names. */
export interface MaintainResult {
  readonly plan: RotationPlan;
  readonly created: readonly string[];
  readonly dropped: readonly string[];
}

/**
 * Keeps a rotating event table's tables in step with time: creates the current and `createAhead`
 * future periods' tables (waiting until they are active) and drops the tables of periods past the
 * retention. Touches only tables whose physical name is exactly the mapping of
 * `${table}_${period id}` of this view: a decoy such as `events_2026_01_backup`, another
 * environment's `prod_events_2026_01` or a day-named table under monthly rotation is never dropped.
 * Run it on a schedule (a daily cron, a timer in the app); it is idempotent.
 *
 * @example
 * ```ts
 * const { created, dropped } = await maintainRotation(events, clients, { prefix: 'prod_' });
 * ```
 */
export async function maintainRotation(
  source: LayoutSource,
  clients: Pick<Clients, 'dynamodb'>,
  options: MaintainOptions = {},
): Promise<MaintainResult> {
  const layout = layoutOf(source);
  const physical = options.tableName ?? ((l: string) => `${options.prefix ?? ''}${l}`);
  const ddb = clients.dynamodb;
  const now = options.now ?? new Date();
  const listed = await withRetry(() => listTableNames(ddb));
  // Back from physical to logical names: only names that map exactly onto one of this table's periods.
  const ours = new Map<string, string>();
  if (layout.rotation) {
    const [pre, post] = splitMapping(physical, layout.table);
    for (const p of listed) {
      if (!p.startsWith(pre) || !p.endsWith(post) || p.length <= pre.length + post.length) continue;
      const logical = `${layout.table}_${p.slice(pre.length, p.length - post.length)}`;
      if (tablePeriod(logical, layout.table, layout.rotation.period) !== undefined && physical(logical) === p)
        ours.set(logical, p);
    }
  }
  const plan = rotationPlan(layout, now, [...ours.keys()]);
  const have = new Set(listed);
  const created: string[] = [];
  for (const spec of plan.ensure) {
    const name = physical(spec.name);
    if (!have.has(name)) {
      try {
        await withRetry(() => ddb.send(new CreateTableCommand(createTableInput(spec, name))));
        created.push(name);
      } catch (e) {
        if ((e as Error).name !== 'ResourceInUseException') throw e;
      }
    }
    await waitTableActive(ddb, name);
  }
  const dropped: string[] = [];
  for (const logical of plan.drop) {
    const name = ours.get(logical)!;
    try {
      await withRetry(() => ddb.send(new DeleteTableCommand({ TableName: name })));
      dropped.push(name);
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
  }
  return { plan, created, dropped };
}

/** The physical name around a period id: what the mapping puts before and after it. */
function splitMapping(physical: (l: string) => string, table: string): [string, string] {
  const mark = '\u0001PERIOD\u0001';
  const parts = physical(`${table}_${mark}`).split(mark);
  if (parts.length !== 2)
    throw new TributaryError(
      'config.invalid',
      `event table '${table}': the table name mapping must keep the logical name inside the physical one`,
      { details: { table } },
    );
  return [parts[0]!, parts[1]!];
}
