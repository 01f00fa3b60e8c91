import { sleep } from '../../core/time.js';

/**
 * A token bucket that hands out `rate` tokens a second with bursts up to `burst`. Takers are
 * served in the order they ask: a take that finds too few tokens reserves them anyway (the
 * bucket goes into debt) and waits until the debt is paid, so later takers queue behind it.
 *
 * @example
 * ```ts
 * const bucket = new TokenBucket(25); // 25 writes a second
 * await bucket.take(1);
 * await io.put(...);
 * ```
 */
export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(
    readonly rate: number,
    readonly burst: number = Math.max(1, rate),
    private readonly now: () => number = Date.now,
    private readonly wait: (ms: number) => Promise<void> = sleep,
  ) {
    if (!(rate > 0) || !Number.isFinite(rate))
      throw new RangeError(`token bucket rate must be a positive number, got ${rate}`);
    this.tokens = this.burst;
    this.last = now();
  }

  /**
   * Takes `n` tokens now (possibly going into debt) and returns how long, in milliseconds, the
   * taker must wait before acting: 0 when the tokens were there.
   */
  reserve(n: number): number {
    const now = this.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.rate);
    this.last = now;
    this.tokens -= n;
    return this.tokens >= 0 ? 0 : Math.ceil((-this.tokens / this.rate) * 1000);
  }

  /** Takes `n` tokens, resolving when they may be used. */
  async take(n: number): Promise<void> {
    const ms = this.reserve(n);
    if (ms > 0) await this.wait(ms);
  }
}
