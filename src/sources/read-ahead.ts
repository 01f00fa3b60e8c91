import type { Batch } from '../core/batch.js';
import type { SourceRecord } from '../core/records.js';
import type { ShardReader } from '../core/source.js';

type Fetched<R extends SourceRecord> =
  | { readonly ok: true; readonly batch: Batch<R> & { readonly ended: boolean } }
  | { readonly ok: false; readonly error: unknown };

/**
 * Keeps one fetch of a shard in flight ahead of the consumer while the shard is behind (the last
 * batch had records): the next GetRecords travels, and the service works on it, while the runner
 * processes the current batch, as the KCL's prefetching publisher does. At most one batch is read
 * ahead, and only after the previous one was taken, so the reader's state moves in order and the
 * runner's bound on batches in flight still holds memory to one page more. An idle shard is not
 * read ahead: its polls wait for the consumer, as before.
 *
 * @example
 * ```ts
 * const reader = new ReadAhead(new ShardPoller(adapter, shard, checkpoint, env.onEvent));
 * const batch = await reader.next(signal); // the following fetch is already under way
 * ```
 */
export class ReadAhead<R extends SourceRecord> implements ShardReader<R> {
  private pending: Promise<Fetched<R>> | undefined;

  constructor(private readonly inner: ShardReader<R>) {}

  async next(signal: AbortSignal): Promise<Batch<R> & { readonly ended: boolean }> {
    const ahead = this.pending ?? this.fetch(signal);
    this.pending = undefined;
    const got = await ahead;
    if (!got.ok) throw got.error;
    const batch = got.batch;
    if (!batch.ended && batch.records.length + batch.rejected.length > 0 && !signal.aborted)
      this.pending = this.fetch(signal);
    return batch;
  }

  /** One fetch, its failure kept as a value: a read-ahead that nobody takes must not reject unheard. */
  private fetch(signal: AbortSignal): Promise<Fetched<R>> {
    return this.inner.next(signal).then(
      (batch) => ({ ok: true, batch }),
      (error: unknown) => ({ ok: false, error }),
    );
  }
}
