/** How a {@link TokenBucket} is sized. */
export interface BucketOptions {
  /**
   * Seconds of unused capacity the bucket may hold. 1 holds one second's worth (no burst);
   * DynamoDB's burst allowance is 300.
   */
  readonly windowSeconds: number;
  /** Clock in milliseconds; injectable for tests. Default `performance.now`. */
  readonly now?: () => number;
}

/**
 * A token bucket refilled continuously at `rate` units a second, holding at most
 * `rate × windowSeconds`. It starts with one second's worth, so a fresh budget admits its first
 * requests without a burst that a test would have to drain first.
 *
 * Admission is "balance above zero", and a debit may take the balance below zero (debt that the
 * refill pays back): a request costing more than the bucket can ever hold (a 400 KB item against
 * 100 WCU) is admitted once, then nothing until the debt is repaid, so the long-run rate is still
 * the budget.
 *
 * @example
 * ```ts
 * const b = new TokenBucket(100, { windowSeconds: 1 });
 * if (b.available() > 0) b.take(3);
 * ```
 */
export class TokenBucket {
  private tokens: number;
  private last: number;
  private readonly now: () => number;

  constructor(
    private rateValue: number,
    private readonly opts: BucketOptions,
  ) {
    this.now = opts.now ?? (() => performance.now());
    this.last = this.now();
    this.tokens = Math.min(this.capacity, rateValue);
  }

  /** Units added per second. */
  get rate(): number {
    return this.rateValue;
  }

  /** Most units the bucket can hold. */
  get capacity(): number {
    return this.rateValue * this.opts.windowSeconds;
  }

  /** Current balance (may be negative: debt). */
  available(): number {
    this.refill();
    return this.tokens;
  }

  /** Debits `units`; a negative amount refunds (never above capacity). */
  take(units: number): void {
    this.refill();
    this.tokens = Math.min(this.capacity, this.tokens - units);
  }

  /** Changes the refill rate from now on; the balance is kept, clipped to the new capacity. */
  setRate(rate: number): void {
    this.refill();
    this.rateValue = rate;
    this.tokens = Math.min(this.capacity, this.tokens);
  }

  private refill(): void {
    const t = this.now();
    const dt = (t - this.last) / 1000;
    this.last = t;
    if (dt > 0) this.tokens = Math.min(this.capacity, this.tokens + dt * this.rateValue);
  }
}
