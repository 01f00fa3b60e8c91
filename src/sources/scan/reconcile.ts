/**
 * Which changes of a table's stream a backfilled view still needs, given what the backfill's
 * Scan read of each item.
 *
 * The stream is read from its start once the Scan is done, so it holds changes the Scan already
 * saw. Each item's changes form a chain of states s0 (the old image of its first change, or no
 * item), s1, ... The Scan read the item once, consistently, at some state s_j of that chain (or
 * read nothing: the item did not exist then). The changes up to s_j are in what the Scan emitted;
 * those after it are not. So, per item, the changes are skipped until the chain reaches the state
 * the Scan read, and applied from then on. Where the chain passes that state twice (A, B, A), any
 * of the two gives views of state (index rows, mirrors, live counts by `decrementOnRemove`) the
 * same result: each modify subtracts its old state and adds its new one. The first is taken.
 *
 * Changes made after the Scan ended (past `windowEndMs`) are applied as they come, whatever the
 * chain says: the read of every item came before them.
 *
 * @example
 * ```ts
 * const r = new Reconciler(new Map([['{"S":"p1"}', hashOfScannedImage]]), scanEndedAt + 10_000);
 * r.admit('{"S":"p1"}', hashOf(change.oldImage), hashOf(change.newImage), change.approximateCreationTime.getTime());
 * ```
 */
export class Reconciler {
  /** Keys whose chain reached the scanned state: their later changes apply. */
  private readonly reached = new Set<string>();

  constructor(
    /** Per item key (`keyString`), the hash of the image the Scan read. Keys not in it: the Scan read no item. */
    private readonly scanned: ReadonlyMap<string, string>,
    /** Epoch milliseconds after which no change can precede a Scan read. */
    private readonly windowEndMs: number,
  ) {}

  /**
   * Whether a change applies: `before` and `after` are the hashes of its old and new images
   * (`ABSENT` where there is no item). Call in stream order per item.
   */
  admit(key: string, before: string, after: string, createdAtMs: number): boolean {
    if (this.reached.has(key) || createdAtMs > this.windowEndMs) return true;
    const read = this.scanned.get(key) ?? ABSENT;
    if (before === read) {
      this.reached.add(key);
      return true;
    }
    if (after === read) this.reached.add(key);
    return false;
  }
}

/** The hash of no item: a change's old image on insert, new image on remove; the state of an item the Scan did not see. */
export const ABSENT = '-';
