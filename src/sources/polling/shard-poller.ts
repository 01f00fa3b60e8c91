import type { Batch, Rejected } from '../../core/batch.js';
import type { Checkpoint } from '../../core/position.js';
import type { SourceRecord } from '../../core/records.js';
import type { ShardReader, SourceEvent } from '../../core/source.js';
import { Pacer } from '../pacing.js';
import { isTransient, withRetry } from '../../core/retry.js';
import type { ShardAdapter } from './shard-adapter.js';

/** Which shard a poller reads, as its events and batches name it. */
export interface PolledShard {
  /** The source's name as declared in the app. */
  readonly source: string;
  readonly shardId: string;
}

/**
 * Reads one shard of a polled stream (DynamoDB Streams, Kinesis) in order, one GetRecords per
 * batch, through the service's `ShardAdapter`. The loop is the same for every service: it paces
 * reads (immediate while behind, backing off while idle or throttled), retries transient errors,
 * re-acquires an expired iterator from the last position handed out, reads on from the trim
 * horizon when its position was trimmed away, and reports each of these as a `SourceEvent`
 * named by source and shard.
 *
 * @example
 * ```ts
 * const reader = new ReadAhead(new ShardPoller(adapter, { source: 'orders', shardId }, checkpoint, env.onEvent));
 * const batch = await reader.next(signal);
 * ```
 */
export class ShardPoller<R extends SourceRecord, P> implements ShardReader<R> {
  private iterator: string | undefined;
  private ended: boolean;
  private seq = 0;
  /** The lag handed out last, so an empty page at a different lag (caught up) is reported once. */
  private reportedLag: number | undefined;
  /** Where to acquire an iterator again: after the last record handed out, or the start. */
  private resumeFrom: Checkpoint;
  private readonly pacer: Pacer;

  constructor(
    private readonly adapter: ShardAdapter<R, P>,
    private readonly shard: PolledShard,
    from: Checkpoint,
    private readonly onEvent: ((e: SourceEvent) => void) | undefined,
  ) {
    this.resumeFrom = from;
    this.ended = from.kind === 'SHARD_END';
    this.pacer = new Pacer(adapter.pacing);
  }

  async next(signal: AbortSignal): Promise<Batch<R> & { ended: boolean }> {
    const { source, shardId } = this.shard;
    while (!this.ended && !signal.aborted) {
      await this.pacer.beforeRead(signal);
      if (signal.aborted) break;
      if (!this.iterator) this.iterator = await this.acquire();
      if (!this.iterator) {
        this.ended = true;
        break;
      }
      const page = await this.read(this.iterator, signal);
      if (page === undefined) continue;
      const parsed = await this.adapter.parse(page);
      if (parsed.trimmed) this.reportTrimmed();
      this.iterator = parsed.nextIterator;
      this.pacer.afterRead(parsed.behind);
      if (!this.iterator) this.ended = true;
      if (parsed.resumeFrom) this.resumeFrom = parsed.resumeFrom;
      const { records, rejected, millisBehind } = parsed;
      if (parsed.resumeFrom || this.ended) {
        this.onEvent?.({ type: 'fetched', source, shardId, count: records.length + rejected.length, millisBehind });
        return this.batch(records, rejected, this.ended ? { kind: 'SHARD_END' } : this.resumeFrom, millisBehind);
      }
      // An empty page whose lag differs from the last one handed out (most often: the tip was reached) is handed
      // out empty, without a checkpoint, so the lag shown falls to 0 instead of keeping the last page's.
      if (millisBehind !== undefined && millisBehind !== this.reportedLag) {
        this.onEvent?.({ type: 'fetched', source, shardId, count: 0, millisBehind });
        return this.batch([], [], undefined, millisBehind);
      }
    }
    return this.batch([], [], this.ended ? { kind: 'SHARD_END' } : undefined, undefined);
  }

  /**
   * One GetRecords, transient errors retried. Undefined when the loop must go round again: the
   * iterator expired or was trimmed (acquired again next round), or the read was throttled (the
   * pacer waits before the next one).
   */
  private async read(iterator: string, signal: AbortSignal): Promise<P | undefined> {
    const { source, shardId } = this.shard;
    try {
      // Throttling is not retried here: the pacer backs off, and the read is reported.
      return await withRetry(() => this.adapter.getRecords(iterator), {
        signal,
        retryable: (e) => this.adapter.classify(e) !== 'throttled' && isTransient(e),
      });
    } catch (e) {
      const failure = this.adapter.classify(e);
      if (failure === 'throttled') {
        this.onEvent?.({ type: 'throttled', source, shardId });
        this.pacer.throttled();
        return undefined;
      }
      if (failure === 'expired') {
        this.onEvent?.({ type: 'iteratorExpired', source, shardId });
        this.iterator = undefined;
        return undefined;
      }
      if (failure === 'trimmed') {
        this.reportTrimmed();
        this.iterator = undefined;
        this.resumeFrom = { kind: 'TRIM_HORIZON' };
        return undefined;
      }
      // 'gone' is not believed here: with an iterator in hand, the shard is failed (and retried by the
      // runner) rather than checkpointed at SHARD_END while it may still hold records.
      throw e;
    }
  }

  /** An iterator at `resumeFrom`, or undefined when the shard is gone (aged out of the stream). */
  private async acquire(): Promise<string | undefined> {
    for (;;) {
      try {
        return await withRetry(() => this.adapter.iterator(this.resumeFrom));
      } catch (e) {
        const failure = this.adapter.classify(e);
        if (failure !== 'trimmed' && failure !== 'gone') throw e;
        this.reportTrimmed();
        if (failure === 'gone') return undefined;
        this.resumeFrom = { kind: 'TRIM_HORIZON' };
      }
    }
  }

  /**
   * Reports records lost to the trim horizon, which happens only when the position read from is a
   * record read before (a checkpoint, or the last record handed out). From TRIM_HORIZON, LATEST or a
   * timestamp nothing was read yet, so a trimmed or aged-out shard loses nothing: the start already
   * meant "whatever the stream still holds" (a first start on a fresh stream must not cry data loss).
   */
  private reportTrimmed(): void {
    if (this.resumeFrom.kind !== 'sequence') return;
    const { source, shardId } = this.shard;
    this.onEvent?.({ type: 'trimmedData', source, shardId, checkpoint: this.resumeFrom });
  }

  private batch(
    records: R[],
    rejected: Rejected[],
    checkpoint: Checkpoint | undefined,
    millisBehind: number | undefined,
  ): Batch<R> & { ended: boolean } {
    const { source, shardId } = this.shard;
    if (millisBehind !== undefined) this.reportedLag = millisBehind;
    return { source, shardId, seq: this.seq++, records, rejected, checkpoint, millisBehind, ended: this.ended };
  }
}
