import { sleep } from '../core/time.js';

/** Per-shard polling rhythm: immediate while behind (within a minimum interval), backing off while idle. */
export interface PacingOptions {
  /** Least time between two reads of one shard (Kinesis allows 5 GetRecords/s per shard: 200 ms). */
  readonly minIntervalMs: number;
  /** First wait after an empty read. */
  readonly idleStartMs: number;
  /** Longest wait between reads of an idle shard. */
  readonly idleMaxMs: number;
}

export class Pacer {
  private lastRead = 0;
  private idleWait = 0;
  constructor(private readonly opts: PacingOptions) {}

  /** Waits as long as the last result asks: nothing when behind (except the minimum interval). */
  async beforeRead(signal: AbortSignal): Promise<void> {
    const sinceLast = Date.now() - this.lastRead;
    const wait = Math.max(this.idleWait, this.opts.minIntervalMs - sinceLast);
    if (wait > 0) await sleep(wait, signal);
    this.lastRead = Date.now();
  }

  /** Records what a read returned: records or a positive lag mean "behind". */
  afterRead(behind: boolean): void {
    this.idleWait = behind
      ? 0
      : Math.min(this.opts.idleMaxMs, this.idleWait === 0 ? this.opts.idleStartMs : this.idleWait * 2);
  }

  /** After a throttling error: wait at least as long as an idle shard would, doubling. */
  throttled(): void {
    this.idleWait = Math.min(this.opts.idleMaxMs * 2, Math.max(this.opts.idleStartMs, this.idleWait * 2));
  }
}
