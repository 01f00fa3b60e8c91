import { afterAll, describe, expect, it } from 'vitest';
import {
  app,
  count,
  destroyClients,
  distinct,
  kinesisStream,
  max,
  Runner,
  startHttpServer,
  sum,
  tap,
  tumblingWindows,
  type KinesisRecord,
  type TapEvent,
} from '../../src/index.js';
import { createAppTables, createStream } from '../../src/testing/index.js';
import { eventually, fastRunner, testClients, unique } from '../helpers.js';
import { clicksFrom, endMarkers, finalRows, oracle, putClicks, T0, WINDOW_MS, type Click } from './tap-clicks.js';

describe('a tap', () => {
  const clients = testClients();
  afterAll(() => destroyClients(clients));

  it('computes windowed aggregates over both shards equal to an oracle, counts late records, and its SSE feed resumes without gap or repeat', async () => {
    const stream = unique('tap_clicks');
    const finalsTable = unique('tap_finals');
    await createStream(clients.kinesis, stream, 2);
    const def = app(unique('tap'), [
      tap('per-page', {
        from: kinesisStream<Click>(stream),
        window: tumblingWindows(WINDOW_MS),
        key: (r: KinesisRecord<Click>) => r.value.page,
        time: (r) => r.value.at,
        aggregate: {
          clicks: count(),
          ms: sum((r: KinesisRecord<Click>) => r.value.ms),
          slowest: max((r: KinesisRecord<Click>) => r.value.ms),
          users: distinct((r: KinesisRecord<Click>) => r.value.user),
        },
        idleTimeoutMs: 20_000,
        updateEveryMs: 200,
        table: finalsTable,
      }),
    ]);
    await createAppTables(clients, def);
    const runner = new Runner(def, { ...fastRunner, clients, port: 0 });
    await runner.start();
    const server = await startHttpServer(runner, { port: 0, host: '127.0.0.1' });
    const seen: TapEvent[] = [];
    const sub = runner
      .tap('per-page')!
      .values()
      .subscribe((e) => seen.push(e));
    try {
      // 600 clicks over 6 windows, each shard's in time order; then one click far later on each
      // shard moves the watermark past them all.
      const clicks = clicksFrom(7, 600);
      const put = (cs: Parameters<typeof putClicks>[2]) => putClicks(clients.kinesis, stream, cs);
      await put(clicks.map((c, i) => ({ ...c, pk: `k${i % 2}` })));
      await put(endMarkers());
      const want = oracle(clicks);
      const finals = () => seen.filter((e): e is Extract<TapEvent, { type: 'final' }> => e.type === 'final');
      await eventually(async () => finals().length === want.size, 60_000, `${want.size} finals`);
      for (const f of finals()) {
        const v = f.value as { clicks: number; ms: number; slowest: number; users: number };
        const w = want.get(`${f.window.start}|${f.key}`)!;
        expect(v.clicks).toBe(w.clicks);
        expect(v.ms).toBe(w.ms);
        expect(v.slowest).toBe(w.slowest);
        // HyperLogLog: exact at these cardinalities within its stated bound.
        expect(Math.abs(v.users - w.users.size)).toBeLessThanOrEqual(Math.max(1, w.users.size * 0.05));
      }
      // Each window and key is final once, and its final is an item of the tap's table.
      expect(new Set(finals().map((f) => `${f.window.start}|${f.key}`)).size).toBe(finals().length);
      for (const { row, want: w } of await finalRows(clients.dynamodb, finalsTable, want))
        expect(row).toMatchObject({
          clicks: w.clicks,
          ms: w.ms,
          slowest: w.slowest,
          window: `${String(row.start)}-${Number(row.start) + WINDOW_MS}`,
        });

      // A click for a closed window is late: counted in progress, not in any final.
      await put([{ page: '/p0', at: T0 + 50, ms: 1, user: 'u1', pk: 'k0' }]);
      await eventually(
        async () => seen.some((e) => e.type === 'progress' && e.late === 1),
        30_000,
        'the late click in progress',
      );
      expect(runner.tap('per-page')!.late().count).toBe(1);
      expect(finals()).toHaveLength(want.size);

      // SSE: read some events, come back with the last id, and get the next ones: no gap, no repeat.
      const read = async (url: string, headers: Record<string, string>, n: number) => {
        const ac = new AbortController();
        const res = await fetch(url, { headers, signal: ac.signal });
        const reader = res.body!.getReader();
        const ids: string[] = [];
        let buf = '';
        while (ids.length < n) {
          const { value, done } = await reader.read();
          if (done) break;
          buf += Buffer.from(value).toString();
          for (let i = buf.indexOf('\n\n'); i >= 0; i = buf.indexOf('\n\n')) {
            const frame = buf.slice(0, i);
            buf = buf.slice(i + 2);
            const id = /^id: (.*)$/m.exec(frame)?.[1];
            if (id) ids.push(id);
          }
        }
        ac.abort();
        return ids;
      };
      const url = `${server.url}/taps/per-page`;
      const first = await read(url, {}, 4);
      const seq = (id: string) => Number(id.split('.')[1]);
      // The first event is the snapshot, carrying the token of the last event it covers.
      const next = await read(url, { 'last-event-id': first.at(-1)! }, 3);
      expect(seq(next[0]!)).toBe(seq(first.at(-1)!) + 1);
      expect(next.map(seq)).toEqual(next.map((_, i) => seq(next[0]!) + i));
      // NDJSON for programs, resumed by ?after=.
      const res = await fetch(`${url}?format=ndjson&after=${next.at(-1)!}`);
      const reader = res.body!.getReader();
      let text = '';
      while (!text.includes('\n')) text += Buffer.from((await reader.read()).value!).toString();
      await reader.cancel();
      const line = JSON.parse(text.slice(0, text.indexOf('\n'))) as { id: string; type: string };
      expect(seq(line.id)).toBe(seq(next.at(-1)!) + 1);
      expect(['update', 'final', 'progress', 'lag']).toContain(line.type);
    } finally {
      sub.unsubscribe();
      await server.close();
      await runner.stop();
    }
  }, 180_000);

  it('with two workers, each reading two of four shards, shows the totals of all shards on both', async () => {
    const stream = unique('tap_shared');
    const finalsTable = unique('tap_shared_finals');
    await createStream(clients.kinesis, stream, 4);
    const name = unique('tap2');
    const mk = () =>
      app(name, [
        tap('per-page', {
          from: kinesisStream<Click>(stream),
          window: tumblingWindows(WINDOW_MS),
          key: (r: KinesisRecord<Click>) => r.value.page,
          time: (r) => r.value.at,
          aggregate: { clicks: count(), ms: sum((r: KinesisRecord<Click>) => r.value.ms) },
          idleTimeoutMs: 20_000,
          updateEveryMs: 300,
          table: finalsTable,
        }),
      ]);
    await createAppTables(clients, mk());
    const runners = [
      new Runner(mk(), { ...fastRunner, clients, workerId: 'tap-a' }),
      new Runner(mk(), { ...fastRunner, clients, workerId: 'tap-b' }),
    ];
    await Promise.all(runners.map((r) => r.start()));
    const seen = runners.map(() => [] as TapEvent[]);
    const subs = runners.map((r, i) =>
      r
        .tap('per-page')!
        .values()
        .subscribe((e) => seen[i]!.push(e)),
    );
    try {
      // Both workers hold two shards before any record is written.
      await eventually(
        async () => {
          const held = await Promise.all(
            runners.map(async (r) => (await r.status()).shards.filter((s) => s.owner === r.workerId).length),
          );
          return held[0] === 2 && held[1] === 2;
        },
        60_000,
        'two shards each',
      );
      const clicks = clicksFrom(9, 800);
      const pks = ['k0', 'k1', 'k2', 'k3', 'k4', 'k5', 'k6', 'k7'];
      await putClicks(
        clients.kinesis,
        stream,
        clicks.map((c, i) => ({ ...c, pk: pks[i % pks.length]! })),
      );
      await putClicks(
        clients.kinesis,
        stream,
        pks.map((pk) => ({ page: '/end', at: T0 + 100 * WINDOW_MS, ms: 0, user: 'none', pk })),
      );
      const want = oracle(clicks);
      const finals = (i: number) =>
        seen[i]!.filter((e): e is Extract<TapEvent, { type: 'final' }> => e.type === 'final');
      await eventually(
        async () => finals(0).length === want.size && finals(1).length === want.size,
        90_000,
        'finals on both workers',
      );
      for (const i of [0, 1])
        for (const f of finals(i)) {
          const w = want.get(`${f.window.start}|${f.key}`)!;
          expect(f.value).toEqual({ clicks: w.clicks, ms: w.ms });
        }
      // Both workers put the same finals: the table holds each window once, with the totals.
      for (const { row, want: w } of await finalRows(clients.dynamodb, finalsTable, want))
        expect(row).toMatchObject({ clicks: w.clicks, ms: w.ms });
    } finally {
      for (const s of subs) s.unsubscribe();
      await Promise.all(runners.map((r) => r.stop()));
    }
  }, 180_000);
});
