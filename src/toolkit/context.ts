import type { Clients } from '../core/clients.js';
import type { TableIO } from '../core/table-io.js';

/**
 * What the toolkit's primitives (atoms, batches) write through: the clients, the environment's
 * table names, and one governed `TableIO` per table, so that their writes share each table's
 * capacity budget with the process's pipelines. Made by `toolkit(clients, options)`.
 */
export interface Toolkit {
  readonly clients: Clients;
  /** Physical name of a logical table (with the environment prefix). */
  tableName(logical: string): string;
  /** The governed I/O of a logical table. */
  io(logical: string): TableIO;
}
