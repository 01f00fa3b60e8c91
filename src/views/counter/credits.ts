import type { Position } from '../../core/position.js';

/** Where a write's outputs come from: enough to recognise the runner trying its records again. */
export interface WriteOrigin {
  readonly pipeline: string;
  readonly positions: readonly Position[];
}

interface Credit {
  readonly pipeline: string;
  readonly positions: ReadonlySet<string>;
  /** Keys this write's increments were durably added to before the write failed. */
  readonly applied: ReadonlySet<string>;
}

const positionId = (p: Position): string =>
  `${p.source}\u0000${p.shardId}\u0000${p.sequenceNumber}\u0000${p.subSequenceNumber ?? 0}`;

/**
 * Remembers writes that failed, and for each the keys that were applied before it failed.
 *
 * A flush applies many keys; when one key's `UpdateItem` fails for good, only the writes that
 * contributed to that key are failed, but their increments to the other keys are already durable.
 * The runner then calls `write` again with the same records, or with halves of them while it
 * isolates the bad record. A later write whose records all lie within a failed write's records
 * skips the keys that write already applied, so no increment is counted twice by the retry.
 * (Kept in memory, a few hundred writes at most: a crash forgets them, like any at-least-once retry.)
 *
 * @example
 * ```ts
 * credits.record({ pipeline: 'p', positions }, ['"home"']);
 * credits.appliedFor({ pipeline: 'p', positions: positions.slice(0, 10) }); // Set { '"home"' }
 * ```
 */
export class RetryCredits {
  private readonly credits: Credit[] = [];

  constructor(private readonly capacity = 256) {}

  get size(): number {
    return this.credits.length;
  }

  /** Notes that a write failed after the increments of its records to `applied` keys (maybe none) were made durable. */
  record(origin: WriteOrigin, applied: Iterable<string> = []): void {
    if (origin.positions.length === 0) return;
    this.credits.push({
      pipeline: origin.pipeline,
      positions: new Set(origin.positions.map(positionId)),
      applied: new Set(applied),
    });
    if (this.credits.length > this.capacity) this.credits.shift();
  }

  /**
   * When every record of `origin` lies within a write that failed (the runner retrying or
   * bisecting it): the keys already applied for them, possibly none. Otherwise undefined.
   */
  appliedFor(origin: WriteOrigin): ReadonlySet<string> | undefined {
    if (this.credits.length === 0 || origin.positions.length === 0) return undefined;
    const first = positionId(origin.positions[0]!);
    let ids: string[] | undefined;
    let out: Set<string> | undefined;
    for (const c of this.credits) {
      if (c.pipeline !== origin.pipeline || !c.positions.has(first)) continue;
      ids ??= origin.positions.map(positionId);
      if (!ids.every((id) => c.positions.has(id))) continue;
      out ??= new Set();
      for (const k of c.applied) out.add(k);
    }
    return out;
  }
}
