import type { SourceEnv } from '../../core/source.js';
import { replay, type ReplayedEvent, type ReplayOptions } from './replay.js';

/**
 * Reads a range of an event table directly, outside any pipeline: the events of `[from, to)` in
 * time order, with the same bounded memory as a {@link replay} (which it reads through, from its
 * start, without checkpoints). For reports, scripts and request handlers.
 *
 * @example
 * ```ts
 * for await (const e of readEvents({ view: clicksLog, from: new Date(Date.now() - 60_000) }, { clients, tableName: (n) => n })) {
 *   console.log(e.time.toISOString(), e.value);
 * }
 * ```
 */
export async function* readEvents<P = unknown>(
  options: ReplayOptions<P>,
  env: Pick<SourceEnv, 'clients' | 'tableName'>,
  signal?: AbortSignal,
): AsyncGenerator<ReplayedEvent<P>, void, undefined> {
  const bound = await replay<P>(options).bind(env);
  const [shard] = await bound.listShards();
  const reader = await bound.openShard(shard!, { kind: 'TRIM_HORIZON' });
  const never = new AbortController().signal;
  for (;;) {
    if (signal?.aborted) return;
    const batch = await reader.next(signal ?? never);
    yield* batch.records;
    if (batch.ended) return;
  }
}
