import { TributaryError } from '../../core/errors.js';
import type { TableIO } from '../../core/table-io.js';
import type { CounterUpdate } from './coalesce.js';

/**
 * Sends a flush's updates through the table's TableIO, `concurrency` at a time. TableIO retries
 * throttling and transient errors without limit, so an update that fails here fails for good
 * (e.g. the item holds a non-number in a counter attribute): it is reported as `view.updateFailed`
 * for its key, and the other updates still go.
 *
 * @example
 * ```ts
 * const failed = await applyUpdates(io, 'page_views', toUpdates(fields, sums), 16);
 * ```
 */
export async function applyUpdates(
  io: TableIO,
  table: string,
  updates: readonly CounterUpdate[],
  concurrency: number,
): Promise<Map<string, Error>> {
  const failed = new Map<string, Error>();
  let next = 0;
  const worker = async () => {
    while (next < updates.length) {
      const u = updates[next++]!;
      try {
        await io.update(u.input);
      } catch (e) {
        failed.set(
          u.id,
          new TributaryError(
            'view.updateFailed',
            `counter view '${table}': UpdateItem for key ${u.id} failed: ${(e as Error)?.message ?? String(e)}`,
            {
              details: { table, key: u.id, error: (e as Error)?.name },
              cause: e,
            },
          ),
        );
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, updates.length) }, worker));
  return failed;
}
