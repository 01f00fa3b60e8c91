import { BatchWriteItemCommand, DeleteItemCommand, PutItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  app,
  bucket,
  counterView,
  dynamodbTable,
  hopping,
  pipeline,
  Runner,
  type DynamoChange,
} from '../../src/index.js';
import { compareSequence } from '../../src/core/position.js';
import { destroyClients } from '../../src/runtime/clients.js';
import { LeaseTable } from '../../src/runtime/leases/table.js';
import { memorySource, type MemoryRecord } from '../../src/testing/memory-source.js';
import { createTable, scanAll } from '../../src/testing/tables.js';
import { eventually, fastRunner, seededRandom, testClients, unique } from '../helpers.js';
import { runApp, type AppProcess } from './app-process.js';

interface Click {
  id: number;
  page: string;
  at: number;
  bytes: number;
}

/** Index in [0, n) drawn from a Zipf distribution with exponent s: a few keys get most events. */
function zipf(n: number, s: number, rand: () => number): () => number {
  const cdf: number[] = [];
  let total = 0;
  for (let k = 1; k <= n; k++) cdf.push((total += 1 / k ** s));
  return () => {
    const u = rand() * total;
    let lo = 0;
    let hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cdf[mid]! < u) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
}

const T0 = Date.UTC(2026, 10, 22, 21, 0);
/** Minute and window ids computed directly (not through `bucket`), as the truth to compare with. */
const minuteOf = (at: number) => new Date(at - (at % 60_000)).toISOString().slice(0, 16);
const windowsOf = (at: number) => [0, 1, 2, 3, 4].map((k) => minuteOf(at - (at % 60_000) - (4 - k) * 60_000));

const add = <K>(m: Map<K, number>, k: K, by: number) => m.set(k, (m.get(k) ?? 0) + by);

describe('counter view', () => {
  const clients = testClients();
  afterAll(() => destroyClients(clients));

  async function putAll(table: string, items: readonly object[]): Promise<void> {
    const chunks: object[][] = [];
    for (let i = 0; i < items.length; i += 25) chunks.push(items.slice(i, i + 25));
    for (let i = 0; i < chunks.length; i += 8) {
      await Promise.all(
        chunks.slice(i, i + 8).map((c) =>
          clients.dynamodb.send(
            new BatchWriteItemCommand({
              RequestItems: { [table]: c.map((p) => ({ PutRequest: { Item: marshall(p) } })) },
            }),
          ),
        ),
      );
    }
  }

  it('after 20,000 skewed events from a table stream, every counter (tumbling, hopping, several fields) equals the count from the events', async () => {
    // kinesis-mock takes minutes to accept 20,000 records; DynamoDB Local's stream takes seconds.
    const src = unique('cv_clicks');
    const perMinute = counterView<DynamoChange<Click>>({
      table: unique('cv_minute'),
      partitionKey: 'page',
      sortKey: 'minute',
      key: (c) => ({ page: c.newImage!.page, minute: bucket(c.newImage!.at, '1m') }),
      add: { views: 1, bytes: (c) => c.newImage!.bytes, score: (c) => c.newImage!.bytes / 4 },
    });
    const perWindow = counterView<DynamoChange<Click>>({
      table: unique('cv_window'),
      partitionKey: 'page',
      sortKey: 'window',
      key: (c) => hopping(c.newImage!.at, '5m', '1m').map((w) => ({ page: c.newImage!.page, window: w })),
      add: { views: 1 },
    });
    await createTable(clients.dynamodb, { name: src, partitionKey: { name: 'id', type: 'N' }, stream: 'NEW_IMAGE' });
    for (const v of [perMinute, perWindow]) await createTable(clients.dynamodb, v.tables()[0]!);

    const rand = seededRandom(7);
    // 25 pages over 10 minutes: ~250 counters per view, so the emulator's update rate does not set the test's length.
    const page = zipf(25, 1.1, rand);
    const events: Click[] = Array.from({ length: 20_000 }, (_, id) => ({
      id,
      page: `/p/${page()}`,
      at: T0 + Math.floor(rand() * 10 * 60_000),
      bytes: 1 + Math.floor(rand() * 5000),
    }));
    await putAll(src, events);

    const want = {
      views: new Map<string, number>(),
      bytes: new Map<string, number>(),
      window: new Map<string, number>(),
    };
    for (const e of events) {
      add(want.views, `${e.page}|${minuteOf(e.at)}`, 1);
      add(want.bytes, `${e.page}|${minuteOf(e.at)}`, e.bytes);
      for (const w of windowsOf(e.at)) add(want.window, `${e.page}|${w}`, 1);
    }

    const def = app(unique('cv'), [pipeline('clicks').from(dynamodbTable<Click>(src)).to(perMinute, perWindow)]);
    const runner = new Runner(def, { ...fastRunner, clients });
    await runner.start();
    await eventually(
      async () => (await runner.metrics.sum('tributary_records_applied_total')) === events.length,
      200_000,
      'all events applied',
    );
    const { error } = await runner.stop();
    expect(error).toBeUndefined();

    const minutes = await scanAll<{ page: string; minute: string; views: number; bytes: number; score: number }>(
      clients.dynamodb,
      perMinute.table,
    );
    expect(new Map(minutes.map((r) => [`${r.page}|${r.minute}`, r.views]))).toEqual(want.views);
    expect(new Map(minutes.map((r) => [`${r.page}|${r.minute}`, r.bytes]))).toEqual(want.bytes);
    for (const r of minutes) expect(r.score).toBeCloseTo(r.bytes / 4, 6);
    const windows = await scanAll<{ page: string; window: string; views: number }>(clients.dynamodb, perWindow.table);
    expect(new Map(windows.map((r) => [`${r.page}|${r.window}`, r.views]))).toEqual(want.window);

    // Coalescing happened: far fewer UpdateItem calls than increments.
    expect(perMinute.stats.records).toBe(events.length);
    expect(perMinute.stats.updates).toBeLessThan(events.length / 4);
    expect(perWindow.stats.updates).toBeLessThan((events.length * 5) / 4);
  }, 300_000);

  it('with decrementOnRemove, a live count of items per owner equals the final count in the source table', async () => {
    const src = unique('cv_items');
    const view = counterView<DynamoChange<{ id: string; owner: string; title: string }>>({
      table: unique('cv_owner_items'),
      partitionKey: 'owner',
      key: (c) => ({ owner: (c.newImage ?? c.oldImage)!.owner }),
      add: { items: 1 },
      decrementOnRemove: true,
    });
    await createTable(clients.dynamodb, {
      name: src,
      partitionKey: { name: 'id', type: 'S' },
      stream: 'NEW_AND_OLD_IMAGES',
    });
    await createTable(clients.dynamodb, view.tables()[0]!);

    const rand = seededRandom(11);
    const owner = zipf(12, 1.1, rand);
    const live = new Map<string, string>();
    const puts: { id: string; owner: string; title: string }[] = [];
    for (let i = 0; i < 1500; i++) {
      const item = { id: `i${i}`, owner: `o${owner()}`, title: 'new' };
      puts.push(item);
      live.set(item.id, item.owner);
    }
    await putAll(src, puts);
    // Modifies that keep the owner count nothing; removes (some of items never modified) count -1.
    for (let i = 0; i < 300; i++) {
      const id = `i${Math.floor(rand() * puts.length)}`;
      if (live.has(id))
        await clients.dynamodb.send(
          new UpdateItemCommand({
            TableName: src,
            Key: marshall({ id }),
            UpdateExpression: 'SET title = :t',
            ExpressionAttributeValues: marshall({ ':t': `t${i}` }),
          }),
        );
    }
    for (let i = 0; i < 700; i++) {
      const id = `i${Math.floor(rand() * puts.length)}`;
      await clients.dynamodb.send(new DeleteItemCommand({ TableName: src, Key: marshall({ id }) }));
      live.delete(id);
    }
    // Every item of one owner removed: its counter must come back to zero.
    for (const [id, o] of [...live]) {
      if (o === 'o3') {
        await clients.dynamodb.send(new DeleteItemCommand({ TableName: src, Key: marshall({ id }) }));
        live.delete(id);
      }
    }
    const want = new Map<string, number>();
    for (const o of live.values()) add(want, o, 1);

    const def = app(unique('cvlive'), [
      pipeline('owners').from(dynamodbTable<{ id: string; owner: string; title: string }>(src)).to(view),
    ]);
    const runner = new Runner(def, { ...fastRunner, clients });
    await runner.start();
    const counts = async () =>
      new Map(
        (await scanAll<{ owner: string; items: number }>(clients.dynamodb, view.table))
          .filter((r) => r.items !== 0)
          .map((r) => [r.owner, r.items]),
      );
    await eventually(
      async () => JSON.stringify([...(await counts())].sort()) === JSON.stringify([...want].sort()),
      60_000,
      'live counts to match',
    );
    expect((await runner.stop()).error).toBeUndefined();
    expect(await counts()).toEqual(want);
    const o3 = (await scanAll<{ owner: string; items: number }>(clients.dynamodb, view.table)).find(
      (r) => r.owner === 'o3',
    );
    expect(o3?.items ?? 0).toBe(0);
  });

  it('isolates records with bad keys or increments at write time, and a key whose update fails, counting every other record exactly once', async () => {
    interface Ev {
      page: string;
      n: number;
    }
    // Record i: page p(i % 7); every 97th has an empty page (bad key), every 89th a NaN increment, and
    // page 'poisoned' holds a string in 'views', so its updates fail at flush time.
    const values: Ev[] = Array.from({ length: 3000 }, (_, i) => ({
      page: i % 97 === 50 ? '' : i % 61 === 7 ? 'poisoned' : `p${i % 7}`,
      n: i % 89 === 3 ? Number.NaN : 1,
    }));
    const view = counterView<MemoryRecord<Ev>>({
      table: unique('cv_bad'),
      partitionKey: 'page',
      key: (r) => ({ page: r.value.page }),
      add: { views: (r) => r.value.n },
    });
    await createTable(clients.dynamodb, view.tables()[0]!);
    await clients.dynamodb.send(
      new PutItemCommand({ TableName: view.table, Item: marshall({ page: 'poisoned', views: 'not a number' }) }),
    );

    const src = memorySource<Ev>(
      'events',
      [
        { shardId: 's-0', values },
        { shardId: 's-1', values: values.slice(0, 1000) },
      ],
      { batchSize: 250 },
    );
    const def = app(unique('cvbad'), [pipeline('views').from(src).to(view)]);
    const runner = new Runner(def, { ...fastRunner, clients });
    await runner.start();
    const all = [...values, ...values.slice(0, 1000)];
    const bad = all.filter((v) => v.page === '' || Number.isNaN(v.n) || v.page === 'poisoned');
    await eventually(
      async () =>
        (await runner.metrics.sum('tributary_records_applied_total')) +
          (await runner.metrics.sum('tributary_dead_letters_total')) >=
        all.length,
      90_000,
      'every record applied or dead-lettered',
    );
    expect((await runner.stop()).error).toBeUndefined();

    const want = new Map<string, number>();
    for (const v of all) if (!bad.includes(v)) add(want, v.page, 1);
    const rows = await scanAll<{ page: string; views: number | string }>(clients.dynamodb, view.table);
    expect(new Map(rows.filter((r) => r.page !== 'poisoned').map((r) => [r.page, r.views]))).toEqual(want);
    expect(rows.find((r) => r.page === 'poisoned')?.views).toBe('not a number');

    const letters = await scanAll<{ code: string; record: string }>(clients.dynamodb, def.deadLetters.tableName);
    const byCode = new Map<string, number>();
    for (const l of letters) add(byCode, l.code, 1);
    const expectCode = (v: Ev) =>
      Number.isNaN(v.n) ? 'view.invalidIncrement' : v.page === '' ? 'view.invalidKey' : 'view.updateFailed';
    const wantCodes = new Map<string, number>();
    for (const v of bad) add(wantCodes, expectCode(v), 1);
    expect(byCode).toEqual(wantCodes);
  });

  it('stops the runner with runtime.deadLetterBudget when a key function throws for every record, instead of dead-lettering them all', async () => {
    const view = counterView<MemoryRecord<{ page: string }>>({
      table: unique('cv_typo'),
      partitionKey: 'page',
      // A typo: `pgae` is undefined, so the key function throws for every record.
      key: (r) => ({ page: (r.value as unknown as { pgae: string }).pgae.toLowerCase() }),
      add: { views: 1 },
    });
    await createTable(clients.dynamodb, view.tables()[0]!);
    const values = Array.from({ length: 501 }, (_, i) => ({ page: `p${i % 7}` }));
    const src = memorySource('typo_events', [{ shardId: 's-0', values }], { batchSize: 50 });
    const def = app(unique('cvtypo'), [
      pipeline('views')
        .from(src)
        .with({ deadLetterBudget: { share: 0.5, window: 100 } })
        .to(view),
    ]);
    const runner = new Runner(def, { ...fastRunner, clients });
    await runner.start();
    const { error } = await runner.done;
    expect(error).toMatchObject({ code: 'runtime.deadLetterBudget', details: { pipeline: 'views' } });
    expect((error as Error).message).toMatch(/more than its deadLetterBudget of 50%; last: .*toLowerCase/);
    const dead = await runner.metrics.sum('tributary_dead_letters_total', { pipeline: 'views' });
    expect(dead).toBeGreaterThan(50);
    expect(dead).toBeLessThan(values.length);
    expect(await runner.metrics.get('tributary_dead_letter_share', { pipeline: 'views' })).toBe(1);
  });

  describe('killed with SIGKILL mid-stream and restarted (through the CLI)', () => {
    const running: AppProcess[] = [];
    afterAll(() => {
      for (const p of running) if (p.child.exitCode === null) p.child.kill('SIGKILL');
    });

    /** Lines `id shard sequence` a run appended before handing batches to the view. */
    const seen = (file: string) =>
      (existsSync(file) ? readFileSync(file, 'utf8') : '')
        .split('\n')
        .filter(Boolean)
        .map((l) => {
          const [id, shard, seq] = l.split(' ') as [string, string, string];
          return { id, shard, seq };
        });

    it('loses no increment: every counter is at least its true count, over by at most the records the first run saw after its last checkpoint', async () => {
      const names = {
        APP_NAME: unique('cvkill'),
        SRC_TABLE: unique('cvkill_src'),
        COUNTER_TABLE: unique('cvkill_views'),
      };
      const dir = mkdtempSync(join(tmpdir(), 'cvkill-'));
      const files = { r1: join(dir, 'seen-r1.txt'), r2: join(dir, 'seen-r2.txt') };
      await createTable(clients.dynamodb, {
        name: names.SRC_TABLE,
        partitionKey: { name: 'id', type: 'S' },
        stream: 'NEW_AND_OLD_IMAGES',
      });
      await createTable(clients.dynamodb, { name: names.COUNTER_TABLE, partitionKey: { name: 'page', type: 'S' } });
      const rand = seededRandom(3);
      const page = zipf(15, 1.1, rand);
      const total = 4000;
      const items = Array.from({ length: total }, (_, i) => ({ id: `e${i}`, page: `/p/${page()}` }));
      await putAll(names.SRC_TABLE, items);
      const pageOf = new Map(items.map((i) => [i.id, i.page]));
      const counters = async () =>
        new Map(
          (await scanAll<{ page: string; views: number }>(clients.dynamodb, names.COUNTER_TABLE)).map((r) => [
            r.page,
            r.views,
          ]),
        );
      const sum = (m: Map<string, number>) => [...m.values()].reduce((a, b) => a + b, 0);
      const start = (env: Record<string, string>) => {
        const p = runApp('test/fixtures/counter-app.ts', { ...names, ...env });
        running.push(p);
        return p;
      };

      // Run 1: slow batches (100 records per 150 ms), flushed only every second, killed once it has
      // seen 1,100 records: most likely with increments buffered in the view (a view that
      // acknowledged before flushing would let the checkpoint pass them, and they would be lost).
      const first = start({ SEEN_FILE: files.r1, SLOW_MS: '150', FLUSH_DELAY_MS: '1000', FLUSH_BATCHES: '1000' });
      await eventually(
        async () => seen(files.r1).length >= 1100 && sum(await counters()) > 0,
        90_000,
        'first run to be mid-stream',
      );
      first.child.kill('SIGKILL');
      await first.exited;
      const leases = await new LeaseTable(clients.dynamodb, `${names.APP_NAME}_leases`).list();
      const checkpoint = new Map(
        leases.map((l) => [
          l.shardId,
          l.checkpoint.kind === 'sequence' ? l.checkpoint.sequenceNumber : l.checkpoint.kind,
        ]),
      );
      const afterKill = await counters();
      const seen1 = seen(files.r1);
      expect(sum(afterKill)).toBeLessThan(total);
      expect(
        [...checkpoint.values()].some((cp) => /^\d+$/.test(cp)),
        'the first run checkpointed',
      ).toBe(true);

      // What the first run may have counted without checkpointing it: records it saw after the checkpoint.
      const after = (r: { shard: string; seq: string }) => {
        const cp = checkpoint.get(r.shard);
        return cp === undefined || cp === 'TRIM_HORIZON' || compareSequence(r.seq, cp) > 0;
      };
      const exposed = seen1.filter(after);
      const checkpointed = new Set(seen1.filter((r) => !after(r)).map((r) => r.id));

      // Run 2: from the checkpoint to the end, then a graceful stop (which flushes).
      const second = start({ SEEN_FILE: files.r2 });
      await eventually(
        async () => {
          const done = new Set(checkpointed);
          for (const r of seen(files.r2)) done.add(r.id);
          return done.size === total;
        },
        90_000,
        'second run to see every record after the checkpoint',
      );
      second.child.kill('SIGTERM');
      expect((await second.exited).code, second.stderr()).toBe(0);
      // The restart began after the checkpoint: nothing at or before it was fed to the view again.
      expect(seen(files.r2).filter((r) => !after(r))).toEqual([]);

      const truth = new Map<string, number>();
      for (const i of items) add(truth, i.page, 1);
      const slack = new Map<string, number>();
      for (const r of exposed) add(slack, pageOf.get(r.id)!, 1);
      const final = await counters();
      for (const [p, n] of truth) {
        const got = final.get(p) ?? 0;
        expect(got, `page ${p}: never below the true count`).toBeGreaterThanOrEqual(n);
        expect(
          got - n,
          `page ${p}: the excess is made of records the first run saw after its checkpoint`,
        ).toBeLessThanOrEqual(slack.get(p) ?? 0);
      }
      expect([...final.keys()].sort()).toEqual([...truth.keys()].sort());
      const excess = sum(final) - total;
      expect(excess).toBeLessThanOrEqual(exposed.length);
      console.info(
        `counter crash test: ${exposed.length} records seen after the checkpoint by the killed run; counted twice: ${excess}`,
      );
    }, 240_000);
  });
});
