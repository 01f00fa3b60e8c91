import type { Clock, Timer } from '../core/clock.js';
import type { Checkpoint } from '../core/position.js';
import type { Logger } from '../observe/log.js';
import type { Metrics } from '../observe/metrics.js';
import type { LeaseKeeper } from './leases/keeper.js';

export interface CheckpointWriterDeps {
  readonly keeper: LeaseKeeper;
  readonly metrics: Metrics;
  readonly log: Logger;
  readonly clock: Clock;
}

/**
 * Writes one shard's checkpoint to its lease: always the newest acknowledged position, one write
 * at a time, at most once per `intervalMs` while batches stream by (a write per batch would cost
 * more than the batch), at once for the end of a shard and for the final drain.
 */
export class CheckpointWriter {
  private committedValue: Checkpoint | undefined;
  private target: Checkpoint | undefined;
  private targetBehind: number | undefined;
  /** The lag written with the last checkpoint, so a lag that changed alone (the tip reached) is written too. */
  private committedBehind: number | undefined;
  private writing: Promise<void> | undefined;
  private timer: Timer | undefined;
  /** clock.now() of the last write. */
  private lastWriteAt = -Infinity;
  /** Set once the final write has begun: no timer may be armed after it. */
  private closing = false;
  private lostValue = false;

  constructor(
    private readonly leaseKey: string,
    private readonly labels: { readonly source: string; readonly shard: string },
    private readonly intervalMs: number,
    private readonly deps: CheckpointWriterDeps,
    /** Called when a write finds the lease gone (nothing was written). */
    private readonly onLost: () => void,
  ) {}

  /** The last checkpoint written. */
  get committed(): Checkpoint | undefined {
    return this.committedValue;
  }

  /** True once the lease was lost: nothing is written any more. */
  get lost(): boolean {
    return this.lostValue;
  }

  /** The lease was lost elsewhere (a renewal found it taken): write nothing from now on. */
  leaseLost(): void {
    this.lostValue = true;
  }

  /** Every batch up to this position is acknowledged by every pipeline. */
  acknowledged(checkpoint: Checkpoint, millisBehind: number | undefined): void {
    this.target = checkpoint;
    this.targetBehind = millisBehind;
  }

  /**
   * The reader found the shard this far behind with no new record (most often 0: it reached the tip):
   * the lag is written with the acknowledged checkpoint, so the lease does not keep the last page's.
   */
  lagged(millisBehind: number): void {
    this.targetBehind = millisBehind;
  }

  /** Arms the timer for the next write, if one is due and none is armed. */
  schedule(): void {
    if (this.closing || this.timer || !this.target || !this.due()) return;
    const due =
      this.target.kind === 'SHARD_END' ? 0 : Math.max(0, this.lastWriteAt + this.intervalMs - this.deps.clock.now());
    this.timer = this.deps.clock.setTimeout(() => {
      this.timer = undefined;
      void this.write();
    }, due);
  }

  /**
   * The final write at the end of a run: waits for a write under way (which may stop early for
   * the interval), then writes whatever is acknowledged at once. No timer is armed after it.
   */
  async final(): Promise<void> {
    this.closing = true;
    while (this.writing) await this.writing;
    return this.write();
  }

  /** The run failed: no timer, and no write from now on. */
  abandon(): void {
    this.closing = true;
    this.cancelTimer();
  }

  private write(): Promise<void> {
    // After final()'s wait: a write loop that was under way may have armed a timer when it stopped.
    this.cancelTimer();
    this.writing ??= this.writeLoop().finally(() => {
      this.writing = undefined;
    });
    return this.writing;
  }

  /** Something acknowledged is not written yet: a position, or a lag that changed since. */
  private due(): boolean {
    return !!this.target && (this.target !== this.committedValue || this.targetBehind !== this.committedBehind);
  }

  private cancelTimer(): void {
    this.timer?.cancel();
    this.timer = undefined;
  }

  /** While records stream by, a target that moved during a write waits for the interval (a timer). */
  private async writeLoop(): Promise<void> {
    const clock = this.deps.clock;
    while (this.due() && !this.lostValue) {
      const target = this.target!;
      const behind = this.targetBehind;
      // Closing (the final drain) writes at once; so does the end of a shard.
      if (!this.closing && target.kind !== 'SHARD_END' && clock.now() - this.lastWriteAt < this.intervalMs) {
        this.schedule();
        return;
      }
      this.lastWriteAt = clock.now();
      try {
        const ok = await this.deps.keeper.checkpoint(this.leaseKey, target, { millisBehind: behind });
        if (!ok) {
          this.lostValue = true;
          return this.onLost();
        }
        this.committedValue = target;
        this.committedBehind = behind;
        this.deps.metrics.inc('tributary_checkpoints_total', this.labels);
      } catch (e) {
        this.deps.log.warn('checkpoint failed; will retry with the next one', { leaseKey: this.leaseKey, error: e });
        return;
      }
    }
  }
}
