import { comparePosition } from '../core/position.js';
import type { SourceRecord } from '../core/records.js';
import type { Logger } from '../observe/log.js';
import type { AggregateResult, AggregateSpec } from '../operators/windows/aggregation.js';
import type { WindowEvent } from '../operators/windows/events.js';
import type { PartialCell, TapPartial } from '../operators/windows/partials.js';
import { WindowedAggregation } from '../operators/windows/windowed-aggregation.js';
import type { TapEvent, TapValue } from './events.js';
import type { TapFeed } from './feed.js';
import type { ShardMark, TapStateTable, WorkerTapState } from './state-table.js';
import type { TapOptions } from './tap.js';

/** How long a worker keeps publishing a window it closed, for the others' merge of its final. */
const FINALS_KEPT_MS = 60_000;

/** Where a tap's workers meet: the state table, this worker's name, and when another's state is stale. */
export interface TapSharing {
  readonly states: TapStateTable;
  readonly app: string;
  readonly worker: string;
  /** A worker's state older than this is left out (the worker is gone; its shards' new owner reads them). */
  readonly staleMs: number;
  /** Where failed exchanges with the state table (retried at the next tick) are reported. */
  readonly log: Logger;
}

/** This worker's side of a tick: its engine's events and what it holds. */
export interface LocalPart<R extends SourceRecord, A extends AggregateSpec<R>> {
  readonly events: readonly WindowEvent<R, AggregateResult<A>>[];
  /** Shards this worker reads. */
  readonly reading: ReadonlySet<string>;
  readonly marks: Record<string, ShardMark>;
  readonly late: number;
}

/**
 * A tap across workers: each tick publishes this worker's part (its shards' open windows, its
 * watermark and the windows it closed lately with their states), reads every worker's, and shows
 * their merge on the feed. A window is final once every live worker's watermark has passed it:
 * each worker's watermark already waits for the shards the others read, and for the listed shards
 * nobody reads yet. A shard two workers publish (a zombie resumed, or the moment of a handoff)
 * counts once, from the worker whose part of it reaches further.
 *
 * @example
 * ```ts
 * const view = new SharedTapView(engine, opts, feed, sharing, 'clicks');
 * const finals = await view.tick(Date.now(), { events: engine.advance(Date.now()), reading, marks, late: 0 });
 * ```
 */
export class SharedTapView<R extends SourceRecord, A extends AggregateSpec<R>> {
  private readonly recentFinals = new Map<string, WorkerTapState['finals'][number] & { at: number }>();
  /** Finals already published (global windows and keys), kept as long as a worker may still publish them. */
  private readonly published = new Map<string, number>();
  private readonly lastValues = new Map<string, string>();
  private lastSnapshot: TapValue<AggregateResult<A>>[] = [];
  private lastWatermark: number | null = null;

  constructor(
    private readonly engine: WindowedAggregation<R, A>,
    private readonly opts: TapOptions<R, A>,
    private readonly feed: TapFeed<AggregateResult<A>>,
    readonly sharing: TapSharing,
    private readonly tapName: string,
  ) {}

  /** The tap's key in the state table. */
  get key(): string {
    return `${this.sharing.app}#${this.tapName}`;
  }

  /** The merge as of the last tick, for a new subscriber. */
  snapshot(): TapEvent<AggregateResult<A>> {
    return { type: 'snapshot', values: this.lastSnapshot, watermark: this.lastWatermark };
  }

  /** Publishes this worker's part, merges every worker's, and returns the finals it published. */
  async tick(now: number, local: LocalPart<R, A>): Promise<TapValue<AggregateResult<A>>[]> {
    const { states, worker, staleMs } = this.sharing;
    for (const e of local.events)
      if (e.type === 'final' && e.states)
        this.recentFinals.set(`${e.windowId}|${e.key}`, {
          start: e.window.start,
          end: e.window.end,
          key: e.key,
          states: e.states as Record<string, unknown>,
          at: now,
        });
    for (const [k, f] of this.recentFinals) if (now - f.at > FINALS_KEPT_MS) this.recentFinals.delete(k);
    const mine: WorkerTapState = {
      worker,
      at: Date.now(),
      partial: this.engine.partials(local.reading),
      finals: [...this.recentFinals.values()].map(({ at: _at, ...f }) => f),
      watermark: finite(this.engine.progress().watermark),
      marks: local.marks,
    };
    // This worker's part is the one just made: the write and the read of the others' go together.
    const [, stored] = await Promise.all([states.put(this.key, mine), states.all(this.key)]);
    const all = [mine, ...stored.filter((s) => s.worker !== worker && Date.now() - s.at < staleMs)];
    // The others' shards hold this worker's watermark back too, so it never closes a window early.
    for (const s of all)
      if (s.worker !== worker) this.engine.mergePartials({ ...(s.partial as TapPartial), cells: [] });

    // The merge: every worker's open cells and recent finals, closed at the least of their watermarks.
    const slack = this.opts.maxOutOfOrderMs ?? 0;
    const owners = shardOwners(all);
    const merged = this.freshEngine();
    merged.mergePartials(
      ...all.map((s) => ({
        ...(s.partial as TapPartial),
        cells: ownCells((s.partial as TapPartial).cells, s.worker, owners),
        shards: [
          {
            shardId: `worker:${s.worker}`,
            maxEventTime: s.watermark === null ? null : s.watermark + slack,
            ended: false,
          },
        ],
      })),
      {
        version: 1,
        definition: this.engine.definition,
        shards: [],
        cells: all.flatMap((s) => ownCells(s.finals as readonly PartialCell[], s.worker, owners)),
      },
    );
    const closing = merged.advance(now);
    const updates = this.opts.emit !== 'final';
    const snapshot = merged.snapshot();
    for (const c of snapshot) {
      const id = `${c.windowId}|${c.key}`;
      const json = JSON.stringify(c.value);
      if (this.lastValues.get(id) === json) continue;
      this.lastValues.set(id, json);
      if (updates) this.feed.publish({ type: 'update', final: false, window: c.window, key: c.key, value: c.value });
    }
    const finals: TapValue<AggregateResult<A>>[] = [];
    for (const e of closing) {
      if (e.type !== 'final') continue;
      const id = `${e.windowId}|${e.key}`;
      this.lastValues.delete(id);
      if (this.published.has(id)) continue;
      this.published.set(id, now);
      this.feed.publish({ type: 'final', final: true, window: e.window, key: e.key, value: e.value });
      finals.push({ window: e.window, key: e.key, value: e.value });
    }
    for (const [id, at] of this.published) if (now - at > 2 * FINALS_KEPT_MS + staleMs) this.published.delete(id);
    this.lastSnapshot = snapshot.map((c) => ({ window: c.window, key: c.key, value: c.value }));
    this.lastWatermark = finite(merged.progress().watermark);
    this.publishProgress(all, local);
    return finals;
  }

  private publishProgress(all: readonly WorkerTapState[], local: LocalPart<R, A>): void {
    const { worker } = this.sharing;
    const slack = this.opts.maxOutOfOrderMs ?? 0;
    this.feed.publish({
      type: 'progress',
      watermark: this.lastWatermark,
      shards: [
        ...this.engine
          .progress()
          .shards.filter((s) => local.reading.has(s.shardId))
          .map((s) => ({ shardId: s.shardId, watermark: finite(s.watermark), status: s.status })),
        ...all
          .filter((s) => s.worker !== worker)
          .flatMap((s) =>
            ((s.partial as TapPartial).shards ?? []).map((sh) => ({
              shardId: sh.shardId,
              watermark: sh.maxEventTime === null ? null : sh.maxEventTime - slack,
              status: sh.ended ? 'ended' : `read by ${s.worker}`,
            })),
          ),
      ],
      late: local.late,
    });
  }

  /** An engine of the same definition, for a merge. */
  private freshEngine(): WindowedAggregation<R, A> {
    return new WindowedAggregation<R, A>(
      {
        window: this.opts.window,
        time: () => 0,
        maxOutOfOrderMs: this.opts.maxOutOfOrderMs ?? 0,
        allowedLatenessMs: this.opts.allowedLatenessMs ?? 0,
      },
      this.opts.aggregate,
    );
  }
}

/**
 * Per shard, the worker whose part of it counts: the one whose mark is furthest (the newest
 * owner has read at least as far as the state it started from), the later write on a tie.
 */
export function shardOwners(all: readonly Pick<WorkerTapState, 'worker' | 'at' | 'marks'>[]): Map<string, string> {
  const best = new Map<string, { worker: string; at: number; mark: ShardMark }>();
  for (const s of all)
    for (const [shardId, mark] of Object.entries(s.marks ?? {})) {
      const b = best.get(shardId);
      const c = b ? comparePosition(mark, b.mark) : 1;
      if (c > 0 || (c === 0 && s.at > b!.at)) best.set(shardId, { worker: s.worker, at: s.at, mark });
    }
  return new Map([...best].map(([id, b]) => [id, b.worker]));
}

/** A worker's cells with only the states of the shards it owns (see {@link shardOwners}). */
function ownCells(cells: readonly PartialCell[], worker: string, owners: ReadonlyMap<string, string>): PartialCell[] {
  const out: PartialCell[] = [];
  for (const c of cells) {
    const states = Object.entries(c.states).filter(([shardId]) => (owners.get(shardId) ?? worker) === worker);
    if (states.length === Object.keys(c.states).length) out.push(c);
    else if (states.length > 0) out.push({ ...c, states: Object.fromEntries(states) });
  }
  return out;
}

const finite = (n: number): number | null => (Number.isFinite(n) ? n : null);
