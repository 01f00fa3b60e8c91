import { sleep } from './time.js';

/** How a {@link TokenBucket} is sized and timed. */
export interface TokenBucketOptions {
  /** Tokens added per second. */
  readonly rate: number;
  /** Most tokens the bucket holds: the burst that saved-up capacity may pay for. Default `max(1, rate)`. */
  readonly capacity?: number;
  /** Tokens at the start, at most `capacity`. Default: full. */
  readonly initial?: number;
  /** Clock in milliseconds; injectable so tests move time by hand. Default `performance.now`. */
  readonly now?: () => number;
  /** How {@link TokenBucket.acquire} waits; injectable for tests. Default {@link sleep}. */
  readonly sleep?: (ms: number) => Promise<void>;
}

/**
 * A token bucket refilled continuously at `rate` tokens a second, holding at most `capacity`.
 * The balance may go below zero (debt): a call that cost more than its estimate is charged
 * afterwards, and a request larger than the bucket can ever hold goes through once, then
 * nothing until the debt is repaid, so the long-run rate is still the rate.
 *
 * Three ways to spend, for three kinds of user:
 * - {@link acquire} waits its turn: takers are served in the order they ask (a write rate).
 * - {@link tryTake} takes only when the tokens are there, else says how long to wait, so a
 *   caller whose rate moves (AIMD) asks again at the new rate.
 * - {@link available} and {@link take} answer at once (a throttling emulator: admit while the
 *   balance is above zero, debit, refund).
 *
 * @example
 * ```ts
 * const bucket = new TokenBucket({ rate: 25 }); // 25 writes a second
 * await bucket.acquire(1);
 * await io.put(item);
 * ```
 */
export class TokenBucket {
  private rateValue: number;
  private capacityValue: number;
  private tokens: number;
  private last: number;
  private readonly now: () => number;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(opts: TokenBucketOptions) {
    this.rateValue = opts.rate;
    this.capacityValue = opts.capacity ?? Math.max(1, opts.rate);
    this.tokens = Math.min(this.capacityValue, opts.initial ?? this.capacityValue);
    this.now = opts.now ?? (() => performance.now());
    this.sleep = opts.sleep ?? sleep;
    this.last = this.now();
  }

  /** Tokens added per second. */
  get rate(): number {
    return this.rateValue;
  }

  /** Most tokens the bucket holds. */
  get capacity(): number {
    return this.capacityValue;
  }

  /** Current balance; negative while in debt. */
  available(): number {
    this.refill();
    return this.tokens;
  }

  /**
   * Debits `n` tokens now, into debt if need be, and returns how many milliseconds until the
   * balance is back to zero: 0 when the tokens were there. A negative `n` refunds, never above
   * the capacity.
   */
  take(n: number): number {
    this.refill();
    this.tokens = Math.min(this.capacityValue, this.tokens - n);
    return this.tokens >= 0 ? 0 : this.msUntil(0);
  }

  /** Takes `n` tokens, resolving when they may be used; later takers queue behind this one's debt. */
  async acquire(n: number): Promise<void> {
    const ms = this.take(n);
    if (ms > 0) await this.sleep(ms);
  }

  /**
   * Takes `n` tokens if they are there and returns 0, or takes nothing and returns how many
   * milliseconds to wait before asking again. A request larger than the capacity goes through
   * once the bucket is full, into debt, so that it cannot wait forever.
   */
  tryTake(n: number): number {
    this.refill();
    const need = Math.min(n, Math.max(this.capacityValue, 1));
    if (this.tokens < need) return this.msUntil(need);
    this.tokens -= n;
    return 0;
  }

  /** Changes the refill rate (and the capacity) from now on; the balance is kept, clipped to the capacity. */
  setRate(rate: number, capacity = this.capacityValue): void {
    this.refill();
    this.rateValue = rate;
    this.capacityValue = capacity;
    this.tokens = Math.min(this.tokens, capacity);
  }

  /** Milliseconds until the balance reaches `level` at the current rate. */
  private msUntil(level: number): number {
    return Math.ceil(((level - this.tokens) / this.rateValue) * 1000);
  }

  private refill(): void {
    const t = this.now();
    const dt = (t - this.last) / 1000;
    this.last = t;
    if (dt > 0) this.tokens = Math.min(this.capacityValue, this.tokens + dt * this.rateValue);
  }
}
