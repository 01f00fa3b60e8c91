import { windowsOf, type FixedWindows } from './assigners.js';
import { addToCell, compareCells, mergeIntoCell, type Cell, type StoreContext, type WindowStore } from './cells.js';
import type { Window } from './window.js';

/** The open cells of tumbling or hopping windows, by window start, then key. */
export class FixedWindowStore<S, I> implements WindowStore<S, I> {
  private readonly windows = new Map<number, { readonly window: Window; readonly cells: Map<string, Cell<S>> }>();
  private readonly changed = new Set<Cell<S>>();

  constructor(
    private readonly assigner: FixedWindows,
    private readonly ctx: StoreContext<S, I>,
  ) {}

  add(shardId: string, key: string, time: number, input: I): Window[] {
    const late: Window[] = [];
    for (const w of windowsOf(this.assigner, time)) {
      if (this.ctx.isClosed(w)) late.push(w);
      else addToCell(this.ctx, this.cell(w, key), shardId, input);
    }
    return late;
  }

  absorb(window: Window, key: string, states: ReadonlyMap<string, S>): boolean {
    if (this.ctx.isClosed(window)) return false;
    mergeIntoCell(this.ctx.aggregation, this.cell(window, key), states);
    return true;
  }

  close(): Cell<S>[] {
    const closed: Cell<S>[] = [];
    for (const [start, w] of this.windows) {
      if (!this.ctx.isClosed(w.window)) continue;
      this.windows.delete(start);
      for (const c of w.cells.values()) {
        closed.push(c);
        this.changed.delete(c);
      }
    }
    return closed.sort(compareCells);
  }

  takeChanged(): Cell<S>[] {
    const out = [...this.changed].sort(compareCells);
    this.changed.clear();
    return out;
  }

  *cells(): Iterable<Cell<S>> {
    for (const w of this.windows.values()) yield* w.cells.values();
  }

  dropShard(shardId: string): void {
    for (const [start, w] of this.windows) {
      for (const [key, c] of w.cells) {
        if (!c.shards.delete(shardId) || c.shards.size > 0) continue;
        w.cells.delete(key);
        this.changed.delete(c);
      }
      if (w.cells.size === 0) this.windows.delete(start);
    }
  }

  /** The open cell of `window` and `key`, created if needed, marked as changed. */
  private cell(window: Window, key: string): Cell<S> {
    let w = this.windows.get(window.start);
    if (!w) {
      w = { window, cells: new Map() };
      this.windows.set(window.start, w);
    }
    let c = w.cells.get(key);
    if (!c) {
      c = { window: w.window, key, shards: new Map() };
      w.cells.set(key, c);
    }
    this.changed.add(c);
    return c;
  }
}
