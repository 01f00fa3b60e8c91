/**
 * Outcomes of a pipeline's most recent records (applied or dead-lettered), as many as the window
 * holds, across all its shards: the share of dead letters among them is what a
 * `deadLetterBudget` bounds and what `tributary_dead_letter_share` shows.
 */
export class DeadLetterWindow {
  /** 1 for a dead letter, 0 for an applied record; a ring, overwritten oldest first. */
  private readonly ring: Uint8Array;
  private next = 0;
  private seen = 0;
  /** Dead letters in the window. */
  dead = 0;

  constructor(readonly size: number) {
    this.ring = new Uint8Array(size);
  }

  /** Adds `n` records of one outcome. */
  add(n: number, dead: boolean): void {
    const v = dead ? 1 : 0;
    // More records than the window holds: only the last `size` of them stay.
    for (let i = Math.max(0, n - this.size); i < n; i++) {
      this.dead += v - this.ring[this.next]!;
      this.ring[this.next] = v;
      this.next = (this.next + 1) % this.size;
      this.seen = Math.min(this.size, this.seen + 1);
    }
  }

  /** Share of dead letters among the records in the window (0 while empty). */
  get share(): number {
    return this.seen === 0 ? 0 : this.dead / this.seen;
  }
}
