import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import type { Effect } from '../../core/effects.js';
import { isTributaryError, TributaryError } from '../../core/errors.js';
import { FlushLoop } from '../../core/flush-loop.js';
import type { TableIO } from '../../core/table-io.js';
import { itemKeyOf, itemWrite, mergeEffect, type EffectsByItem, type MarkOnWrite } from './combine.js';
import { effectFailed, lost, send } from './item-send.js';
import type { ProgressTable, ShardProgress } from './progress.js';

/** A contiguous range of one shard's records, staged as effects, waiting for the commit that applies them. */
export interface CommitPart {
  /** The shard (`shardLane`). */
  readonly lane: string;
  /** Marks (`encodeMark`) of the range's first and last records. */
  readonly first: string;
  readonly last: string;
  readonly records: number;
  /** The range's effects, coalesced per item. */
  readonly effects: EffectsByItem;
  /** Retried or bisected by the runner, which waits for it: commit without the delay. */
  readonly urgent?: boolean;
}

/** A shard this committer writes for: its lease, epoch and mark attribute. */
export interface CommitShard {
  readonly leaseKey: string;
  readonly epoch: number;
  /** The hidden attribute of this pipeline's marks for this shard (`markAttribute`). */
  readonly mark: string;
  /** What was committed before this worker took the shard. */
  readonly progress: ShardProgress;
}

export interface CommitterDeps {
  readonly pipeline: string;
  readonly io: (physicalTable: string) => TableIO;
  readonly progress: Pick<ProgressTable, 'write'>;
  /** Resolves true once the shard's lease is safely held, false when it is lost (see `LeaseKeeper.whenValid`). */
  readonly whenValid: (leaseKey: string) => Promise<boolean>;
  readonly validity: (leaseKey: string) => 'valid' | 'lapsed' | 'lost';
  /** Batches of one shard the runner keeps unacknowledged: a shard with that many parts waiting can fetch no more. */
  readonly maxBatchesInFlight: number;
  /** Flush at the latest this long after the oldest waiting part. Default 200 ms. */
  readonly maxDelayMs?: number;
  /** Item writes in flight at once. Default 16. */
  readonly concurrency?: number;
}

interface Waiting {
  readonly part: CommitPart;
  readonly resolve: () => void;
  readonly reject: (e: unknown) => void;
  error?: unknown;
}

interface ShardState extends CommitShard {
  acked?: string;
  cuts: string[];
}

/** Records and distinct items past which a commit goes at once, as a counter view's flush does. */
const MAX_RECORDS = 20_000;
const MAX_ITEMS = 2_000;
/** Attempts of one item's write against marks that moved under it (another worker writing the same item). */
const MAX_MARK_ROUNDS = 20;

/**
 * Applies an exactly-once pipeline's effects. Parts (ranges of a shard's records) gather across
 * batches and shards like a counter view's flush, so 10,000 increments on 50 keys still become 50
 * writes; a commit then (1) checks each shard's lease is safely held, (2) writes each shard's
 * progress (what is acknowledged, and the end of this commit) fenced by the shard's epoch, and (3)
 * writes each item once, with every shard's applied mark, conditioned on the marks being below
 * the records it carries. An item whose condition fails already holds some of them (a replay
 * after a crash, a retried part, a zombie that wrote first): it is read, and written again with
 * only the parts it does not hold. Commits run one at a time. See docs/exactly-once.md.
 *
 * @example
 * ```ts
 * committer.openShard(lane, { leaseKey, epoch, mark: markAttribute(p, source, shardId), progress });
 * await committer.add({ lane, first, last, records: 1000, effects });
 * ```
 */
export class EffectCommitter extends FlushLoop<Waiting[]> {
  private readonly shards = new Map<string, ShardState>();
  private pending: Waiting[] = [];
  private pendingRecords = 0;
  private pendingItems = 0;
  private since = 0;
  /** Commits and item writes so far, for tests and the benchmark. */
  readonly stats = { commits: 0, writes: 0, replayedItems: 0, skippedParts: 0 };

  constructor(private readonly deps: CommitterDeps) {
    super();
  }

  /** Registers a shard this worker took; its progress as claimed. */
  openShard(lane: string, shard: CommitShard): void {
    this.shards.set(lane, { ...shard, acked: shard.progress.applied, cuts: [...shard.progress.cuts] });
  }

  closeShard(lane: string): void {
    this.shards.delete(lane);
  }

  /** The shard's records up to `mark` are acknowledged by every pipeline: written as `applied` with the next commit. */
  acknowledged(lane: string, mark: string): void {
    const s = this.shards.get(lane);
    if (s && (s.acked === undefined || mark > s.acked)) s.acked = mark;
  }

  /** Waits for the commit holding the part; rejects with its error (`runtime.leaseLost` when the shard was lost). */
  add(part: CommitPart): Promise<void> {
    if (part.effects.size === 0 && !this.shards.has(part.lane)) return Promise.reject(lost(part.lane));
    return new Promise<void>((resolve, reject) => {
      if (this.pending.length === 0) this.since = this.now();
      this.pending.push({ part, resolve, reject });
      this.pendingRecords += part.records;
      this.pendingItems += part.effects.size;
      this.maybeFlush();
    });
  }

  protected hasPending(): boolean {
    return this.pending.length > 0;
  }

  protected deadline(): number {
    return Math.max(this.since, this.idleSince) + (this.deps.maxDelayMs ?? 200);
  }

  protected due(now: number): boolean {
    if (this.pendingRecords >= MAX_RECORDS || this.pendingItems >= MAX_ITEMS) return true;
    if (this.pending.some((w) => w.part.urgent)) return true;
    // Every shard with something waiting can fetch no more until this commit: waiting gathers nothing.
    const perLane = new Map<string, number>();
    for (const w of this.pending) perLane.set(w.part.lane, (perLane.get(w.part.lane) ?? 0) + 1);
    const open = [...this.shards.keys()].filter((l) => this.deps.validity(this.shards.get(l)!.leaseKey) !== 'lost');
    if (open.every((l) => (perLane.get(l) ?? 0) >= this.deps.maxBatchesInFlight)) return true;
    return now >= this.deadline();
  }

  protected take(): Waiting[] {
    const batch = this.pending;
    this.pending = [];
    this.pendingRecords = 0;
    this.pendingItems = 0;
    return batch;
  }

  protected async run(waiting: Waiting[]): Promise<void> {
    try {
      const live = await this.fence(waiting);
      await this.writeItems(live);
    } catch (e) {
      for (const w of waiting) w.error ??= e;
    }
    this.stats.commits++;
    for (const w of waiting) {
      if (w.error === undefined) w.resolve();
      else w.reject(w.error);
    }
  }

  /** Steps (1) and (2): the parts whose shard is still this worker's, with their progress written. */
  private async fence(waiting: Waiting[]): Promise<Waiting[]> {
    const byLane = new Map<string, Waiting[]>();
    for (const w of waiting) (byLane.get(w.part.lane) ?? byLane.set(w.part.lane, []).get(w.part.lane)!).push(w);
    const held = new Set<string>();
    await Promise.all(
      [...byLane].map(async ([lane, ws]) => {
        const s = this.shards.get(lane);
        const end = ws.reduce((m, w) => (w.part.last > m ? w.part.last : m), '');
        if (s && (await this.deps.whenValid(s.leaseKey))) {
          const cuts = [...new Set([...s.cuts, end])].filter((c) => s.acked === undefined || c > s.acked).sort();
          if (await this.deps.progress.write(this.deps.pipeline, s.leaseKey, s.epoch, { applied: s.acked, cuts })) {
            s.cuts = cuts;
            held.add(lane);
            return;
          }
        }
        for (const w of ws) w.error = lost(lane);
      }),
    );
    return waiting.filter((w) => held.has(w.part.lane));
  }

  /** Step (3): each item written once with the marks of every shard that writes it. */
  private async writeItems(waiting: readonly Waiting[]): Promise<void> {
    const ends = new Map<string, string>();
    for (const w of waiting) if ((ends.get(w.part.lane) ?? '') < w.part.last) ends.set(w.part.lane, w.part.last);
    const items = new Map<string, { sample: Effect; parts: Waiting[] }>();
    for (const w of waiting)
      for (const [k, e] of w.part.effects) {
        const it = items.get(k) ?? items.set(k, { sample: e, parts: [] }).get(k)!;
        it.parts.push(w);
      }
    const queue = [...items.values()];
    let next = 0;
    const worker = async () => {
      while (next < queue.length) {
        const it = queue[next++]!;
        try {
          await this.writeItem(it.sample, it.parts, ends);
        } catch (e) {
          const err = e instanceof TributaryError ? e : effectFailed(it.sample, e);
          for (const w of it.parts) w.error ??= err;
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.deps.concurrency ?? 16, queue.length) }, worker));
  }

  private async writeItem(sample: Effect, parts: readonly Waiting[], ends: ReadonlyMap<string, string>): Promise<void> {
    const k = itemKeyOf(sample);
    const io = this.deps.io(sample.table);
    let carried = parts;
    for (let round = 0; round < MAX_MARK_ROUNDS; round++) {
      if (carried.length === 0) return;
      const merged: EffectsByItem = new Map();
      for (const w of carried) mergeEffect(merged, w.part.effects.get(k)!);
      const effect = merged.get(k)!;
      const marks: MarkOnWrite[] = [];
      if (!effect.idempotent) {
        for (const lane of new Set(carried.map((w) => w.part.lane))) {
          const s = this.shards.get(lane);
          if (!s) throw lost(lane);
          const first = carried
            .filter((w) => w.part.lane === lane)
            .reduce((m, w) => (w.part.first < m ? w.part.first : m), '\uffff');
          marks.push({ attribute: s.mark, first, end: ends.get(lane)! });
        }
      }
      const write = itemWrite(effect, marks);
      if (!write) return;
      const guard = () => {
        for (const lane of new Set(carried.map((w) => w.part.lane))) this.checkLease(lane);
      };
      this.stats.writes++;
      let applied: boolean;
      try {
        applied = await send(io, write, guard);
      } catch (e) {
        // One shard of the item was lost meanwhile: its parts stop here, the others' are written without them.
        if (!isTributaryError(e, 'runtime.leaseLost')) throw e;
        const lane = (e.details as { shard: string }).shard;
        for (const w of carried) if (w.part.lane === lane) w.error ??= e;
        carried = carried.filter((w) => w.part.lane !== lane);
        continue;
      }
      if (applied) return;
      if (effect.idempotent) {
        // The item's own condition failed: a mirror already holds this version or a newer one.
        if (effect.kind === 'add' || effect.condition?.onFailure !== 'fail') return;
        throw effectFailed(effect, 'the condition of the write failed');
      }
      // Some marks are not below the records: the item holds some of these parts already. Keep the others.
      this.stats.replayedItems++;
      const [held] = await io.batchGet([effect.key as Record<string, AttributeValue>], undefined, true);
      // Increments summing to zero on an item that does not exist: it holds nothing, and stays absent.
      if (!held && isNoOp(effect)) return;
      const stillDue: Waiting[] = [];
      for (const w of carried) {
        const shard = this.shards.get(w.part.lane);
        if (!shard) throw lost(w.part.lane);
        const mark = held?.[shard.mark]?.S;
        if (mark === undefined || mark < w.part.first) stillDue.push(w);
        else if (mark >= w.part.last) this.stats.skippedParts++;
        else
          throw new TributaryError(
            'sink.effectFailed',
            `exactly-once pipeline '${this.deps.pipeline}': item ${effect.id} of table ${effect.table} holds a mark inside a range being written (${w.part.first}..${w.part.last}, mark ${mark})`,
            { details: { table: effect.table, id: effect.id } },
          );
      }
      if (stillDue.length === carried.length && effect.kind !== 'add' && effect.condition)
        throw effectFailed(effect, 'the condition of the write failed');
      carried = stillDue;
    }
    throw effectFailed(sample, `the item's marks kept moving for ${MAX_MARK_ROUNDS} rounds`);
  }

  /** Throws unless the shard's lease is safely held: `runtime.leaseLapsed` (retried) or `runtime.leaseLost`. */
  private checkLease(lane: string): void {
    const s = this.shards.get(lane);
    const v = s ? this.deps.validity(s.leaseKey) : 'lost';
    if (v === 'valid') return;
    if (v === 'lost') throw lost(lane);
    throw new TributaryError('runtime.leaseLapsed', `the lease of shard ${lane} is not renewed yet; waiting to write`, {
      details: { shard: lane },
    });
  }
}

/** Increments that sum to zero: an `add` effect with no non-zero field. */
const isNoOp = (e: Effect): boolean => e.kind === 'add' && Object.values(e.add).every((v) => v === 0);
