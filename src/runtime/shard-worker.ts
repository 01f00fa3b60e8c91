import type { Batch } from '../core/batch.js';
import type { Checkpoint } from '../core/position.js';
import type { BoundSource, ShardInfo } from '../core/source.js';
import type { Logger } from '../observe/log.js';
import type { Metrics } from '../observe/metrics.js';
import type { DeadLetterTable } from '../sinks/dead-letters.js';
import type { LeaseKeeper } from './leases/keeper.js';
import type { PipelineExecutor } from './pipeline-executor.js';

export interface ShardWorkerOptions {
  /** Batches of one shard being processed at once; also bounds prefetch, and so memory. Default 4. */
  readonly maxBatchesInFlight: number;
  /** Least time between two checkpoint writes while records flow. Default 1,000 ms. */
  readonly checkpointIntervalMs: number;
}

export type ShardOutcome = 'ended' | 'stopped' | 'lost' | 'failed';

interface InFlight {
  readonly batch: Batch;
  state: 'pending' | 'done' | 'failed';
  error?: unknown;
  readonly settled: Promise<void>;
}

/**
 * Reads one shard and feeds every pipeline of its source. Fetches only while fewer than
 * `maxBatchesInFlight` batches await acknowledgement (pull-based backpressure) and moves the
 * checkpoint in order, never past a batch that is not acknowledged.
 */
export class ShardWorker {
  private readonly fetching = new AbortController();
  private readonly inflight: InFlight[] = [];
  private committed: Checkpoint | undefined;
  private target: Checkpoint | undefined;
  private targetBehind: number | undefined;
  private writing: Promise<void> | undefined;
  private commitTimer: NodeJS.Timeout | undefined;
  /** performance.now() of the last checkpoint write (monotonic: a wall clock step changes nothing). */
  private lastCommitAt = -Infinity;
  /** Set once the final commit has begun: no timer may be armed after it. */
  private closing = false;
  private lost = false;
  private failure: unknown;
  private wake: (() => void) | undefined;

  constructor(
    readonly leaseKey: string,
    private readonly shard: ShardInfo,
    private readonly from: Checkpoint,
    private readonly source: BoundSource,
    private readonly executors: readonly PipelineExecutor[],
    private readonly deps: {
      keeper: LeaseKeeper;
      deadLetters: DeadLetterTable;
      metrics: Metrics;
      log: Logger;
      app: string;
    },
    private readonly opts: ShardWorkerOptions,
  ) {}

  /** Stops fetching; `run()` then drains what is in flight, checkpoints, and resolves. */
  stop(): void {
    this.fetching.abort();
    this.wake?.();
  }

  /** The lease was lost: stop at once, and never checkpoint again. */
  leaseLost(): void {
    this.lost = true;
    this.stop();
  }

  async run(): Promise<{ outcome: ShardOutcome; error?: unknown }> {
    const labels = { source: this.source.name, shard: this.shard.shardId };
    let ended = false;
    try {
      const reader = await this.source.openShard(this.shard, this.from);
      while (!this.fetching.signal.aborted && this.failure === undefined) {
        while (
          this.inflight.length >= this.opts.maxBatchesInFlight &&
          this.failure === undefined &&
          !this.fetching.signal.aborted
        ) {
          await new Promise<void>((r) => {
            this.wake = r;
            void this.inflight[0]?.settled.then(r);
          });
        }
        if (this.fetching.signal.aborted || this.failure !== undefined) break;
        const batch = await reader.next(this.fetching.signal);
        if (batch.records.length > 0 || batch.rejected.length > 0 || batch.checkpoint) {
          this.deps.metrics.inc('tributary_batches_total', labels);
          if (batch.millisBehind !== undefined)
            this.deps.metrics.set('tributary_behind_seconds', labels, batch.millisBehind / 1000);
          this.dispatch(batch);
        }
        if (batch.ended) {
          ended = true;
          break;
        }
      }
      await Promise.all(this.inflight.map((f) => f.settled));
      await this.commit(true);
      if (this.lost) return { outcome: 'lost' };
      if (this.failure !== undefined) return { outcome: 'failed', error: this.failure };
      return { outcome: ended && this.committed?.kind === 'SHARD_END' ? 'ended' : 'stopped' };
    } catch (e) {
      this.fetching.abort();
      this.closing = true;
      this.clearTimer();
      return { outcome: this.lost ? 'lost' : 'failed', error: e };
    }
  }

  private dispatch(batch: Batch): void {
    const work = Promise.all([this.deadLetterRejected(batch), ...this.executors.map((x) => x.process(batch))]);
    const f: InFlight = {
      batch,
      state: 'pending',
      settled: work.then(
        () => {
          f.state = 'done';
          this.advance();
        },
        (e: unknown) => {
          f.state = 'failed';
          f.error = e;
          this.failure ??= e;
          this.fetching.abort();
        },
      ),
    };
    this.inflight.push(f);
  }

  private async deadLetterRejected(batch: Batch): Promise<void> {
    if (batch.rejected.length === 0) return;
    await this.deps.deadLetters.write(
      batch.rejected.map((r) => ({
        app: this.deps.app,
        pipeline: `source:${batch.source}`,
        stage: 'decode' as const,
        code: r.code,
        message: r.reason,
        position: r.position,
        record: r.raw,
      })),
    );
    this.deps.metrics.inc(
      'tributary_dead_letters_total',
      { pipeline: `source:${batch.source}`, stage: 'decode' },
      batch.rejected.length,
    );
  }

  /** Pops acknowledged batches off the head, in order, and schedules a checkpoint write. */
  private advance(): void {
    while (this.inflight[0]?.state === 'done') {
      const f = this.inflight.shift()!;
      if (f.batch.checkpoint) {
        this.target = f.batch.checkpoint;
        this.targetBehind = f.batch.millisBehind;
      }
    }
    this.wake?.();
    this.scheduleCommit();
  }

  /**
   * Checkpoints at most once per `checkpointIntervalMs` while batches stream by (a write per
   * batch would cost more than the batch); at once for the end of a shard.
   */
  private scheduleCommit(): void {
    if (this.closing || this.commitTimer || !this.target || this.target === this.committed) return;
    const due =
      this.target.kind === 'SHARD_END'
        ? 0
        : Math.max(0, this.lastCommitAt + this.opts.checkpointIntervalMs - performance.now());
    this.commitTimer = setTimeout(() => {
      this.commitTimer = undefined;
      void this.commit();
    }, due);
  }

  /**
   * Writes the latest acknowledged checkpoint; one writer at a time, always the newest target.
   * While records stream by, a target that moved during a write waits for the interval (a timer);
   * `final` (the drain at the end of a run) writes whatever is acknowledged at once.
   */
  private async commit(final = false): Promise<void> {
    if (final) {
      this.closing = true;
      // A final commit must not settle for a write loop that may stop early for the interval.
      while (this.writing) await this.writing;
    }
    // After the wait: a write loop that was under way may have armed a timer when it stopped.
    this.clearTimer();
    this.writing ??= this.writeLoop().finally(() => {
      this.writing = undefined;
    });
    return this.writing;
  }

  private clearTimer(): void {
    if (this.commitTimer) {
      clearTimeout(this.commitTimer);
      this.commitTimer = undefined;
    }
  }

  private async writeLoop(): Promise<void> {
    while (this.target && this.target !== this.committed && !this.lost) {
      const target = this.target;
      // Closing (the final drain) writes at once; so does the end of a shard.
      if (
        !this.closing &&
        target.kind !== 'SHARD_END' &&
        performance.now() - this.lastCommitAt < this.opts.checkpointIntervalMs
      ) {
        this.scheduleCommit();
        return;
      }
      this.lastCommitAt = performance.now();
      try {
        const ok = await this.deps.keeper.checkpoint(this.leaseKey, target, { millisBehind: this.targetBehind });
        if (!ok) return this.leaseLost();
        this.committed = target;
        this.deps.metrics.inc('tributary_checkpoints_total', { source: this.source.name, shard: this.shard.shardId });
      } catch (e) {
        this.deps.log.warn('checkpoint failed; will retry with the next one', { leaseKey: this.leaseKey, error: e });
        return;
      }
    }
  }
}
