import { describe, expect, it } from 'vitest';
import { mergePaged, type PageFetcher } from '../../src/views/event-table/merge.js';
import { seededRandom } from '../helpers.js';

/** A sorted list served in pages of `size`, counting the pages fetched and the most items held. */
function paged(items: readonly string[], size: number, stats: { fetches: number }): PageFetcher<string, number> {
  return async (after) => {
    stats.fetches++;
    const start = after ?? 0;
    const end = Math.min(items.length, start + size);
    return { items: items.slice(start, end), next: end < items.length ? end : undefined };
  };
}

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

describe('k-way merge of paged sorted sequences', () => {
  it('yields every item of every sequence in sorted order', async () => {
    const lists = [['a1', 'c3', 'c4', 'f'], [], ['b', 'c1', 'd', 'e', 'g', 'h'], ['a0', 'c2', 'z']];
    const stats = { fetches: 0 };
    const out = await collect(
      mergePaged(
        lists.map((l) => paged(l, 2, stats)),
        (s) => s,
      ),
    );
    expect(out).toEqual(lists.flat().sort());
  });

  it("holds one page per sequence: a sequence's next page is fetched only when its current one is used up", async () => {
    const stats = { fetches: 0 };
    const a = Array.from({ length: 10 }, (_, i) => `a${String(i).padStart(2, '0')}`);
    const b = Array.from({ length: 10 }, (_, i) => `b${String(i).padStart(2, '0')}`);
    const it = mergePaged([paged(a, 3, stats), paged(b, 3, stats)], (s) => s);
    const first = await it.next();
    expect(first.value).toBe('a00');
    expect(stats.fetches).toBe(2);
    const rest = await collect({ [Symbol.asyncIterator]: () => it });
    expect([first.value, ...rest]).toEqual([...a, ...b]);
    // 4 pages each (3+3+3+1), fetched once.
    expect(stats.fetches).toBe(8);
  });

  it('steps over empty pages that still have more behind them', async () => {
    const pages: Record<number, { items: string[]; next?: number }> = {
      0: { items: [], next: 1 },
      1: { items: [], next: 2 },
      2: { items: ['m'] },
    };
    const sparse: PageFetcher<string, number> = async (after) => pages[after ?? 0]!;
    const out = await collect(mergePaged([sparse, paged(['a', 'z'], 1, { fetches: 0 })], (s) => s));
    expect(out).toEqual(['a', 'm', 'z']);
  });

  it('keeps equal keys in the order of the sequences', async () => {
    const out = await collect(
      mergePaged(
        [paged(['k:1'], 1, { fetches: 0 }), paged(['k:1'], 1, { fetches: 0 })].map(
          (f, i) => async (c: number | undefined) => {
            const p = await f(c);
            return { ...p, items: p.items.map((x) => `${x}@${i}`) };
          },
        ),
        (s) => s.split('@')[0]!,
      ),
    );
    expect(out).toEqual(['k:1@0', 'k:1@1']);
  });

  it('merges many sequences (a heap, not a pairwise merge) correctly', async () => {
    const rnd = seededRandom(7);
    const lists = Array.from({ length: 37 }, () =>
      Array.from({ length: Math.floor(rnd() * 40) }, () => rnd().toFixed(6)).sort(),
    );
    const out = await collect(
      mergePaged(
        lists.map((l) => paged(l, 5, { fetches: 0 })),
        (s) => s,
      ),
    );
    expect(out).toEqual(lists.flat().sort());
  });
});
