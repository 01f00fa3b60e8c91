import { describe, expect, it } from 'vitest';
import type { AggregateResult, Aggregation, Json } from '../../src/operators/windows/aggregation.js';
import {
  hoppingWindows,
  sessionWindows,
  tumblingWindows,
  windowsOf,
  type WindowAssigner,
} from '../../src/operators/windows/assigners.js';
import { distinct } from '../../src/operators/windows/distinct.js';
import type { FinalEvent, LateEvent, WindowEvent } from '../../src/operators/windows/events.js';
import { avg, count, max, min, sum } from '../../src/operators/windows/exact-aggregations.js';
import { percentiles } from '../../src/operators/windows/percentiles.js';
import { topK } from '../../src/operators/windows/top-k.js';
import { WindowedAggregation } from '../../src/operators/windows/windowed-aggregation.js';
import { windowId, type Window } from '../../src/operators/windows/window.js';

/**
 * The engine against a brute-force oracle: random batches over several shards (out of order
 * within the bound, some behind the watermark within the grace, some late beyond it), the
 * expected aggregates computed from the input alone, and the engine's finals and late events
 * checked against them.
 */

interface Rec {
  readonly id: number;
  readonly shard: string;
  readonly key: string;
  readonly t: number;
  readonly amount: number;
  readonly user: string;
  readonly page: string;
  readonly ms: number;
  /** Made to come after all its windows closed. */
  readonly late: boolean;
  /** Made to come behind the watermark, within the allowed lateness. */
  readonly grace: boolean;
}

/** mulberry32: a small seeded generator, so every run draws the same inputs. */
function rng(seed: number): {
  int(lo: number, hi: number): number;
  pick<T>(xs: readonly T[]): T;
  chance(p: number): boolean;
} {
  let a = seed >>> 0;
  const next = (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    int: (lo, hi) => lo + Math.floor(next() * (hi - lo + 1)),
    pick: (xs) => xs[Math.floor(next() * xs.length)]!,
    chance: (p) => next() < p,
  };
}

/** The record ids of a window and key: an exact custom aggregation, to follow every record. */
function ids(): Aggregation<Rec, Set<number>, number[], number> {
  return {
    describe: () => ({ kind: 'ids' }),
    extract: (r) => r.id,
    init: () => new Set(),
    add: (s, id) => s.add(id),
    merge: (a, b) => {
      for (const id of b) a.add(id);
      return a;
    },
    result: (s) => [...s].sort((x, y) => x - y),
    toJSON: (s) => [...s].sort((x, y) => x - y),
    fromJSON: (j: Json) => new Set(j as number[]),
  };
}

const ALPHA = 0.01;
const QUANTILES = [0.5, 0.9, 0.99] as const;
const spec = {
  n: count<Rec>(),
  total: sum((r: Rec) => r.amount),
  lo: min((r: Rec) => r.ms),
  hi: max((r: Rec) => r.ms),
  mean: avg((r: Rec) => r.ms),
  users: distinct((r: Rec) => r.user),
  pages: topK(3, (r: Rec) => r.page),
  latency: percentiles((r: Rec) => r.ms, QUANTILES, { relativeAccuracy: ALPHA }),
  ids: ids(),
};

interface Scenario {
  readonly name: string;
  readonly window: WindowAssigner;
  readonly latenessMs: number;
  readonly outOfOrderMs: number;
  readonly seed: number;
}

const SHARDS = ['s0', 's1', 's2', 's3'];
const KEYS = ['a', 'b', 'c', 'd', 'e'];
const PAGES = ['/', '/cart', '/buy', '/help', '/about', '/faq', '/login', '/x'];
const START = 1_700_000_000_000;

interface Step {
  readonly kind: 'add' | 'advance' | 'end';
  readonly shard?: string;
  readonly batch?: readonly Rec[];
  readonly now?: number;
  /** For advance: the watermark the oracle expects. */
  readonly watermark?: number;
}

/**
 * A run's input as steps (batches, advances, a shard's end), with the oracle's watermark after
 * each advance: per shard the latest time minus the out-of-orderness, the least over the shards
 * that have not ended, never back. Records are on time (at most `outOfOrderMs` behind their
 * shard's latest), within the grace (behind the watermark by less than the lateness), or late
 * (their windows ended at least the lateness before the watermark).
 */
function generate(s: Scenario, records = 2_500): Step[] {
  const r = rng(s.seed);
  const span = s.window.kind === 'session' ? s.window.gapMs : s.window.sizeMs;
  const clock = new Map(SHARDS.map((sh) => [sh, START + r.int(0, 500)]));
  const latest = new Map<string, number>();
  const ended = new Set<string>();
  const steps: Step[] = [];
  let watermark = -Infinity;
  let id = 0;
  let now = 0;
  while (id < records) {
    const shard = r.pick(SHARDS.filter((sh) => !ended.has(sh)));
    const batch: Rec[] = [];
    for (let i = r.int(1, 15); i > 0 && id < records; i--) {
      const c = clock.get(shard)! + r.int(0, 60);
      clock.set(shard, c);
      let t = c - r.int(0, s.outOfOrderMs);
      let late = false;
      let grace = false;
      let key = r.pick(KEYS);
      const roll = r.int(1, 100);
      if (Number.isFinite(watermark) && roll <= 6 && s.latenessMs > 0) {
        t = watermark - r.int(1, s.latenessMs);
        grace = true;
      } else if (Number.isFinite(watermark) && roll <= 12) {
        // Late: every window of t ended at least the lateness before the watermark. A session's
        // late records have a key of their own, so that no open session can take them in.
        t = watermark - s.latenessMs - span - r.int(0, 3 * span);
        late = true;
        if (s.window.kind === 'session') key = 'late-only';
      }
      latest.set(shard, Math.max(latest.get(shard) ?? -Infinity, t));
      batch.push({
        id: id++,
        shard,
        key,
        t,
        amount: r.int(1, 1000),
        user: `u${r.int(1, 400)}`,
        page: r.pick(PAGES),
        ms: r.int(1, 5000) / 10,
        late,
        grace,
      });
    }
    steps.push({ kind: 'add', shard, batch });
    // Now and then every shard goes quiet for a while, so that sessions end and windows are empty.
    if (r.chance(0.04)) for (const sh of SHARDS) clock.set(sh, clock.get(sh)! + r.int(span, 4 * span));
    if (r.chance(0.3)) {
      now += r.int(100, 1000);
      const holding = SHARDS.filter((sh) => !ended.has(sh));
      const least = Math.min(...holding.map((sh) => (latest.get(sh) ?? -Infinity) - s.outOfOrderMs));
      if (holding.length > 0 && least > watermark) watermark = least;
      steps.push({ kind: 'advance', now, watermark });
    }
    // One shard ends two thirds in (a resharding parent): it must stop holding the watermark.
    if (id > (records * 2) / 3 && !ended.has('s3')) {
      ended.add('s3');
      steps.push({ kind: 'end', shard: 's3' });
    }
  }
  return steps;
}

type Value = AggregateResult<typeof spec>;

function run(s: Scenario, steps: readonly Step[]) {
  const engine = new WindowedAggregation(
    {
      window: s.window,
      time: (r: Rec) => r.t,
      key: (r) => r.key,
      allowedLatenessMs: s.latenessMs,
      maxOutOfOrderMs: s.outOfOrderMs,
    },
    spec,
  );
  for (const shard of SHARDS) engine.addShard(shard);
  const events: WindowEvent<Rec, Value>[] = [];
  const watermarks: number[] = [];
  const frontiers = new Map<string, number[]>();
  for (const step of steps) {
    if (step.kind === 'add') engine.add(step.shard!, step.batch!);
    else if (step.kind === 'end') engine.endShard(step.shard!);
    else {
      events.push(...engine.advance(step.now!));
      const p = engine.progress();
      expect(p.watermark, 'the watermark the oracle computes').toBe(step.watermark);
      watermarks.push(p.watermark);
      for (const f of p.shards) frontiers.set(f.shardId, [...(frontiers.get(f.shardId) ?? []), f.watermark]);
      // Memory holds open windows only: nothing the watermark has closed is still there.
      for (const open of engine.snapshot()) expect(open.window.end + s.latenessMs).toBeGreaterThan(p.watermark);
    }
  }
  events.push(...engine.finish());
  expect(engine.progress().openCells).toBe(0);
  return {
    events,
    watermarks,
    frontiers,
    finals: events.filter((e): e is FinalEvent<Value> => e.type === 'final'),
    lates: events.filter((e): e is LateEvent<Rec> => e.type === 'late'),
    progress: engine.progress(),
  };
}

interface Expected {
  readonly window: Window;
  readonly key: string;
  readonly records: Rec[];
}

/** The oracle: the windows and keys of the records that are not late, from the input alone. */
function expectedCells(s: Scenario, records: readonly Rec[]): Map<string, Expected> {
  const out = new Map<string, Expected>();
  const put = (window: Window, key: string, r: Rec): void => {
    const id = `${windowId(window)}|${key}`;
    const e = out.get(id) ?? { window, key, records: [] };
    e.records.push(r);
    out.set(id, e);
  };
  const onTime = records.filter((r) => !r.late);
  const w = s.window;
  if (w.kind !== 'session') {
    for (const r of onTime) for (const win of windowsOf(w, r.t)) put(win, r.key, r);
    return out;
  }
  for (const key of KEYS) {
    const mine = onTime.filter((r) => r.key === key).sort((a, b) => a.t - b.t);
    let session: Rec[] = [];
    const flush = (): void => {
      const win = { start: session[0]!.t, end: Math.max(...session.map((r) => r.t)) + w.gapMs };
      for (const r of session) put(win, key, r);
    };
    for (const r of mine) {
      if (session.length > 0 && r.t >= session[session.length - 1]!.t + w.gapMs) {
        flush();
        session = [];
      }
      session.push(r);
    }
    if (session.length > 0) flush();
  }
  return out;
}

function exactTop(records: readonly Rec[], k: number): { value: string; count: number; error: number }[] {
  const counts = new Map<string, number>();
  for (const r of records) counts.set(r.page, (counts.get(r.page) ?? 0) + 1);
  return [...counts.entries()]
    .sort(([va, a], [vb, b]) => b - a || (va < vb ? -1 : 1))
    .slice(0, k)
    .map(([value, count]) => ({ value, count, error: 0 }));
}

function checkAgainstOracle(e: Expected, v: Value): void {
  const rs = e.records;
  const ms = rs.map((r) => r.ms).sort((a, b) => a - b);
  expect(v.n).toBe(rs.length);
  expect(v.total).toBe(rs.reduce((a, r) => a + r.amount, 0));
  expect(v.lo).toBe(ms[0]);
  expect(v.hi).toBe(ms[ms.length - 1]);
  expect(v.mean).toBeCloseTo(ms.reduce((a, x) => a + x, 0) / ms.length, 9);
  expect(v.ids).toEqual(rs.map((r) => r.id).sort((a, b) => a - b));
  // Distinct: within 4 standard errors (1.625 % each at precision 12), and ±1 for tiny counts.
  const users = new Set(rs.map((r) => r.user)).size;
  expect(Math.abs(v.users - users)).toBeLessThanOrEqual(Math.max(1, 4 * 0.01625 * users));
  // Eight pages, fewer than the 100 counters: top-k is exact.
  expect(v.pages).toEqual(exactTop(rs, 3));
  // Each quantile within α of the exact order statistic at rank q(n - 1), rounded either way.
  for (const q of QUANTILES) {
    const got = v.latency[`${q}`]!;
    const lo = ms[Math.floor(q * (ms.length - 1))]!;
    const hi = ms[Math.ceil(q * (ms.length - 1))]!;
    expect(got).toBeGreaterThanOrEqual(lo * (1 - ALPHA) - 1e-9);
    expect(got).toBeLessThanOrEqual(hi * (1 + ALPHA) + 1e-9);
  }
}

const SCENARIOS: Scenario[] = [
  { name: 'tumbling, grace 400 ms', window: tumblingWindows(1_000), latenessMs: 400, outOfOrderMs: 300, seed: 1 },
  { name: 'tumbling, no grace', window: tumblingWindows(700), latenessMs: 0, outOfOrderMs: 200, seed: 2 },
  { name: 'hopping 3 s every 1 s', window: hoppingWindows(3_000, 1_000), latenessMs: 500, outOfOrderMs: 250, seed: 3 },
  { name: 'sessions, gap 150 ms', window: sessionWindows(150), latenessMs: 300, outOfOrderMs: 200, seed: 4 },
  { name: 'sessions, gap 400 ms, no grace', window: sessionWindows(400), latenessMs: 0, outOfOrderMs: 100, seed: 5 },
];

describe('windowed aggregation against a brute-force oracle', () => {
  for (const s of SCENARIOS) {
    describe(s.name, () => {
      const steps = generate(s);
      const records = steps.flatMap((st) => st.batch ?? []);
      // Run once, on first use inside a test: a failed check during the run fails the tests, not the file's collection.
      let ran: ReturnType<typeof run> | undefined;
      const result = (): ReturnType<typeof run> => (ran ??= run(s, steps));
      const perRecord = s.window.kind === 'hopping' ? s.window.sizeMs / s.window.hopMs : 1;

      it('made a test worth running: on-time, in-grace and late records, and several finals', () => {
        expect(records.filter((r) => r.late).length).toBeGreaterThan(50);
        if (s.latenessMs > 0) expect(records.filter((r) => r.grace).length).toBeGreaterThan(50);
        expect(result().finals.length).toBeGreaterThan(50);
      });

      it('sends one final per window and key, with the aggregates the oracle computes', () => {
        const expected = expectedCells(s, records);
        const seen = new Set<string>();
        for (const f of result().finals) {
          const id = `${f.windowId}|${f.key}`;
          expect(seen.has(id), `a second final for ${id}`).toBe(false);
          seen.add(id);
          const e = expected.get(id);
          expect(e, `a final the oracle does not expect: ${id}`).toBeDefined();
          checkAgainstOracle(e!, f.value);
        }
        expect([...seen].sort()).toEqual([...expected.keys()].sort());
      });

      it('puts every record in a final or in the late output, once per window it belongs to', () => {
        const placed = new Map<number, number>();
        for (const f of result().finals) for (const id of f.value.ids) placed.set(id, (placed.get(id) ?? 0) + 1);
        for (const l of result().lates) placed.set(l.record.id, (placed.get(l.record.id) ?? 0) + 1);
        for (const r of records) expect(placed.get(r.id), `record ${r.id}`).toBe(perRecord);
        const aggregated = result().finals.reduce((a, f) => a + f.value.n, 0);
        expect(result().progress.records).toBe(records.length);
        expect(result().progress.assigned).toBe(records.length * perRecord);
        expect(aggregated + result().progress.late).toBe(result().progress.assigned);
        expect(result().lates.length).toBe(result().progress.late);
      });

      it('sends exactly the records made late to the late output, with their closed window', () => {
        expect(new Set(result().lates.map((l) => l.record.id))).toEqual(
          new Set(records.filter((r) => r.late).map((r) => r.id)),
        );
        for (const l of result().lates) {
          expect(l.reason).toBe('windowClosed');
          expect(l.window.end + s.latenessMs).toBeLessThanOrEqual(l.watermark);
          expect(l.window.start).toBeLessThanOrEqual(l.eventTime);
          expect(l.eventTime).toBeLessThan(l.window.end);
        }
      });

      it('never moves a watermark back, the app one or any shard one', () => {
        for (const series of [result().watermarks, ...result().frontiers.values()])
          for (let i = 1; i < series.length; i++) expect(series[i]!).toBeGreaterThanOrEqual(series[i - 1]!);
        expect(new Set(result().watermarks).size).toBeGreaterThan(10);
      });

      it('sends no update for a window and key after its final', () => {
        const closed = new Set<string>();
        for (const e of result().events) {
          if (e.type === 'late') continue;
          const id = `${e.windowId}|${e.key}`;
          expect(closed.has(id), id).toBe(false);
          if (e.type === 'final') closed.add(id);
        }
      });
    });
  }
});

describe('partials merged across a 2-way shard split', () => {
  for (const s of SCENARIOS) {
    it(`equal one engine over all shards (${s.name})`, () => {
      // No advance: workers with different shards close windows at different times, and a
      // closed window's state is gone. Partials are exchanged while the windows are open.
      const steps = generate({ ...s, seed: s.seed + 100 }, 1_500).filter((st) => st.kind === 'add');
      const make = () =>
        new WindowedAggregation(
          { window: s.window, time: (r: Rec) => r.t, key: (r) => r.key, allowedLatenessMs: s.latenessMs },
          spec,
        );
      const whole = make();
      const left = make();
      const right = make();
      for (const st of steps) {
        whole.add(st.shard!, st.batch!);
        (['s0', 's1'].includes(st.shard!) ? left : right).add(st.shard!, st.batch!);
      }
      const viaJson = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;

      const merged = make();
      expect(merged.mergePartials(viaJson(left.partials()), viaJson(right.partials())).closed).toEqual([]);
      const split = make();
      split.mergePartials(viaJson(whole.partials(['s0', 's1'])), viaJson(whole.partials(['s2', 's3'])));

      const finals = (e: typeof whole) =>
        e
          .finish()
          .filter((x) => x.type === 'final')
          // A mean of fractions depends on the order its sums were added in, to the last bit:
          // sessions that merge in a different order here and there may differ there.
          .map((x) => ({
            windowId: x.windowId,
            key: x.key,
            value: { ...x.value, mean: x.value.mean?.toPrecision(12) },
          }));
      const expected = finals(whole);
      expect(expected.length).toBeGreaterThan(20);
      expect(finals(merged)).toEqual(expected);
      expect(finals(split)).toEqual(expected);
    });
  }
});
