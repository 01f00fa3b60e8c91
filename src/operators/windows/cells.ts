import type { Aggregation, Json } from './aggregation.js';
import { windowId, type Window } from './window.js';

/**
 * The state of one window and key: one aggregation state per shard that had records for it, so
 * that a shard's part can be handed to another worker (its lease moved) or written on its own.
 */
export interface Cell<S> {
  window: Window;
  readonly key: string;
  readonly shards: Map<string, S>;
  /** The window last sent in an event, when it differs from `window` by now (a session grew). */
  emitted?: Window;
  /** Windows of sessions merged into this one that were sent in events before the merge. */
  replaced?: Window[];
}

/** The aggregation and the rule for closed windows, which both window stores need. */
export interface StoreContext<S, I> {
  readonly aggregation: Aggregation<unknown, S, unknown, I>;
  /** True when `w` has been closed (its final sent, or it is past the watermark and its grace). */
  readonly isClosed: (w: Window) => boolean;
}

/** What a window store holds: the open cells of one windowed aggregation. */
export interface WindowStore<S, I> {
  /** Aggregates one record's input for `shardId`; returns the closed windows it came too late for. */
  add(shardId: string, key: string, time: number, input: I): Window[];
  /** Merges a partial cell in, unless its window is closed (then returns false and changes nothing). */
  absorb(window: Window, key: string, states: ReadonlyMap<string, S>): boolean;
  /** Removes and returns the cells whose window is closed, in the order the watermark closes them. */
  close(): Cell<S>[];
  /** Removes and returns the cells changed since the last call that are still open. */
  takeChanged(): Cell<S>[];
  /** Every open cell. */
  cells(): Iterable<Cell<S>>;
  /** Removes a shard's states; a cell left with none is dropped. */
  dropShard(shardId: string): void;
}

/** Adds `input` to the cell's state for `shardId`. */
export function addToCell<S, I>(ctx: StoreContext<S, I>, cell: Cell<S>, shardId: string, input: I): void {
  const agg = ctx.aggregation;
  cell.shards.set(shardId, agg.add(cell.shards.get(shardId) ?? agg.init(), input));
}

/** Merges `states` (per shard) into the cell's; `states` is left as it was. */
export function mergeIntoCell<S>(
  agg: Aggregation<unknown, S, unknown, unknown>,
  cell: Cell<S>,
  states: ReadonlyMap<string, S>,
): void {
  for (const [shard, s] of states) {
    const mine = cell.shards.get(shard);
    cell.shards.set(shard, agg.merge(mine ?? agg.init(), s));
  }
}

/**
 * The cell's state over all its shards (a new state: the shards' states are not changed). Merged
 * in shard order, so that sums of fractions come out the same to the last bit whatever order the
 * shards' states arrived in (from records or from partials).
 */
export function cellState<S>(agg: Aggregation<unknown, S, unknown, unknown>, cell: Cell<S>): S {
  let acc = agg.init();
  for (const shard of [...cell.shards.keys()].sort()) acc = agg.merge(acc, cell.shards.get(shard)!);
  return acc;
}

/** The cell's per-shard states as JSON, by shard id. */
export function cellStatesJSON<S>(
  agg: Aggregation<unknown, S, unknown, unknown>,
  cell: Cell<S>,
  only?: ReadonlySet<string>,
): Record<string, Json> {
  const out: Record<string, Json> = {};
  for (const shard of [...cell.shards.keys()].sort()) {
    if (!only || only.has(shard)) out[shard] = agg.toJSON(cell.shards.get(shard)!);
  }
  return out;
}

/**
 * The windows this cell was sent under before and no longer is (sessions that grew or merged),
 * and marks the cell as sent under its current window.
 */
export function takeReplaced<S>(cell: Cell<S>): Window[] {
  const out = cell.replaced ?? [];
  if (cell.emitted && windowId(cell.emitted) !== windowId(cell.window)) out.push(cell.emitted);
  cell.emitted = cell.window;
  cell.replaced = undefined;
  return out;
}

/** Orders cells by window end, then start, then key. */
export function compareCells<S>(a: Cell<S>, b: Cell<S>): number {
  return a.window.end - b.window.end || a.window.start - b.window.start || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);
}
