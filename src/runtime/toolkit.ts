import type { Clients } from '../core/clients.js';
import { systemClock } from '../core/clock.js';
import type { CapacityConfig } from '../core/runtime-settings.js';
import { jsonLogger, type Logger } from '../observe/log.js';
import { Metrics } from '../observe/metrics.js';
import type { Toolkit } from '../toolkit/context.js';
import { tablePrefix } from '../views/tables/naming.js';
import { GovernedTables } from './capacity/governed-tables.js';

/** Options of {@link toolkit}. */
export interface ToolkitOptions {
  /** Environment prefix of the tables' physical names (`dev_` makes `dev_atoms`). Default none. */
  readonly prefix?: string;
  /** Budgets by logical table name (`'*'` for the rest), as an app's `runtime.capacity`. Default: each table's provisioned capacity. */
  readonly capacity?: Readonly<Record<string, CapacityConfig>>;
  /** Where the governors report (capacity metrics). Default a registry of its own. */
  readonly metrics?: Metrics;
  readonly log?: Logger;
}

/** A toolkit context and the way to end it. */
export interface ToolkitHandle extends Toolkit {
  readonly metrics: Metrics;
  /** Stops the governors' refresh timers. */
  stop(): void;
}

/**
 * The context the toolkit's primitives (`atom`, `batch`) write through: every table's writes and
 * reads go through a capacity governor (its provisioned capacity, or a configured budget, shrunk
 * on throttling), under the environment prefix.
 *
 * @example
 * ```ts
 * const tk = toolkit(createClients(), { prefix: 'dev_' });
 * const visits = atom<number>(tk, 'atoms', { id: 'visits' });
 * await visits.swap((n = 0) => n + 1);
 * tk.stop();
 * ```
 */
export function toolkit(clients: Clients, options: ToolkitOptions = {}): ToolkitHandle {
  const physical = tablePrefix(options.prefix).physical;
  const metrics = options.metrics ?? new Metrics();
  const tables = new GovernedTables({
    clients,
    capacity: options.capacity ?? {},
    tableName: physical,
    metrics,
    log: options.log ?? jsonLogger(),
    clock: systemClock,
  });
  return {
    clients,
    metrics,
    tableName: physical,
    io: (logical) => tables.io(physical(logical)),
    stop: () => tables.stop(),
  };
}
