import type { SessionWindows } from './assigners.js';
import { addToCell, compareCells, mergeIntoCell, type Cell, type StoreContext, type WindowStore } from './cells.js';
import type { Window } from './window.js';

/**
 * The open sessions of each key, by start. A record opens `[t, t + gap)`; the sessions of its key
 * that overlap it merge into one (their states merge shard by shard), so a record that bridges two
 * sessions joins them. A session is closed once it is past the watermark and its grace; a record
 * whose own `[t, t + gap)` is closed and overlaps no open session of its key is late. A final is
 * final: a record that comes after its session's final, but whose `[t, t + gap)` still reaches
 * past the closing point, opens a new session rather than reopening the closed one.
 */
export class SessionStore<S, I> implements WindowStore<S, I> {
  private readonly sessions = new Map<string, Cell<S>[]>();
  private readonly changed = new Set<Cell<S>>();

  constructor(
    private readonly assigner: SessionWindows,
    private readonly ctx: StoreContext<S, I>,
  ) {}

  add(shardId: string, key: string, time: number, input: I): Window[] {
    const own = { start: time, end: time + this.assigner.gapMs };
    const cell = this.place(own, key);
    if (!cell) return [own];
    addToCell(this.ctx, cell, shardId, input);
    return [];
  }

  absorb(window: Window, key: string, states: ReadonlyMap<string, S>): boolean {
    const cell = this.place(window, key);
    if (!cell) return false;
    mergeIntoCell(this.ctx.aggregation, cell, states);
    return true;
  }

  close(): Cell<S>[] {
    const closed: Cell<S>[] = [];
    for (const [key, list] of this.sessions) {
      const open = list.filter((c) => {
        if (!this.ctx.isClosed(c.window)) return true;
        closed.push(c);
        this.changed.delete(c);
        return false;
      });
      if (open.length === 0) this.sessions.delete(key);
      else if (open.length < list.length) this.sessions.set(key, open);
    }
    return closed.sort(compareCells);
  }

  takeChanged(): Cell<S>[] {
    const out = [...this.changed].sort(compareCells);
    this.changed.clear();
    return out;
  }

  *cells(): Iterable<Cell<S>> {
    for (const list of this.sessions.values()) yield* list;
  }

  dropShard(shardId: string): void {
    for (const [key, list] of this.sessions) {
      const kept = list.filter((c) => {
        if (!c.shards.delete(shardId) || c.shards.size > 0) return true;
        this.changed.delete(c);
        return false;
      });
      if (kept.length === 0) this.sessions.delete(key);
      else this.sessions.set(key, kept);
    }
  }

  /**
   * The open session that `window` (a record's own, or a partial's session) belongs to, merging
   * the sessions it overlaps; undefined when it overlaps none and is closed by itself.
   */
  private place(window: Window, key: string): Cell<S> | undefined {
    const list = this.sessions.get(key) ?? [];
    const overlapping = list.filter((c) => c.window.start < window.end && window.start < c.window.end);
    if (overlapping.length === 0 && this.ctx.isClosed(window)) return undefined;
    let start = window.start;
    let end = window.end;
    for (const c of overlapping) {
      start = Math.min(start, c.window.start);
      end = Math.max(end, c.window.end);
    }
    const target: Cell<S> = overlapping[0] ?? { window, key, shards: new Map() };
    for (const other of overlapping.slice(1)) {
      mergeIntoCell(this.ctx.aggregation, target, other.shards);
      const sent = [...(other.replaced ?? []), ...(other.emitted ? [other.emitted] : [])];
      if (sent.length > 0) target.replaced = [...(target.replaced ?? []), ...sent];
      this.changed.delete(other);
    }
    target.window = { start, end };
    const rest = list.filter((c) => !overlapping.includes(c) || c === target);
    if (!overlapping[0]) rest.push(target);
    this.sessions.set(
      key,
      rest.sort((a, b) => a.window.start - b.window.start),
    );
    this.changed.add(target);
    return target;
  }
}
