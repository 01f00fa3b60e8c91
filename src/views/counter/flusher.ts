import { TributaryError } from '../../core/errors.js';
import { shardLane } from '../../core/serial-lanes.js';
import { mergeSums, toUpdates, type CounterUpdate, type SumsByKey } from './coalesce.js';
import { FlushLoop } from '../../core/flush-loop.js';
import { RetryCredits, type WriteOrigin } from './credits.js';
import type { ResolvedFlush } from './options.js';

/** Applies a flush's updates; resolves with the error of every key whose update failed for good. */
export type ApplyUpdates = (updates: readonly CounterUpdate[]) => Promise<ReadonlyMap<string, Error>>;

/** What a counter view has done so far. */
export interface CounterStats {
  /** Flushes finished (successful or not). */
  flushes: number;
  /** `UpdateItem` calls sent by flushes (one per key per flush). */
  updates: number;
  /** Records whose increments were flushed. */
  records: number;
  /** Writes (batches) acknowledged. */
  writes: number;
  /** Writes failed by a key whose update failed. */
  failedWrites: number;
}

/** A write waiting for the flush that holds its increments. */
interface Waiter {
  readonly origin: WriteOrigin;
  readonly keys: readonly string[];
  readonly resolve: () => void;
  readonly reject: (e: Error) => void;
}

/** Increments buffered for the next flush, and the writes waiting on them. */
class Pending {
  readonly sums: SumsByKey = new Map();
  readonly waiters: Waiter[] = [];
  readonly perLane = new Map<string, number>();
  records = 0;
  /** Shards with `maxBatchesPerShard` writes buffered: they can fetch no more until a flush. */
  stalled = 0;
  urgent = false;
  since = 0;
}

/**
 * A shard that wrote this recently is active: while some active shard can still fetch, a flush
 * waits (up to `maxDelayMs`) for it to fill its batches too, so that shards reading a backlog are
 * gathered in one flush rather than settling into cohorts that take turns.
 */
const ACTIVE_MS = 1_000;

/**
 * Coalesces increments across writes and flushes them one flush at a time. A write's promise
 * settles when the flush holding its increments has settled: resolved when every key it touched
 * is durable, rejected when one of them failed. Increments that arrive while a flush runs go to
 * the next one; no increment is in two flushes, and none is dropped.
 *
 * @example
 * ```ts
 * const f = new FlushScheduler(fields, applyThroughTableIO, resolveFlush());
 * await f.add(prepare(plan, outputs).sums, outputs.length, { pipeline: ctx.pipeline, positions: ctx.positions });
 * ```
 */
export class FlushScheduler extends FlushLoop<Pending> {
  readonly stats: CounterStats = { flushes: 0, updates: 0, records: 0, writes: 0, failedWrites: 0 };
  private pending = new Pending();
  /** Last write per shard. */
  private readonly lastWrite = new Map<string, number>();
  private readonly credits = new RetryCredits();

  constructor(
    private readonly fields: readonly string[],
    private readonly apply: ApplyUpdates,
    private readonly opts: ResolvedFlush,
    now: () => number = Date.now,
  ) {
    super(now);
  }

  /** Buffers one write's sums; resolves when they are durable. */
  add(sums: SumsByKey, records: number, origin: WriteOrigin): Promise<void> {
    const retried = this.credits.appliedFor(origin);
    for (const [id, e] of sums) if (retried?.has(id) || e.sums.every((v) => v === 0)) sums.delete(id);
    if (sums.size === 0) {
      this.stats.writes++;
      return Promise.resolve();
    }
    return new Promise<void>((resolve, reject) => {
      const p = this.pending;
      if (p.waiters.length === 0) p.since = this.now();
      // The runner awaits a retried or bisected write before trying the next part: do not make it wait for the delay.
      if (retried) p.urgent = true;
      mergeSums(p.sums, sums);
      p.records += records;
      p.waiters.push({ origin, keys: [...sums.keys()], resolve, reject });
      const lane = shardLane(origin.positions[0]);
      this.lastWrite.set(lane, this.now());
      const n = (p.perLane.get(lane) ?? 0) + 1;
      p.perLane.set(lane, n);
      if (n === this.opts.maxBatchesPerShard) p.stalled++;
      this.maybeFlush();
    });
  }

  /** Notes that a write was rejected before anything of it was buffered (a bad key or increment). */
  rejected(origin: WriteOrigin): void {
    this.credits.record(origin);
  }

  /**
   * `maxDelayMs` after the oldest buffered write, or after the last flush ended if that is later:
   * writes that arrived during a flush could not have been flushed before it ended anyway.
   */
  protected deadline(): number {
    return Math.max(this.pending.since, this.idleSince) + this.opts.maxDelayMs;
  }

  /** Shards that wrote, or were acknowledged, in the last second. */
  private activeLanes(now: number): number {
    for (const [lane, at] of this.lastWrite) if (now - at > ACTIVE_MS) this.lastWrite.delete(lane);
    return this.lastWrite.size;
  }

  protected hasPending(): boolean {
    return this.pending.waiters.length > 0;
  }

  protected due(now: number): boolean {
    const p = this.pending;
    return (
      p.urgent ||
      p.records >= this.opts.maxRecords ||
      p.sums.size >= this.opts.maxKeys ||
      // Every active shard can fetch no more until this flush: waiting longer gathers nothing.
      (p.stalled > 0 && p.stalled >= this.activeLanes(now)) ||
      now >= this.deadline()
    );
  }

  protected take(): Pending {
    const p = this.pending;
    this.pending = new Pending();
    return p;
  }

  protected override flushed(p: Pending): void {
    // Shards just acknowledged fetch again at once: count them active, so the next flush can gather them.
    for (const lane of p.perLane.keys()) this.lastWrite.set(lane, this.idleSince);
  }

  protected async run(p: Pending): Promise<void> {
    const updates = toUpdates(this.fields, p.sums);
    let failed: ReadonlyMap<string, Error>;
    try {
      failed = await this.apply(updates);
    } catch (e) {
      // Appliers report failures per key and do not throw; should one throw, no key is known to be durable.
      const err =
        e instanceof Error
          ? e
          : new TributaryError('view.updateFailed', `counter view flush failed: ${String(e)}`, { cause: e });
      failed = new Map(updates.map((u) => [u.id, err]));
    }
    this.stats.flushes++;
    this.stats.updates += updates.length;
    this.stats.records += p.records;
    for (const w of p.waiters) {
      const bad = failed.size === 0 ? undefined : w.keys.find((k) => failed.has(k));
      if (bad === undefined) {
        this.stats.writes++;
        w.resolve();
        continue;
      }
      this.credits.record(
        w.origin,
        w.keys.filter((k) => !failed.has(k)),
      );
      this.stats.failedWrites++;
      w.reject(failed.get(bad)!);
    }
  }
}
