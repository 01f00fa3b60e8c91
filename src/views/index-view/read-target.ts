import type { Clients } from '../../core/clients.js';
import type { TableIO } from '../../core/table-io.js';
import { DynamoTableIO } from '../../sinks/table-io.js';

/** Where a view is read from: the app's clients (a TableIO is made for the table), or a TableIO of the table itself. */
export type ReadTarget = Clients | TableIO;

/** True when the target is a TableIO (bound to one table) rather than clients. */
export const isTableIO = (t: ReadTarget): t is TableIO => typeof (t as Partial<TableIO>).batchGet === 'function';

/**
 * The TableIO to read `logical` with: `target` itself when it is one, otherwise a new one over
 * the clients, for the physical name `tableName(logical)`.
 *
 * @example
 * ```ts
 * const io = readIo(clients, 'user_albums', (n) => `dev_${n}`);
 * ```
 */
export function readIo(
  target: ReadTarget,
  logical: string,
  tableName: (logical: string) => string = (n) => n,
): TableIO {
  return isTableIO(target) ? target : new DynamoTableIO(target.dynamodb, tableName(logical));
}
