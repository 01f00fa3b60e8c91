import type { Batch } from '../core/batch.js';
import type { Clock } from '../core/clock.js';
import type { Checkpoint } from '../core/position.js';
import type { BoundSource, ShardInfo } from '../core/source.js';
import { isTributaryError } from '../core/errors.js';
import type { Logger } from '../observe/log.js';
import type { Metrics } from '../observe/metrics.js';
import type { DeadLetterTable } from '../sinks/dead-letters.js';
import { CheckpointWriter } from './checkpoint-writer.js';
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
  private readonly checkpoints: CheckpointWriter;
  private failure: unknown;
  private wake: (() => void) | undefined;

  constructor(
    readonly leaseKey: string,
    private readonly shard: ShardInfo,
    private readonly from: Checkpoint,
    /** The lease counter at which this worker took the lease: the epoch fencing its exactly-once writes. */
    private readonly epoch: number,
    private readonly source: BoundSource,
    private readonly executors: readonly PipelineExecutor[],
    private readonly deps: {
      keeper: LeaseKeeper;
      deadLetters: DeadLetterTable;
      metrics: Metrics;
      log: Logger;
      app: string;
      clock: Clock;
    },
    private readonly opts: ShardWorkerOptions,
  ) {
    this.checkpoints = new CheckpointWriter(
      leaseKey,
      { source: source.name, shard: shard.shardId },
      opts.checkpointIntervalMs,
      deps,
      () => this.leaseLost(),
    );
  }

  /** Stops fetching; `run()` then drains what is in flight, checkpoints, and resolves. */
  stop(): void {
    this.fetching.abort();
    this.wake?.();
  }

  /** The lease was lost: stop at once, and never checkpoint again. */
  leaseLost(): void {
    this.checkpoints.leaseLost();
    this.stop();
  }

  async run(): Promise<{ outcome: ShardOutcome; error?: unknown }> {
    const labels = { source: this.source.name, shard: this.shard.shardId };
    let ended = false;
    const at = { source: this.source.name, shardId: this.shard.shardId };
    try {
      // Exactly-once pipelines claim their progress first: from then on the former owner can commit nothing.
      for (const x of this.executors)
        if (!(await x.openShard(at, this.leaseKey, this.epoch))) {
          this.leaseLost();
          return { outcome: 'lost' };
        }
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
        // An empty batch may still carry the lag: the reader reached the tip, and the lag shown falls to 0.
        if (batch.millisBehind !== undefined)
          this.deps.metrics.set('tributary_behind_seconds', labels, batch.millisBehind / 1000);
        if (batch.records.length > 0 || batch.rejected.length > 0 || batch.checkpoint) {
          this.deps.metrics.inc('tributary_batches_total', labels);
          this.dispatch(batch);
        } else if (batch.millisBehind !== undefined) this.queueLag(batch);
        if (batch.ended) {
          ended = true;
          break;
        }
      }
      await Promise.all(this.inflight.map((f) => f.settled));
      await this.checkpoints.final();
      for (const x of this.executors) x.closeShard(at);
      if (this.checkpoints.lost) return { outcome: 'lost' };
      if (this.failure !== undefined) return { outcome: 'failed', error: this.failure };
      return { outcome: ended && this.checkpoints.committed?.kind === 'SHARD_END' ? 'ended' : 'stopped' };
    } catch (e) {
      this.fetching.abort();
      this.checkpoints.abandon();
      for (const x of this.executors) x.closeShard(at);
      return { outcome: this.checkpoints.lost ? 'lost' : 'failed', error: e };
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
          // An exactly-once commit found the shard taken: stop as a renewal finding it so would.
          if (isTributaryError(e, 'runtime.leaseLost')) return this.leaseLost();
          this.failure ??= e;
          this.fetching.abort();
        },
      ),
    };
    this.inflight.push(f);
  }

  /** A lag with no record (the tip reached): queued behind the batches in flight, so it reaches the lease after their checkpoints. */
  private queueLag(batch: Batch): void {
    this.inflight.push({ batch, state: 'done', settled: Promise.resolve() });
    this.advance();
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
        this.checkpoints.acknowledged(f.batch.checkpoint, f.batch.millisBehind);
        for (const x of this.executors) x.acknowledged(f.batch, f.batch.checkpoint);
      } else if (f.batch.millisBehind !== undefined) this.checkpoints.lagged(f.batch.millisBehind);
    }
    this.wake?.();
    this.checkpoints.schedule();
  }
}
