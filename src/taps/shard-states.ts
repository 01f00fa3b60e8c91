import { comparePosition, type Position } from '../core/position.js';
import { TributaryError } from '../core/errors.js';
import type { Logger } from '../observe/log.js';
import type { ShardMark, ShardTapState, TapStateTable } from './state-table.js';

/** One shard of this worker, as the tap holds it. */
interface Held {
  /** Resolves once the shard's durable state (if any) is merged in: before its first batch. */
  readonly seeded: Promise<void>;
  done: boolean;
  /** Records up to here were in the state it started from: a replay skips them. */
  covered: ShardMark | undefined;
  /** The last record aggregated. */
  last: ShardMark | undefined;
  /** Acknowledgments of batches aggregated since the last durable write. */
  waiting: { resolve: () => void; reject: (e: unknown) => void }[];
  warnedTooLarge: boolean;
}

/** What a tap's shard states read from and write to its engine. */
export interface ShardStateHost {
  /** The tap's key in the state table (`<app>#<tap>`). */
  readonly key: string;
  readonly states: TapStateTable;
  readonly worker: string;
  readonly log: Logger;
  /** The engine's partial of one shard, for its durable row. */
  partialOf(shardId: string): unknown;
  /** The engine's watermark now, `null` before any. */
  watermark(): number | null;
  /** Merges a shard's durable state into the engine (before any of its records). */
  seed(row: ShardTapState): void;
}

/** Batches of a shard waiting for a durable write before the write is made at once, not at the tick. */
export const WAITING_BEFORE_PERSIST = 2;

/**
 * The durability of a tap's per-shard state, so that a tap's open windows survive a crash, a
 * restart or a handoff as a view's rows do. Kafka Streams' changelog before the offset commit,
 * on DynamoDB:
 * - a batch a tap aggregated is acknowledged (and the shard may be checkpointed past it) only
 *   once the shard's state with it is written to its row of the tap state table;
 * - a worker that starts a shard merges the row in before the shard's first batch, and skips the
 *   records up to the row's mark: the checkpoint may lag the row by up to the batches in flight.
 * So each record of a shard is in the tap's state once, whichever worker holds it.
 *
 * @example
 * ```ts
 * const shards = new TapShardStates(host);
 * const fresh = await shards.fresh(records); // waits for the shard's seed, drops what it covers
 * const acked = shards.aggregated(shardId, records.at(-1)!.position); // resolves at the next persist()
 * await shards.persist();
 * ```
 */
export class TapShardStates {
  private readonly held = new Map<string, Held>();
  private writing: Promise<void> = Promise.resolve();

  constructor(private readonly host: ShardStateHost) {}

  /** The records of a batch of one shard not yet in its state, once its durable state is merged in. */
  fresh<R extends { readonly position: Position }>(records: readonly R[]): readonly R[] | Promise<readonly R[]> {
    if (records.length === 0) return records;
    const h = this.hold(records[0]!.position.shardId);
    const skip = () => (h.covered ? records.filter((r) => comparePosition(r.position, h.covered!) > 0) : records);
    return h.done ? skip() : h.seeded.then(skip);
  }

  /**
   * A batch of the shard, up to `last`, is in the engine: resolves once a durable write holds it
   * (`persist`), or rejects with `runtime.leaseLost` if the shard is released first.
   */
  aggregated(shardId: string, last: Position): Promise<void> {
    const h = this.hold(shardId);
    h.last = { sequenceNumber: last.sequenceNumber, subSequenceNumber: last.subSequenceNumber ?? 0 };
    return new Promise<void>((resolve, reject) => h.waiting.push({ resolve, reject }));
  }

  /** Whether some shard has enough batches waiting that its write should not wait for the tick. */
  get pressed(): boolean {
    for (const h of this.held.values()) if (h.waiting.length >= WAITING_BEFORE_PERSIST) return true;
    return false;
  }

  /** Per shard held, the last record its published part covers. */
  marks(): Record<string, ShardMark> {
    const out: Record<string, ShardMark> = {};
    for (const [id, h] of this.held) {
      const m = h.last ?? h.covered;
      if (m) out[id] = m;
    }
    return out;
  }

  /**
   * Writes the state of every shard with batches aggregated since its last write, and
   * acknowledges them. Writes run one after another, so an older state never lands last.
   */
  persist(): Promise<void> {
    const run = this.writing.then(() => this.persistOnce());
    this.writing = run.catch(() => undefined);
    return run;
  }

  private async persistOnce(): Promise<void> {
    const { states, key, worker, log } = this.host;
    await Promise.all(
      [...this.held].map(async ([shardId, h]) => {
        if (h.waiting.length === 0 || !h.last) return;
        const waiting = h.waiting;
        h.waiting = [];
        const mark = h.last;
        const row: ShardTapState = {
          shardId,
          at: Date.now(),
          worker,
          partial: this.host.partialOf(shardId),
          mark,
          watermark: this.host.watermark(),
        };
        try {
          const fits = await states.putShard(key, row);
          if (!fits && !h.warnedTooLarge) {
            h.warnedTooLarge = true;
            log.warn("a shard's tap state is too large for one item: after a restart or handoff it starts empty", {
              tap: key,
              shard: shardId,
            });
          }
        } catch (e) {
          // Not durable: these batches wait for the next write.
          if (this.held.get(shardId) === h) h.waiting.unshift(...waiting);
          throw e;
        }
        for (const w of waiting) w.resolve();
      }),
    );
  }

  /** This worker let go of the shard: batches still waiting are the next owner's to apply. */
  release(shardId: string): void {
    const h = this.held.get(shardId);
    if (!h) return;
    this.held.delete(shardId);
    const lost = new TributaryError('runtime.leaseLost', `the tap's shard ${shardId} moved to another worker`);
    for (const w of h.waiting) w.reject(lost);
  }

  /** Gives up every wait (the tap is closing without a last write). */
  releaseAll(): void {
    for (const id of [...this.held.keys()]) this.release(id);
  }

  private hold(shardId: string): Held {
    let h = this.held.get(shardId);
    if (h) return h;
    const entry: Held = {
      seeded: Promise.resolve(),
      done: false,
      covered: undefined,
      last: undefined,
      waiting: [],
      warnedTooLarge: false,
    };
    (entry as { seeded: Promise<void> }).seeded = this.host.states.shard(this.host.key, shardId).then((row) => {
      if (this.held.get(shardId) !== entry) return;
      if (row) {
        this.host.seed(row);
        entry.covered = row.mark;
      }
      entry.done = true;
    });
    // A failed read is retried by the next batch (the runner retries it).
    entry.seeded.catch(() => {
      if (this.held.get(shardId) === entry) this.held.delete(shardId);
    });
    h = entry;
    this.held.set(shardId, h);
    return h;
  }
}
