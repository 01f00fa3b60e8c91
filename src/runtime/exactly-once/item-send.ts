import type { Effect } from '../../core/effects.js';
import { TributaryError } from '../../core/errors.js';
import type { TableIO } from '../../core/table-io.js';
import type { ItemWrite } from './combine.js';

/** Sends a write; false when its condition failed. */
export async function send(io: TableIO, w: ItemWrite, guard: () => void): Promise<boolean> {
  try {
    if (w.kind === 'update') return await io.update(w.input, w.units, guard);
    if (w.kind === 'put') await io.put(w.input, w.units, guard);
    else await io.delete(w.input, w.units, guard);
    return true;
  } catch (e) {
    if ((e as Error).name === 'ConditionalCheckFailedException') return false;
    throw e;
  }
}

/** `runtime.leaseLost` for a shard (`shardLane`). */
export function lost(lane: string): TributaryError {
  return new TributaryError('runtime.leaseLost', `shard ${lane} is no longer this worker's; its new owner goes on`, {
    details: { shard: lane },
  });
}

/** `sink.effectFailed` for an item; `cause` is the error DynamoDB answered, or why the write cannot go. */
export function effectFailed(e: Effect, cause: unknown): TributaryError {
  const message = typeof cause === 'string' ? cause : ((cause as Error)?.message ?? String(cause));
  return new TributaryError('sink.effectFailed', `write of item ${e.id} to table ${e.table} failed: ${message}`, {
    details: { table: e.table, id: e.id, ...(typeof cause === 'string' ? {} : { error: (cause as Error)?.name }) },
    ...(typeof cause === 'string' ? {} : { cause }),
  });
}
