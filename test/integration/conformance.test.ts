import { DeleteItemCommand, PutItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { PutRecordsCommand } from '@aws-sdk/client-kinesis';
import { marshall } from '@aws-sdk/util-dynamodb';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { AppDef } from '../../src/core/pipeline.js';
import { createClients, destroyClients } from '../../src/runtime/clients.js';
import { startEmulators, type Emulators } from '../../src/testing/index.js';
import { unique } from '../helpers.js';
import { differences, onDriver, onEmulators, type Harness, type Item } from './conformance/harness.js';

/**
 * One body per example app, run on the in-memory test driver and on the emulators (DynamoDB
 * Local, kinesis-mock); every table the app has must end up equal on both, and so must its dead
 * letters and a tap's final windows. Attributes the backend assigns (a mirror's version, made of
 * the change's stream time and sequence number; a tombstone's expiry; exactly-once marks) come
 * from the driver's clock and numbering on one side and DynamoDB Local's on the other: they are
 * compared as present only.
 */
interface Case {
  readonly module: string;
  /** Attributes whose values the backend assigns (from its clock or its sequence numbers). */
  readonly backendAttributes?: readonly string[];
  /** Taps whose final windows are compared, and how many finals each must reach. */
  readonly taps?: Readonly<Record<string, number>>;
  readonly body: (h: Harness, t0: number) => Promise<void>;
}

const put = (h: Harness, table: string, item: Item) =>
  h.run(h.clients.dynamodb.send(new PutItemCommand({ TableName: h.tableName(table), Item: marshall(item) })));
const del = (h: Harness, table: string, key: Item) =>
  h.run(h.clients.dynamodb.send(new DeleteItemCommand({ TableName: h.tableName(table), Key: marshall(key) })));
const records = (h: Harness, stream: string, rs: readonly { data: unknown; key: string; hash?: string }[]) =>
  h.run(
    h.clients.kinesis.send(
      new PutRecordsCommand({
        StreamName: stream,
        Records: rs.map((r) => ({
          PartitionKey: r.key,
          Data: Buffer.from(typeof r.data === 'string' ? r.data : JSON.stringify(r.data)),
          ...(r.hash ? { ExplicitHashKey: r.hash } : {}),
        })),
      }),
    ),
  );

const PAGES = ['/', '/search', '/cart', '/checkout'];

const CASES: Record<string, Case> = {
  shop: {
    module: '../../examples/shop.js',
    async body(h, t0) {
      for (let i = 0; i < 24; i++)
        await put(h, 'shop_orders', { orderId: `o${i}`, customerId: `c${i % 4}`, total: i * 1.5, status: 'placed' });
      for (let i = 0; i < 24; i += 3)
        await put(h, 'shop_orders', { orderId: `o${i}`, customerId: `c${i % 4}`, total: i * 1.5, status: 'paid' });
      for (let i = 1; i < 24; i += 5) await del(h, 'shop_orders', { orderId: `o${i}` });
      const clicks = Array.from({ length: 60 }, (_, i) => ({
        data: { page: PAGES[i % 4], userId: `u${i % 7}`, at: t0 + i * 3_000 },
        key: PAGES[i % 4]!,
      }));
      await records(h, 'shop_clicks', clicks.slice(0, 30));
      await records(h, 'shop_clicks', [{ data: '{"page":"/","userId":"u1","at":"yesterday"}', key: '/' }]);
      await records(h, 'shop_clicks', clicks.slice(30));
    },
  },
  counters: {
    module: '../../examples/counters.js',
    async body(h, t0) {
      const views = Array.from({ length: 80 }, (_, i) => ({
        data: { page: PAGES[i % 4], at: t0 + i * 2_000, ms: (i * 37) % 900 },
        key: PAGES[i % 4]!,
      }));
      await records(h, 'counters_page_views', views);
      for (let i = 0; i < 20; i++) await put(h, 'counters_items', { id: `i${i}`, owner: `w${i % 3}`, title: `t${i}` });
      for (let i = 0; i < 20; i += 4) await put(h, 'counters_items', { id: `i${i}`, owner: 'w9', title: `t${i}` });
      for (let i = 2; i < 20; i += 6) await del(h, 'counters_items', { id: `i${i}` });
    },
  },
  'index-view': {
    module: '../../examples/index-view.js',
    async body(h) {
      const roles = ['owner', 'editor', 'viewer'];
      for (let a = 0; a < 6; a++)
        for (let u = 0; u < 4; u++)
          await put(h, 'albums_members', {
            albumId: `a${a}`,
            userId: `u${u}`,
            role: roles[(a + u) % 3],
            lastSeen: a * 10 + u,
          });
      // A touch of an attribute the index does not project, a role change, a removal.
      await put(h, 'albums_members', { albumId: 'a1', userId: 'u1', role: roles[2], lastSeen: 999 });
      await put(h, 'albums_members', { albumId: 'a2', userId: 'u0', role: 'owner', lastSeen: 1 });
      await del(h, 'albums_members', { albumId: 'a3', userId: 'u3' });
    },
  },
  mirror: {
    module: '../../examples/mirror.js',
    // The mirror's version is the change's stream time and sequence number, a tombstone's expiry the clock's.
    backendAttributes: ['_tributary_version', '_tributary_expires'],
    async body(h) {
      for (let i = 0; i < 12; i++)
        await put(h, 'mirror_users', { userId: `u${i}`, name: `user ${i}`, plan: i % 2 ? 'pro' : 'free', credits: i });
      await h.run(
        h.clients.dynamodb.send(
          new UpdateItemCommand({
            TableName: h.tableName('mirror_users'),
            Key: marshall({ userId: 'u3' }),
            UpdateExpression: 'SET credits = credits + :n, #p = :p',
            ExpressionAttributeNames: { '#p': 'plan' },
            ExpressionAttributeValues: marshall({ ':n': 100, ':p': 'pro' }),
          }),
        ),
      );
      await del(h, 'mirror_users', { userId: 'u5' });
      await del(h, 'mirror_users', { userId: 'u6' });
      await put(h, 'mirror_users', { userId: 'u6', name: 'back again', plan: 'free', credits: 0 });
    },
  },
  'event-log': {
    module: '../../examples/event-log.js',
    async body(h, t0) {
      const actions = ['view', 'click', 'buy'];
      const events = Array.from({ length: 50 }, (_, i) => ({
        data: { id: `e${i}`, at: t0 + i * 5_000, user: `u${i % 6}`, action: actions[i % 3], page: PAGES[i % 4] },
        key: `u${i % 6}`,
      }));
      await records(h, 'event_log_events', events);
      // A resent event is stored once.
      await records(h, 'event_log_events', events.slice(10, 15));
    },
  },
  'live-dashboard': {
    module: '../../examples/live-dashboard.js',
    taps: { 'clicks-per-page': 12 },
    async body(h, t0) {
      const clicks = Array.from({ length: 90 }, (_, i) => ({
        data: {
          page: PAGES[i % 4],
          userId: `u${i % 9}`,
          referrer: ['google', 'direct'][i % 2],
          loadMs: (i * 53) % 700,
          at: t0 + i * 333,
        },
        key: `u${i % 9}`,
      }));
      await records(h, 'dashboard_clicks', clicks);
      // A click a minute later on each shard moves the watermark past the three windows above.
      const later = { page: '/', userId: 'u0', referrer: 'direct', loadMs: 1, at: t0 + 90_000 };
      await records(h, 'dashboard_clicks', [
        { data: later, key: 'a', hash: '0' },
        { data: later, key: 'b', hash: String(2n ** 127n + 1n) },
      ]);
    },
  },
};

let kinesis: Emulators;

let loads = 0;
/** A fresh instance of an example app (a module of its own, by query): its views are module state, and each backend needs its own. */
async function load(module: string): Promise<AppDef> {
  return ((await import(`${module}?instance=${++loads}`)) as { default: AppDef }).default;
}

/**
 * Replaces the attributes the backend assigns (its clock, its sequence numbers) with a marker of
 * their presence. An exactly-once view's applied-through marks (`_tributary_at_<shard>`) are named
 * by shard id and hold sequence numbers: all of them become one marker.
 */
function withoutBackend(tables: Record<string, Item[]>, attrs: readonly string[]): Record<string, Item[]> {
  const mark = (k: string) => (k.startsWith('_tributary_at_') ? '_tributary_at_*' : k);
  return Object.fromEntries(
    Object.entries(tables).map(([t, rows]) => [
      t,
      rows.map((r) =>
        Object.fromEntries(
          Object.entries(r).map(([k, v]) => [mark(k), attrs.includes(k) || mark(k) !== k ? '<backend>' : v]),
        ),
      ),
    ]),
  );
}

async function runCase(c: Case, h: Harness, t0: number) {
  await c.body(h, t0);
  await h.settle();
  const taps: Record<string, Item[]> = {};
  for (const [name, n] of Object.entries(c.taps ?? {})) {
    await h.waitFor(() => h.tapFinals(name).length >= n);
    taps[name] = h.tapFinals(name);
  }
  return {
    tables: withoutBackend(await h.tables(), c.backendAttributes ?? []),
    deadLetters: await h.deadLetters(),
    taps,
  };
}

describe('conformance: the test driver and the emulators end with the same tables', () => {
  beforeAll(async () => {
    // A kinesis-mock of this file's own: the examples' stream names are fixed, and other files write to them.
    kinesis = await startEmulators({ endpoints: { dynamodb: inject('endpoints').dynamodb }, useEnvironment: false });
  });
  afterAll(() => kinesis?.stop());

  for (const [name, c] of Object.entries(CASES)) {
    it(`examples/${name}.ts`, async () => {
      // Both runs base their data's times on one wall-clock minute, so time buckets and day tables agree.
      const t0 = Math.floor(Date.now() / 60_000) * 60_000 - 5 * 60_000;

      const driver = await onDriver(await load(c.module), t0 + 5 * 60_000);
      let onDriverRun;
      try {
        onDriverRun = await runCase(c, driver, t0);
      } finally {
        await driver.stop();
      }

      const clients = createClients({
        dynamodbEndpoint: inject('endpoints').dynamodb,
        kinesisEndpoint: kinesis.endpoints.kinesis,
        region: 'us-east-1',
      });
      const emulators = await onEmulators(await load(c.module), clients, `${unique('cf')}_`);
      let onEmulatorsRun;
      try {
        onEmulatorsRun = await runCase(c, emulators, t0);
      } finally {
        await emulators.stop();
        destroyClients(clients);
      }

      const diff = [
        ...differences(onDriverRun.tables, onEmulatorsRun.tables, ['driver', 'emulators']),
        ...differences({ deadLetters: onDriverRun.deadLetters }, { deadLetters: onEmulatorsRun.deadLetters }, [
          'driver',
          'emulators',
        ]),
        ...differences(onDriverRun.taps, onEmulatorsRun.taps, ['driver', 'emulators']),
      ];
      expect(diff, diff.join('\n')).toEqual([]);
      // The body did something: the views (or the tap) are not all empty.
      expect(
        [...Object.values(onDriverRun.tables), ...Object.values(onDriverRun.taps)].some((rows) => rows.length > 0),
      ).toBe(true);
    });
  }
});
