import type { Clients } from '../../core/clients.js';
import type { Clock } from '../../core/clock.js';
import type { RuntimeSettings } from '../../core/runtime-settings.js';
import type { Logger } from '../../observe/log.js';
import type { Metrics } from '../../observe/metrics.js';
import { DynamoTableIO } from '../../sinks/table-io.js';
import { TableGovernor } from './governor.js';

/** What {@link GovernedTables} needs: where the tables are, their budgets, and where to report. */
export interface GovernedTablesDeps {
  readonly clients: Clients;
  /** Budgets by logical table name (`'*'` for the rest), as `RuntimeSettings.capacity`. */
  readonly capacity: NonNullable<RuntimeSettings['capacity']>;
  readonly tableName: (logical: string) => string;
  readonly metrics: Metrics;
  readonly log: Logger;
  readonly clock: Clock;
  /** Once aborted, calls in flight are cancelled and nothing is retried. */
  readonly signal?: AbortSignal;
}

/**
 * One capacity governor and one governed `TableIO` per physical table: what the runner's sinks and
 * views write through, and the toolkit's primitives too, so that every write of a process to a
 * table shares that table's budget.
 *
 * @example
 * ```ts
 * const tables = new GovernedTables({ clients, capacity: {}, tableName: (n) => n, metrics, log, clock: systemClock });
 * await tables.io('page_clicks').update({ Key: ..., UpdateExpression: 'ADD clicks :n', ... });
 * tables.stop();
 * ```
 */
export class GovernedTables {
  private readonly governors = new Map<string, TableGovernor>();
  private readonly ios = new Map<string, DynamoTableIO>();

  constructor(private readonly deps: GovernedTablesDeps) {}

  /** The governed I/O of a physical table. */
  io(physicalTable: string): DynamoTableIO {
    let io = this.ios.get(physicalTable);
    if (!io) {
      const { clients, signal } = this.deps;
      io = new DynamoTableIO(
        clients.dynamodbData ?? clients.dynamodb,
        physicalTable,
        this.governor(physicalTable),
        signal,
      );
      this.ios.set(physicalTable, io);
    }
    return io;
  }

  /** The capacity governor of a physical table, started on first use. */
  governor(physicalTable: string): TableGovernor {
    let g = this.governors.get(physicalTable);
    if (!g) {
      const { capacity, tableName } = this.deps;
      const configured = Object.entries(capacity).find(
        ([logical]) => logical !== '*' && tableName(logical) === physicalTable,
      );
      const config = configured?.[1] ?? capacity['*'] ?? {};
      g = new TableGovernor(
        this.deps.clients.dynamodb,
        physicalTable,
        config,
        this.deps.metrics,
        this.deps.log,
        this.deps.clock,
        this.deps.signal,
      );
      this.governors.set(physicalTable, g);
      void g.start();
    }
    return g;
  }

  /** Every governor so far. */
  all(): readonly TableGovernor[] {
    return [...this.governors.values()];
  }

  /** Stops the governors' refresh timers. */
  stop(): void {
    for (const g of this.governors.values()) g.stop();
  }
}
