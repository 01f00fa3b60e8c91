/** One page of a sorted, paged sequence, with where to resume (absent on the last page). */
export interface Page<T, C> {
  readonly items: readonly T[];
  readonly next?: C;
}

/** Fetches the page after `after` (the first page when undefined). */
export type PageFetcher<T, C> = (after: C | undefined) => Promise<Page<T, C>>;

interface Cursor<T, C> {
  readonly fetch: PageFetcher<T, C>;
  readonly order: number;
  page: Page<T, C>;
  i: number;
}

/**
 * Merges sequences that are each sorted by `keyOf` into one sorted sequence (a k-way merge), one
 * page per sequence in memory at a time: a sequence's next page is fetched only once its current
 * one is used up. The first pages are fetched together. Equal keys come out in the order of the
 * fetchers. `first`, when given, holds first pages already requested (to read ahead).
 *
 * @example
 * ```ts
 * for await (const item of mergePaged(suffixes.map((s) => (after) => queryPage(s, after)), (i) => i.sk)) emit(item);
 * ```
 */
export async function* mergePaged<T, C>(
  fetchers: readonly PageFetcher<T, C>[],
  keyOf: (t: T) => string,
  first?: readonly Promise<Page<T, C>>[],
): AsyncGenerator<T, void, undefined> {
  const heap = new CursorHeap<T, C>(keyOf);
  const cursors = await Promise.all(
    fetchers.map(async (fetch, order) =>
      fill({ fetch, order, page: await (first?.[order] ?? fetch(undefined)), i: 0 }),
    ),
  );
  for (const c of cursors) if (c) heap.push(c);
  for (let c = heap.pop(); c; c = heap.pop()) {
    yield c.page.items[c.i]!;
    c.i++;
    const more = await fill(c);
    if (more) heap.push(more);
  }
}

/** Moves a cursor onto an item, fetching pages (empty ones too) as needed; undefined once it is exhausted. */
async function fill<T, C>(c: Cursor<T, C>): Promise<Cursor<T, C> | undefined> {
  while (c.i >= c.page.items.length) {
    if (c.page.next === undefined) return undefined;
    c.page = await c.fetch(c.page.next);
    c.i = 0;
  }
  return c;
}

/** A binary min-heap of cursors by the key of their current item, ties broken by fetcher order. */
class CursorHeap<T, C> {
  private readonly xs: Cursor<T, C>[] = [];
  constructor(private readonly keyOf: (t: T) => string) {}

  push(c: Cursor<T, C>): void {
    const xs = this.xs;
    xs.push(c);
    for (let i = xs.length - 1; i > 0;) {
      const parent = (i - 1) >> 1;
      if (!this.less(xs[i]!, xs[parent]!)) break;
      [xs[i], xs[parent]] = [xs[parent]!, xs[i]!];
      i = parent;
    }
  }

  pop(): Cursor<T, C> | undefined {
    const xs = this.xs;
    const top = xs[0];
    const last = xs.pop();
    if (xs.length === 0 || !last) return top;
    xs[0] = last;
    for (let i = 0; ;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < xs.length && this.less(xs[l]!, xs[m]!)) m = l;
      if (r < xs.length && this.less(xs[r]!, xs[m]!)) m = r;
      if (m === i) break;
      [xs[i], xs[m]] = [xs[m]!, xs[i]!];
      i = m;
    }
    return top;
  }

  private less(a: Cursor<T, C>, b: Cursor<T, C>): boolean {
    const ka = this.keyOf(a.page.items[a.i]!);
    const kb = this.keyOf(b.page.items[b.i]!);
    return ka < kb || (ka === kb && a.order < b.order);
  }
}
