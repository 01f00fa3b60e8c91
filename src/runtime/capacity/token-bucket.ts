/**
 * A token bucket with a variable rate, that can go into debt: when a call turns out to cost more
 * than its estimate, the difference is charged afterwards and later callers wait it off.
 * Time is injected so the logic is testable without sleeping.
 */
export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(
    private rate: number,
    /** Most tokens the bucket holds: the burst that saved-up capacity may pay for. */
    private capacity: number,
    private readonly now: () => number = () => Date.now(),
  ) {
    this.tokens = Math.min(capacity, rate);
    this.last = now();
  }

  get currentRate(): number {
    return this.rate;
  }

  get available(): number {
    this.refill();
    return this.tokens;
  }

  setRate(rate: number, capacity = this.capacity): void {
    this.refill();
    this.rate = rate;
    this.capacity = capacity;
    this.tokens = Math.min(this.tokens, capacity);
  }

  /**
   * Takes `n` tokens if they are there and returns 0, or returns how many ms to wait before
   * asking again. A request larger than the capacity is let through once the bucket is full,
   * going into debt, so it cannot wait forever.
   */
  tryTake(n: number): number {
    this.refill();
    const need = Math.min(n, Math.max(this.capacity, 1));
    if (this.tokens >= need) {
      this.tokens -= n;
      return 0;
    }
    return Math.ceil(((need - this.tokens) / this.rate) * 1000);
  }

  /** Charges (positive) or refunds (negative) tokens after the fact. */
  adjust(n: number): void {
    this.refill();
    this.tokens = Math.min(this.capacity, this.tokens - n);
  }

  private refill(): void {
    const t = this.now();
    const dt = (t - this.last) / 1000;
    this.last = t;
    if (dt > 0) this.tokens = Math.min(this.capacity, this.tokens + dt * this.rate);
  }
}
