import { compareSequence } from '../../core/position.js';

/** When the Scan may have read an item: no change before `from` or after `to` (epoch ms) can be the read's neighbour. */
export interface ReadBand {
  readonly from: number;
  readonly to: number;
}

/** What the Scan read of one item: the hash of its image, and when. */
export interface ScannedState {
  readonly hash: string;
  readonly band: ReadBand;
}

/**
 * Where an item's changes reached the state the Scan read: at a change of a stream shard, which
 * applies (`inclusive`: its old image was the scanned state) or not (its new image was).
 */
export interface Reach {
  readonly shardId: string;
  readonly seq: string;
  readonly inclusive: boolean;
}

/** A change's place in the stream: its shard, sequence number and creation time. */
export interface ChangeAt {
  readonly shardId: string;
  readonly seq: string;
  readonly createdAtMs: number;
}

/** Whether a change applies, and the reach it found (to be made durable before its batch goes on). */
export interface Admission {
  readonly apply: boolean;
  readonly reached?: Reach;
}

/**
 * Which changes of a table's stream a backfilled view still needs, given what the backfill's
 * Scan read of each item.
 *
 * The stream is read from its start once the Scan is done, so it holds changes the Scan already
 * saw. The Scan read each item once, consistently, at some state (or read nothing: no item then).
 * A change made before that read is in what the Scan emitted; a change made after it is not.
 *
 * 1. **By time.** A change created well before the read of the item's page (more than the margin
 *    the band carries for DynamoDB Streams' one-second timestamps and clock skew) is dropped; one
 *    created well after it applies. An item the Scan did not see takes the whole Scan as its band.
 * 2. **By the chain of states, inside the band.** An item's changes form a chain of states. Inside
 *    the band, changes are dropped until the chain reaches the state the Scan read, and applied
 *    from there. Where the chain passes that state twice (A, B, A), the first is taken: views of
 *    state (index rows, mirrors, live counts by `decrementOnRemove`) come out the same either way.
 *
 * Where a chain reached its scanned state is a fact about the stream's prefix, which a reader
 * resumed from a checkpoint (after a crash or a lease handover) has not read. So each reach is
 * returned by {@link admit}, made durable before its batch is handed on (`ReachLog`), and
 * {@link learn}ed by whichever worker reads the shard next. A reach names its position, so a
 * replay of the records before it decides them by the chain again, as the first read did.
 *
 * @example
 * ```ts
 * const r = new Reconciler(scanned, { from: scanStart - 10_000, to: scanEnd + 10_000 });
 * const { apply, reached } = r.admit(key, hashOf(oldImage), hashOf(newImage), { shardId, seq, createdAtMs });
 * ```
 */
export class Reconciler {
  /** Keys whose chain reached the scanned state inside its band, and where. */
  private readonly reached = new Map<string, Reach>();

  constructor(
    /** Per item key (`keyString`), what the Scan read. Keys not in it: the Scan read no item. */
    private readonly scanned: ReadonlyMap<string, ScannedState>,
    /** The band of items the Scan did not see: the whole Scan, with its margins. */
    private readonly absentBand: ReadBand,
  ) {}

  /** Takes a reach another reader found (or this one, before a restart). */
  learn(key: string, reach: Reach): void {
    const had = this.reached.get(key);
    if (had && (had.shardId !== reach.shardId || compareSequence(had.seq, reach.seq) <= 0)) return;
    this.reached.set(key, reach);
  }

  /**
   * Whether a change applies: `before` and `after` are the hashes of its old and new images
   * (`ABSENT` where there is no item). Call in stream order per item.
   */
  admit(key: string, before: string, after: string, at: ChangeAt): Admission {
    const s = this.scanned.get(key);
    const band = s?.band ?? this.absentBand;
    if (at.createdAtMs > band.to) return APPLY;
    if (at.createdAtMs < band.from) return DROP;
    const r = this.reached.get(key);
    // A reach in another shard is in an ancestor: a key's changes move to a child only after it.
    if (r && r.shardId !== at.shardId) return APPLY;
    if (r) {
      const c = compareSequence(at.seq, r.seq);
      if (c > 0) return APPLY;
      if (c === 0) return r.inclusive ? APPLY : DROP;
      // Before the reach: a replay, decided by the chain as the first read decided it.
    }
    const read = s?.hash ?? ABSENT;
    if (before === read) return this.reach(key, at, true);
    if (after === read) return this.reach(key, at, false);
    return DROP;
  }

  private reach(key: string, at: ChangeAt, inclusive: boolean): Admission {
    const reached: Reach = { shardId: at.shardId, seq: at.seq, inclusive };
    const had = this.reached.get(key);
    if (had && compareSequence(had.seq, at.seq) === 0) return { apply: inclusive };
    this.learn(key, reached);
    return { apply: inclusive, reached };
  }
}

const APPLY: Admission = { apply: true };
const DROP: Admission = { apply: false };

/** The hash of no item: a change's old image on insert, new image on remove; the state of an item the Scan did not see. */
export const ABSENT = '-';
