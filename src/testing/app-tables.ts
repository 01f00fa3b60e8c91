import { appTables } from '../core/app-tables.js';
import type { Clients } from '../core/clients.js';
import type { AppDef } from '../core/pipeline.js';
import { tablePrefix } from '../views/tables/naming.js';
import { createStream, createTable } from './tables.js';

/** Options of {@link createAppTables}. */
export interface CreateAppTablesOptions {
  /**
   * Environment prefix of the tables' physical names (`t1_` makes `t1_shop_orders`), so tests
   * sharing one emulator do not share tables. Give the runner the same prefix:
   * `tableName: tablePrefix('t1_').physical`. Kinesis streams keep their names.
   */
  readonly prefix?: string;
}

/**
 * Creates, on the emulators (or any account the clients reach), every table and stream an app
 * needs to start: the tables it declares (`tables`, and `dev.tables`, where source tables with
 * their streams are declared), its views' tables, and its `dev.streams`; each waited for until
 * ACTIVE. Tables and streams that exist are left as they are. The lease and dead-letter tables
 * are not created here: the runner creates them at start. A source table declared nowhere cannot
 * be created (its keys are unknown) and makes the runner refuse to start with `source.notFound`.
 *
 * @example
 * ```ts
 * const clients = createClients({ dynamodbEndpoint, kinesisEndpoint, region: 'us-east-1' });
 * await createAppTables(clients, shop);
 * const runner = new Runner(shop, { clients });
 * await runner.start();
 * ```
 */
export async function createAppTables(
  clients: Clients,
  app: AppDef,
  options: CreateAppTablesOptions = {},
): Promise<void> {
  const physical = tablePrefix(options.prefix).physical;
  await Promise.all([
    ...appTables(app).map((t) => createTable(clients.dynamodb, t, physical(t.name))),
    ...(app.dev?.streams ?? []).map((s) => createStream(clients.kinesis, s.name, s.shards)),
  ]);
}
