import type { Json } from './aggregation.js';
import type { ShardFrontier } from './watermarks.js';
import type { Window } from './window.js';

/** What both result events carry: a window and key, and the aggregates so far. */
interface ResultEvent<V> {
  readonly window: Window;
  /** `'<start>-<end>'`: stable across processes. */
  readonly windowId: string;
  readonly key: string;
  /** The aggregates of the window and key, by the names of the aggregate spec. */
  readonly value: V;
  /**
   * Session windows only: windows sent in earlier events that this one replaces, because the
   * session grew (its end moved) or merged with another. Absent when there are none.
   */
  readonly replaces?: readonly Window[];
  /** With `withStates`: the aggregation state of each shard, as JSON (what `mergePartials` takes). */
  readonly states?: { readonly [shardId: string]: Json };
}

/** A window and key changed since the last `advance` and is still open: its aggregates so far. */
export interface UpdateEvent<V> extends ResultEvent<V> {
  readonly type: 'update';
  readonly final: false;
}

/**
 * A window closed (the watermark passed its end plus the allowed lateness): its aggregates, once
 * per window and key. Its state is dropped after this event.
 */
export interface FinalEvent<V> extends ResultEvent<V> {
  readonly type: 'final';
  readonly final: true;
}

/**
 * A record that came for a window already closed: it is not in any aggregate of that window. One
 * event per record and closed window (a hopping window's record may be late for its older windows
 * only, and aggregated in the others).
 */
export interface LateEvent<R> {
  readonly type: 'late';
  readonly reason: 'windowClosed';
  readonly record: R;
  readonly shardId: string;
  readonly key: string;
  readonly eventTime: number;
  /** The closed window (for sessions, the record's own `[t, t + gap)`). */
  readonly window: Window;
  readonly windowId: string;
  /** The watermark up to which windows had closed when the record came. */
  readonly watermark: number;
}

/** What `advance` returns: late records first, in the order they came, then updates, then finals. */
export type WindowEvent<R, V> = LateEvent<R> | UpdateEvent<V> | FinalEvent<V>;

/** An open window and key, with its aggregates so far (`snapshot`). */
export interface WindowSnapshot<V> {
  readonly window: Window;
  readonly windowId: string;
  readonly key: string;
  readonly value: V;
}

/** Where a windowed aggregation is in event time, and what it has counted (`progress`). */
export interface WindowProgress {
  /** The app's watermark: the least of its active shards' watermarks, never moving back. */
  readonly watermark: number;
  /** Each shard's latest event time, watermark and status. */
  readonly shards: readonly ShardFrontier[];
  /** Open cells (windows × keys) held in memory. */
  readonly openCells: number;
  /** Records added. */
  readonly records: number;
  /** Records placed in windows: one per record for tumbling and session windows, size / hop for hopping ones. */
  readonly assigned: number;
  /** Of those, the (record, window) pairs that came after their window closed (late events). */
  readonly late: number;
}
