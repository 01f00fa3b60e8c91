import {
  aggregateOf,
  callExtractor,
  invalidRecord,
  type AggregateResult,
  type AggregateSpec,
  type Aggregation,
  type SpecState,
} from './aggregation.js';
import type { WindowAssigner } from './assigners.js';
import { cellState, cellStatesJSON, compareCells, takeReplaced, type Cell, type WindowStore } from './cells.js';
import { wholeNumber } from './checks.js';
import type { FinalEvent, LateEvent, UpdateEvent, WindowEvent, WindowProgress, WindowSnapshot } from './events.js';
import { FixedWindowStore } from './fixed-store.js';
import { checkPartial, type PartialCell, type TapPartial } from './partials.js';
import { SessionStore } from './session-store.js';
import { Watermarks, type WatermarkOptions } from './watermarks.js';
import { windowId, type Window } from './window.js';

/** The definition of a {@link WindowedAggregation}, but for what it computes (its aggregate spec). */
export interface WindowedAggregationOptions<R> extends WatermarkOptions {
  /** Which windows a record is in: `tumblingWindows(...)`, `hoppingWindows(...)` or `sessionWindows(...)`. */
  readonly window: WindowAssigner;
  /** A record's event time: epoch ms or a `Date`. Annotate its parameter (`(r: KinesisRecord<Click>) => ...`): the record type flows from it. */
  readonly time: (record: R) => number | Date;
  /** What records are grouped by inside a window (a page, a user). Default: one group, key `''`. */
  readonly key?: (record: R) => string | number;
  /**
   * Grace: a window closes (its final is sent) once the watermark reaches its end plus this. A
   * record behind the watermark but within it still counts and updates the window. Default 0.
   */
  readonly allowedLatenessMs?: number;
  /** Update and final events carry each shard's state as JSON (`states`), to write for other workers. Default false. */
  readonly withStates?: boolean;
}

/** What {@link WindowedAggregation.add} did with a batch. */
export interface AddResult {
  readonly records: number;
  /** (record, window) pairs that were late; their late events come with the next `advance`. */
  readonly late: number;
}

/** What {@link WindowedAggregation.mergePartials} did. */
export interface MergeResult {
  /** Cells merged in. */
  readonly merged: number;
  /** Cells not merged because their window has already closed here: nothing of them was applied. */
  readonly closed: readonly PartialCell[];
}

interface Prepared<R> {
  readonly record: R;
  readonly time: number;
  readonly key: string;
  readonly input: unknown[];
}

/**
 * Event-time windowed aggregation: records come in per shard, are assigned to windows by their
 * event time, and aggregated per window and key; `advance(now)` moves the watermark and returns
 * what changed: `update`s for windows changed since the last call, a `final` for each window and
 * key that closed (then its state is dropped, so memory holds open windows only) and the `late`
 * records that came for windows already closed (never dropped silently: records placed in windows
 * = aggregated + late). Pure and deterministic: no timers, no clock, no AWS.
 *
 * Partial states go to JSON per shard (`partials`) and merge back (`mergePartials`), so workers
 * that read disjoint shards of one source can combine their states into the state of all records.
 *
 * The aggregate spec is the second argument, not an option: TypeScript fixes the record type from
 * the options first, so the spec's value functions (`(r) => r.value.ms`) are typed without
 * annotations; inside one object they would be `unknown`.
 *
 * @example
 * ```ts
 * const clicks = new WindowedAggregation(
 *   {
 *     window: tumblingWindows(60_000),
 *     time: (r: KinesisRecord<Click>) => r.value.at,
 *     key: (r) => r.value.page,
 *     allowedLatenessMs: 10_000,
 *     maxOutOfOrderMs: 5_000,
 *     idleTimeoutMs: 60_000,
 *   },
 *   { clicks: count(), users: distinct((r) => r.value.userId), p99: percentiles((r) => r.value.ms, [0.99]) },
 * );
 * clicks.add(batch.shardId, batch.records);
 * for (const e of clicks.advance(Date.now())) if (e.type === 'final') console.log(e.windowId, e.key, e.value.clicks);
 * ```
 */
export class WindowedAggregation<R, A extends AggregateSpec<R>> {
  private readonly aggregation: Aggregation<R, SpecState, AggregateResult<A>, unknown[]>;
  private readonly watermarks: Watermarks;
  private readonly store: WindowStore<SpecState, unknown[]>;
  private readonly latenessMs: number;
  private readonly keyOf: (record: R) => string | number;
  /** Windows ending at or before this minus the lateness have closed: the watermark of the last advance. */
  private closedThrough = -Infinity;
  /** The least `closedThrough` may be (see `holdClosed`). */
  private closedFloor = -Infinity;
  private pendingLate: LateEvent<R>[] = [];
  private counts = { records: 0, assigned: 0, late: 0 };
  private readonly windowsPerRecord: number;

  /**
   * @param options the windows, event time, key, lateness and watermark rules
   * @param aggregate what is computed per window and key, by name: `{ clicks: count(), p99: percentiles(...) }`
   */
  constructor(
    private readonly options: WindowedAggregationOptions<R>,
    aggregate: A,
  ) {
    this.aggregation = aggregateOf<R, A>(aggregate);
    this.watermarks = new Watermarks(options);
    this.latenessMs = wholeNumber('allowedLatenessMs', options.allowedLatenessMs ?? 0, 0);
    this.keyOf = options.key ?? (() => '');
    const ctx = {
      aggregation: this.aggregation as Aggregation<unknown, SpecState, unknown, unknown[]>,
      isClosed: (w: Window) => w.end + this.latenessMs <= this.closedThrough,
    };
    const w = options.window;
    this.windowsPerRecord = w.kind === 'hopping' ? w.sizeMs / w.hopMs : 1;
    this.store = w.kind === 'session' ? new SessionStore(w, ctx) : new FixedWindowStore(w, ctx);
  }

  /** The window assigner and what aggregations must share to merge: checked by `mergePartials`. */
  get definition(): TapPartial['definition'] {
    return { window: this.options.window, aggregate: this.aggregation.describe() };
  }

  /** Makes a shard known before its first record, so that it holds the watermark back (see `idleTimeoutMs`). */
  addShard(shardId: string): void {
    this.watermarks.addShard(shardId);
  }

  /**
   * Aggregates a batch of one shard. The batch is read whole first: a record whose time, key or
   * values cannot be read throws `window.invalidRecord` and leaves the state as it was, so a
   * runner can retry or bisect the batch. Records for closed windows become late events.
   */
  add(shardId: string, records: Iterable<R>): AddResult {
    const prepared = [...records].map((r) => this.prepare(r));
    let late = 0;
    for (const p of prepared) {
      this.watermarks.observe(shardId, p.time);
      const closed = this.store.add(shardId, p.key, p.time, p.input);
      this.counts.assigned += this.windowsPerRecord;
      for (const window of closed) {
        late += 1;
        this.pendingLate.push({
          type: 'late',
          reason: 'windowClosed',
          record: p.record,
          shardId,
          key: p.key,
          eventTime: p.time,
          window,
          windowId: windowId(window),
          watermark: this.closedThrough,
        });
      }
    }
    this.counts.records += prepared.length;
    this.counts.late += late;
    return { records: prepared.length, late };
  }

  /**
   * Moves the watermark at processing time `now` (epoch ms, from the caller's clock: it only
   * decides which shards are idle) and returns the late records since the last call, an update for
   * each window and key changed since then that is still open, and a final for each that closed.
   */
  advance(now: number): WindowEvent<R, AggregateResult<A>>[] {
    this.closedThrough = Math.max(this.closedFloor, this.watermarks.advance(now));
    return this.emit();
  }

  /**
   * Windows up to this watermark were closed elsewhere (by a shard's previous owner, whose state
   * this one goes on from): records for them are late here too, not counted in a window reopened
   * with only the records after the handoff. The watermark never goes below it from now on.
   */
  holdClosed(watermark: number): void {
    this.closedFloor = Math.max(this.closedFloor, watermark);
    this.closedThrough = Math.max(this.closedThrough, this.closedFloor);
  }

  /** Ends the input: the watermark goes to `+Infinity` and every open window closes (a bounded input, a backfill). */
  finish(): WindowEvent<R, AggregateResult<A>>[] {
    this.closedThrough = this.watermarks.finish();
    return this.emit();
  }

  /** The shard has no more records: it stops holding the watermark back. Its windows stay until they close. */
  endShard(shardId: string): void {
    this.watermarks.endShard(shardId);
  }

  /**
   * Lets go of a shard (its lease moved to another worker): returns its part of the open windows,
   * for the new owner's `mergePartials`, and removes it here, with its frontier.
   */
  removeShard(shardId: string): TapPartial {
    const handoff = this.partials([shardId]);
    this.store.dropShard(shardId);
    this.watermarks.removeShard(shardId);
    return handoff;
  }

  /** Every open window and key with its aggregates so far, in the order windows close. */
  snapshot(): WindowSnapshot<AggregateResult<A>>[] {
    const cells = [...this.store.cells()].sort(compareCells);
    return cells.map((c) => ({ window: c.window, windowId: windowId(c.window), key: c.key, value: this.valueOf(c) }));
  }

  /** The watermark, each shard's frontier, and what has been counted. */
  progress(): WindowProgress {
    let openCells = 0;
    for (const _ of this.store.cells()) openCells++;
    return { watermark: this.closedThrough, shards: this.watermarks.frontier(), openCells, ...this.counts };
  }

  /**
   * The open windows' states as JSON: of every shard, or of the given shards only (their
   * frontiers, and their part of each window).
   */
  partials(shards?: Iterable<string>): TapPartial {
    const only = shards === undefined ? undefined : new Set(shards);
    const frontier = this.watermarks.frontier().filter((f) => !only || only.has(f.shardId));
    const cells: PartialCell[] = [];
    for (const c of this.store.cells()) {
      const states = cellStatesJSON(this.aggregation, c, only);
      if (Object.keys(states).length > 0) cells.push({ start: c.window.start, end: c.window.end, key: c.key, states });
    }
    return {
      version: 1,
      definition: this.definition,
      shards: frontier.map((f) => ({
        shardId: f.shardId,
        maxEventTime: Number.isFinite(f.maxEventTime) ? f.maxEventTime : null,
        ended: f.status === 'ended',
      })),
      cells,
    };
  }

  /**
   * Merges other workers' partials (or a shard handed over by `removeShard`) into this state:
   * their shards become known here with their frontiers, and their open windows merge with these
   * (sessions that overlap merge). A partial must come from the same definition (`window.invalidState`
   * otherwise; every partial is checked before anything is merged). A cell whose window has
   * already closed here is not merged, and is returned.
   *
   * Merging partials of the same shard twice counts its records twice: give each shard's part once.
   */
  mergePartials(...partials: unknown[]): MergeResult {
    const checked = partials.map((p) => checkPartial(p, this.definition));
    const decoded = checked.map((p) => ({
      partial: p,
      cells: p.cells.map((c) => ({
        cell: c,
        states: new Map(Object.entries(c.states).map(([shard, j]) => [shard, this.aggregation.fromJSON(j)])),
      })),
    }));
    let merged = 0;
    const closed: PartialCell[] = [];
    for (const { partial, cells } of decoded) {
      for (const s of partial.shards) this.watermarks.restore(s.shardId, s.maxEventTime ?? -Infinity, s.ended);
      for (const { cell, states } of cells) {
        if (this.store.absorb({ start: cell.start, end: cell.end }, cell.key, states)) merged++;
        else closed.push(cell);
      }
    }
    return { merged, closed };
  }

  private prepare(record: R): Prepared<R> {
    const t = callExtractor('time', this.options.time, record);
    const time = t instanceof Date ? t.getTime() : t;
    if (typeof time !== 'number' || !Number.isFinite(time))
      throw invalidRecord(`time: the event time must be finite epoch ms or a valid Date, got ${String(t)}`);
    const k = callExtractor('key', this.keyOf, record);
    if (typeof k !== 'string' && !(typeof k === 'number' && Number.isFinite(k)))
      throw invalidRecord(`key: the key must be a string or a finite number, got ${typeof k}`);
    return { record, time, key: String(k), input: this.aggregation.extract(record) };
  }

  private emit(): WindowEvent<R, AggregateResult<A>>[] {
    const events: WindowEvent<R, AggregateResult<A>>[] = this.pendingLate;
    this.pendingLate = [];
    const finals = this.store.close();
    for (const c of this.store.takeChanged()) events.push({ type: 'update', final: false, ...this.result(c) });
    for (const c of finals) events.push({ type: 'final', final: true, ...this.result(c) });
    return events;
  }

  private result(
    c: Cell<SpecState>,
  ): Omit<UpdateEvent<AggregateResult<A>>, 'type' | 'final'> & Omit<FinalEvent<AggregateResult<A>>, 'type' | 'final'> {
    const replaces = takeReplaced(c);
    return {
      window: c.window,
      windowId: windowId(c.window),
      key: c.key,
      value: this.valueOf(c),
      ...(replaces.length > 0 ? { replaces } : {}),
      ...(this.options.withStates ? { states: cellStatesJSON(this.aggregation, c) } : {}),
    };
  }

  private valueOf(c: Cell<SpecState>): AggregateResult<A> {
    return this.aggregation.result(cellState(this.aggregation, c));
  }
}
