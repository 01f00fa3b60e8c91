import { DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import { map } from 'rxjs';
import { afterAll, describe, expect, it } from 'vitest';
import type { Checkpoint } from '../../src/core/position.js';
import type { StreamSource } from '../../src/core/source.js';
import {
  app,
  eventTable,
  maintainRotation,
  pipeline,
  replay,
  REPLAY_SHARD,
  Runner,
  type EventTableView,
  type ReplayedEvent,
  type Sink,
} from '../../src/index.js';
import { destroyClients } from '../../src/runtime/clients.js';
import { LeaseTable } from '../../src/runtime/leases/table.js';
import { memorySource } from '../../src/testing/memory-source.js';
import { createTable, scanAll } from '../../src/testing/tables.js';
import { eventually, fastRunner, testClients, unique } from '../helpers.js';

interface Ev {
  id: string;
  at: number;
  kind: string;
  n: number;
}

const HOUR = 3_600_000;
// Hours before now: replays without `to` end at now, and cross every bucket up to it.
const BASE = Math.floor(Date.now() / HOUR) * HOUR - 8 * HOUR;

/** Deterministic events over five hourly buckets; every tenth shares the instant of the one before it. */
function makeEvents(count: number): Ev[] {
  let seed = 11;
  const rnd = () => (seed = (seed * 48271) % 2147483647) / 2147483647;
  const out: Ev[] = [];
  for (let i = 0; i < count; i++) {
    const at = i % 10 === 9 ? out[i - 1]!.at : BASE + Math.floor(rnd() * 5 * HOUR);
    out.push({ id: `e${String(i).padStart(4, '0')}`, at, kind: ['view', 'click', 'buy'][i % 3]!, n: i });
  }
  return out;
}

const sortKey = (e: { at: number; id: string }) => `${new Date(e.at).toISOString()}#${e.id}`;
const inOrder = (es: Ev[]) => [...es].sort((a, b) => (sortKey(a) < sortKey(b) ? -1 : 1));

/** Reads a replay source directly, batch by batch, as the runner would. */
async function readReplay<P>(
  src: StreamSource<ReplayedEvent<P>>,
  env: { clients: ReturnType<typeof testClients>; tableName: (n: string) => string },
  from: Checkpoint = { kind: 'TRIM_HORIZON' },
  maxBatches = Infinity,
) {
  const bound = await src.bind(env);
  const [shard] = await bound.listShards();
  const reader = await bound.openShard(shard!, from);
  const events: ReplayedEvent<P>[] = [];
  let checkpoint: Checkpoint | undefined;
  let ended = false;
  let batches = 0;
  while (!ended && batches < maxBatches) {
    const b = await reader.next(new AbortController().signal);
    events.push(...b.records);
    checkpoint = b.checkpoint ?? checkpoint;
    ended = b.ended;
    batches++;
  }
  return { events, checkpoint, ended, batches };
}

/** Runs events from an in-memory source (three shards) into a view, until `done` holds. */
async function store<E>(
  clients: ReturnType<typeof testClients>,
  view: EventTableView<E, unknown>,
  events: readonly E[],
  done: (r: Runner) => Promise<boolean>,
  tableName?: (n: string) => string,
) {
  const shards = [0, 1, 2].map((s) => ({ shardId: `s${s}`, values: events.filter((_, i) => i % 3 === s) }));
  const def = app(unique('evapp'), [
    pipeline('store')
      .from(memorySource<E>(unique('mem'), shards, { batchSize: 25 }))
      .pipe(map((r) => r.value))
      .to(view),
  ]);
  const runner = new Runner(def, { ...fastRunner, clients, ...(tableName ? { tableName } : {}) });
  await runner.start();
  await eventually(() => done(runner), 60_000, 'events stored');
  const r = await runner.stop();
  expect(r.error).toBeUndefined();
  return { runner, def };
}

describe('event table', () => {
  const clients = testClients();
  const env = { clients, tableName: (n: string) => n };
  afterAll(() => destroyClients(clients));

  it('stores events across buckets and write shards; replay returns exactly the events in range, in time order, paging through buckets and resuming from a checkpoint', async () => {
    const table = unique('ev');
    const view = eventTable<Ev>({ table, time: (e) => e.at, id: (e) => e.id, bucket: '1h', writeShards: 4 });
    await createTable(clients.dynamodb, view.tables()[0]!);
    const events = makeEvents(300);
    await store(
      clients,
      view,
      events,
      async (r) => (await r.metrics.sum('tributary_records_applied_total')) === events.length,
    );

    const items = await scanAll<{ pk: string; sk: string; payload: Ev }>(clients.dynamodb, table);
    expect(items).toHaveLength(300);
    expect(new Set(items.map((i) => i.pk.split('#')[0])).size).toBe(5);
    expect(new Set(items.map((i) => i.pk.split('#')[1]))).toEqual(new Set(['0', '1', '2', '3']));

    // From an instant that is exactly some event's time: that event is included.
    const sorted = inOrder(events);
    const from = new Date(sorted[97]!.at);
    const all = await readReplay(replay({ view, from, pageSize: 5, batchSize: 40 }), env);
    expect(all.ended).toBe(true);
    expect(all.checkpoint).toEqual({ kind: 'SHARD_END' });
    const want = sorted.filter((e) => e.at >= from.getTime());
    expect(all.events.map((e) => e.id)).toEqual(want.map((e) => e.id));
    expect(all.events.map((e) => e.value)).toEqual(want);
    expect(all.events.every((e, i) => i === 0 || e.time.getTime() >= all.events[i - 1]!.time.getTime())).toBe(true);

    // With `to`: [from, to), `to` being an event's time, which is therefore excluded.
    const to = new Date(sorted[230]!.at);
    const ranged = await readReplay(replay({ view, from, to, pageSize: 3 }), env);
    expect(ranged.events.map((e) => e.id)).toEqual(
      sorted.filter((e) => e.at >= from.getTime() && e.at < to.getTime()).map((e) => e.id),
    );

    // Stop after two batches, resume from the checkpoint: nothing lost, nothing twice.
    const src = replay({ view, from, to, pageSize: 4, batchSize: 17 });
    const first = await readReplay(src, env, { kind: 'TRIM_HORIZON' }, 2);
    expect(first.events).toHaveLength(34);
    expect(first.checkpoint?.kind).toBe('sequence');
    const rest = await readReplay(src, env, first.checkpoint);
    expect([...first.events, ...rest.events].map((e) => e.id)).toEqual(ranged.events.map((e) => e.id));
    // A finished replay stays finished.
    expect((await readReplay(src, env, { kind: 'SHARD_END' })).events).toHaveLength(0);
  });

  it('is a source like any other: a replay pipeline run by the runner delivers the events in order and finishes its shard', async () => {
    const table = unique('evsrc');
    const view = eventTable<Ev>({ table, time: (e) => e.at, id: (e) => e.id, bucket: '15m', writeShards: 3 });
    await createTable(clients.dynamodb, view.tables()[0]!);
    const events = makeEvents(120);
    await store(
      clients,
      view,
      events,
      async (r) => (await r.metrics.sum('tributary_records_applied_total')) === events.length,
    );

    const got: Ev[] = [];
    const collect: Sink<Ev> = { name: 'collect', write: async (outs) => void got.push(...outs) };
    const from = new Date(BASE + HOUR);
    const def = app(unique('replayapp'), [
      pipeline('copy')
        .from(replay({ view, from, pageSize: 7, batchSize: 10 }))
        .pipe(map((e) => e.value))
        .to(collect),
    ]);
    const runner = new Runner(def, { ...fastRunner, clients });
    await runner.start();
    const want = inOrder(events).filter((e) => e.at >= from.getTime());
    const leases = new LeaseTable(clients.dynamodb, def.leaseTable);
    await eventually(
      async () => (await leases.list()).some((l) => l.shardId === REPLAY_SHARD && l.checkpoint.kind === 'SHARD_END'),
      60_000,
      'the replay shard to finish',
    );
    expect((await runner.stop()).error).toBeUndefined();
    expect(got.map((e) => e.id)).toEqual(want.map((e) => e.id));
  });

  it('stores an event once however often it is written: by id, and by payload with the default id; bad events go to the dead letters', async () => {
    const byId = eventTable<Ev>({
      table: unique('evid'),
      time: (e) => e.at,
      id: (e) => e.id,
      bucket: '1h',
      writeShards: 4,
    });
    const byPayload = eventTable<Record<string, unknown>>({
      table: unique('evpl'),
      time: (e) => e.at as number,
      bucket: '1d',
      writeShards: 4,
    });
    await Promise.all([
      createTable(clients.dynamodb, byId.tables()[0]!),
      createTable(clients.dynamodb, byPayload.tables()[0]!),
    ]);

    const a: Ev = { id: 'a', at: BASE, kind: 'view', n: 1 };
    const b: Ev = { id: 'b', at: BASE, kind: 'view', n: 2 };
    // The same event written three times, across shards and batches.
    const idEvents: Ev[] = [a, b, { ...a }, { ...a }];
    await store(
      clients,
      byId,
      idEvents,
      async (r) => (await r.metrics.sum('tributary_records_applied_total')) === idEvents.length,
    );
    expect((await scanAll<{ id: string }>(clients.dynamodb, byId.layout.table)).map((i) => i.id).sort()).toEqual([
      'a',
      'b',
    ]);

    const p1 = { user: 'u1', at: BASE + 5, page: '/' };
    const p1Reordered = { page: '/', at: BASE + 5, user: 'u1' };
    const p2 = { user: 'u1', at: BASE + 5, page: '/cart' };
    const invalid = { user: 'u2', at: Number.NaN };
    const oversized = { user: 'u3', at: BASE, blob: 'x'.repeat(410 * 1024) };
    const payloadEvents = [p1, p1Reordered, p2, invalid, oversized, { ...p1 }];
    const { def } = await store(
      clients,
      byPayload,
      payloadEvents,
      async (r) =>
        (await r.metrics.sum('tributary_records_applied_total')) +
          (await r.metrics.sum('tributary_dead_letters_total')) ===
        payloadEvents.length,
    );
    const stored = await scanAll<{ payload: { page: string } }>(clients.dynamodb, byPayload.layout.table);
    expect(stored.map((i) => i.payload.page).sort()).toEqual(['/', '/cart']);
    const letters = await scanAll<{ code: string }>(clients.dynamodb, def.deadLetters.tableName);
    expect(letters.map((l) => l.code).sort()).toEqual(['sink.itemTooLarge', 'view.invalidEvent']);
  });

  it("rotates: events land in their period's table, replay crosses tables and skips missing periods, maintainRotation drops only the expired table", async () => {
    const prefix = `${unique('env')}_`;
    const otherPrefix = `${unique('other')}_`;
    const physical = (n: string) => `${prefix}${n}`;
    const view = eventTable<Ev>({
      table: 'events',
      time: (e) => e.at,
      id: (e) => e.id,
      bucket: '1d',
      writeShards: 2,
      rotation: { period: 'month', retention: 2, createAhead: 1 },
    });
    const jan = Date.parse('2026-01-20T00:00:00Z');
    const mar = Date.parse('2026-03-05T00:00:00Z');
    for (const t of [jan, mar]) {
      const spec = view.tables(new Date(t))[0]!;
      await createTable(clients.dynamodb, { ...spec, name: physical(spec.name) });
    }
    const decoys = [
      physical('events_2026_01_backup'),
      physical('events_archive_2026_01'),
      physical('events_2026_01_15'),
      `${otherPrefix}events_2026_01`,
    ];
    for (const name of decoys) await createTable(clients.dynamodb, { ...view.tables(new Date(jan))[0]!, name });

    const events: Ev[] = [
      ...Array.from({ length: 20 }, (_, i) => ({ id: `j${i}`, at: jan + i * 7 * HOUR, kind: 'jan', n: i })),
      ...Array.from({ length: 20 }, (_, i) => ({ id: `m${i}`, at: mar + i * 5 * HOUR, kind: 'mar', n: i })),
      { id: 'feb', at: Date.parse('2026-02-14T12:00:00Z'), kind: 'feb', n: 0 },
    ];
    const { def } = await store(
      clients,
      view,
      events,
      async (r) =>
        (await r.metrics.sum('tributary_records_applied_total')) +
          (await r.metrics.sum('tributary_dead_letters_total')) ===
        events.length,
      physical,
    );
    const inJan = await scanAll<{ id: string }>(clients.dynamodb, physical('events_2026_01'));
    const inMar = await scanAll<{ id: string }>(clients.dynamodb, physical('events_2026_03'));
    expect(inJan.map((i) => i.id).sort()).toEqual(
      events
        .filter((e) => e.kind === 'jan')
        .map((e) => e.id)
        .sort(),
    );
    expect(inMar.map((i) => i.id).sort()).toEqual(
      events
        .filter((e) => e.kind === 'mar')
        .map((e) => e.id)
        .sort(),
    );
    // February has no table: that event is a dead letter with the reason, not lost.
    expect(
      (await scanAll<{ code: string }>(clients.dynamodb, physical(def.deadLetters.tableName))).map((l) => l.code),
    ).toEqual(['view.tableMissing']);

    const prefixed = { clients, tableName: physical };
    const from = new Date(jan + 40 * HOUR);
    const crossed = await readReplay(
      replay({ view, from, to: new Date('2026-04-01T00:00:00Z'), pageSize: 3 }),
      prefixed,
    );
    const want = inOrder(events.filter((e) => e.kind !== 'feb' && e.at >= from.getTime()));
    expect(crossed.events.map((e) => e.id)).toEqual(want.map((e) => e.id));
    expect(new Set(crossed.events.map((e) => e.table))).toEqual(new Set(['events_2026_01', 'events_2026_03']));

    const result = await maintainRotation(view, clients, { prefix, now: new Date('2026-03-20T00:00:00Z') });
    expect(result.dropped).toEqual([physical('events_2026_01')]);
    expect(result.created).toEqual([physical('events_2026_04')]);
    const exists = async (name: string) =>
      clients.dynamodb.send(new DescribeTableCommand({ TableName: name })).then(
        (d) => d.Table?.TableStatus !== 'DELETING',
        () => false,
      );
    await eventually(async () => !(await exists(physical('events_2026_01'))), 60_000, 'January dropped');
    for (const name of [...decoys, physical('events_2026_03'), physical('events_2026_04')])
      expect(await exists(name), name).toBe(true);
    // Idempotent: nothing more to do.
    const again = await maintainRotation(view, clients, { tableName: physical, now: new Date('2026-03-20T00:00:00Z') });
    expect([again.created, again.dropped]).toEqual([[], []]);

    // Replay after the drop (given the layout rather than the view): January is gone, March is still read.
    const after = await readReplay(
      replay<Ev>({ ...view.layout, from, to: new Date('2026-04-01T00:00:00Z') }),
      prefixed,
    );
    expect(after.events.map((e) => e.id)).toEqual(want.filter((e) => e.kind === 'mar').map((e) => e.id));
  });
});
