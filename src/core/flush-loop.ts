/**
 * Flushes one at a time, each when its buffer is due or at its deadline: the loop that a counter
 * view's increments and an exactly-once pipeline's effects share. A subclass says what is
 * buffered, when it is due and what a flush does; what arrives during a flush waits for the next.
 *
 * @example
 * ```ts
 * class Lines extends FlushLoop<string[]> {
 *   private buf: string[] = [];
 *   push(l: string) { this.buf.push(l); this.maybeFlush(); }
 *   protected hasPending() { return this.buf.length > 0; }
 *   protected due(now: number) { return this.buf.length >= 100 || now >= this.deadline(); }
 *   protected deadline() { return this.idleSince + 200; }
 *   protected take() { const b = this.buf; this.buf = []; return b; }
 *   protected async run(b: string[]) { await write(b); }
 * }
 * ```
 */
export abstract class FlushLoop<B> {
  private running: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  /** `flushAll` calls under way: every buffer is due meanwhile. */
  protected forced = 0;
  /** When the last flush ended (`now()`); 0 before the first. */
  protected idleSince = 0;

  constructor(protected readonly now: () => number = Date.now) {}

  protected abstract hasPending(): boolean;
  /** Whether the buffer should go now (`forced` is checked first). */
  protected abstract due(now: number): boolean;
  /** When the buffer goes at the latest. */
  protected abstract deadline(): number;
  /** Detaches the buffer for a flush, leaving an empty one. */
  protected abstract take(): B;
  protected abstract run(buffer: B): Promise<void>;
  /** After a flush settled, before the next is considered. */
  protected flushed(_buffer: B): void {}

  /** Flushes everything buffered, now; resolves when all of it has settled. */
  async flushAll(): Promise<void> {
    this.forced++;
    try {
      while (this.running || this.hasPending()) {
        this.maybeFlush();
        await this.running;
      }
    } finally {
      this.forced--;
    }
  }

  /** Stops the delay timer; call after `flushAll`. */
  close(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  protected maybeFlush(): void {
    if (this.running || !this.hasPending()) return;
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.forced === 0 && !this.due(this.now())) {
      this.timer = setTimeout(
        () => {
          this.timer = undefined;
          this.maybeFlush();
        },
        Math.max(0, this.deadline() - this.now()),
      );
      return;
    }
    const buffer = this.take();
    this.running = this.run(buffer).finally(() => {
      this.running = undefined;
      this.idleSince = this.now();
      this.flushed(buffer);
      this.maybeFlush();
    });
  }
}
