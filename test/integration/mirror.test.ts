import { DeleteItemCommand, PutItemCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  GetRecordsCommand,
  GetShardIteratorCommand,
  ListShardsCommand,
  PutRecordsCommand,
  type KinesisClient,
} from '@aws-sdk/client-kinesis';
import { marshall } from '@aws-sdk/util-dynamodb';
import { afterAll, describe, expect, it } from 'vitest';
import {
  app,
  dynamodbTable,
  getMirrored,
  kinesisBridge,
  kinesisDynamoChanges,
  kinesisStream,
  mirror,
  pipeline,
  queryMirror,
  Runner,
  visibleMirrorItem,
  type DynamoKinesisRecordJson,
} from '../../src/index.js';
import { destroyClients } from '../../src/runtime/clients.js';
import { createStream, createTable, scanAll } from '../../src/testing/tables.js';
import { eventually, fastRunner, seededRandom, testClients, unique } from '../helpers.js';

interface Account {
  tenant: string;
  id: number;
  balance: number;
  version: number;
  tags?: Set<string>;
}

/**
 * Inserts, modifies, deletes and re-creates accounts; every operation changes the item, so each
 * makes exactly one stream record. `version` grows on every write of a key, across deletes.
 * Returns the number of changes.
 */
async function workload(ddb: DynamoDBClient, table: string, ops: number, seed: number): Promise<number> {
  const random = seededRandom(seed);
  const live = new Map<string, Account>();
  const versions = new Map<string, number>();
  const deleted: Account[] = [];
  const keyOf = (a: Account) => `${a.tenant}|${a.id}`;
  const write = async (a: Account) => {
    versions.set(keyOf(a), a.version);
    live.set(keyOf(a), a);
    await ddb.send(new PutItemCommand({ TableName: table, Item: marshall(a, { removeUndefinedValues: true }) }));
  };
  for (let i = 0; i < ops; i++) {
    const r = random();
    const pick = [...live.values()][Math.floor(random() * live.size)];
    if (!pick || live.size < 12 || r < 0.3) {
      await write({
        tenant: `t${i % 3}`,
        id: i,
        balance: 100,
        version: 1,
        ...(i % 4 === 0 ? { tags: new Set(['new']) } : {}),
      });
    } else if (r < 0.75) {
      await write({ ...pick, balance: pick.balance + Math.round(random() * 50), version: pick.version + 1 });
    } else if (r < 0.92) {
      live.delete(keyOf(pick));
      deleted.push(pick);
      await ddb.send(new DeleteItemCommand({ TableName: table, Key: marshall({ tenant: pick.tenant, id: pick.id }) }));
    } else {
      const back = deleted.shift();
      if (back) await write({ ...back, balance: 1, version: versions.get(keyOf(back))! + 1 });
      else await write({ ...pick, balance: pick.balance + 1, version: pick.version + 1 });
    }
  }
  return ops;
}

/** The mirror's live items without hidden attributes, sorted by key, as comparable JSON. */
const visible = async (ddb: DynamoDBClient, table: string) =>
  canon(
    (await scanAll(ddb, table))
      .map((i) => visibleMirrorItem<Account>(i))
      .filter((i): i is Account => i !== undefined)
      .sort(byKey),
  );
const source = async (ddb: DynamoDBClient, table: string) => canon((await scanAll<Account>(ddb, table)).sort(byKey));
const byKey = (a: Account, b: Account) => a.tenant.localeCompare(b.tenant) || a.id - b.id;
const canon = (v: unknown): string =>
  JSON.stringify(v, (_k, x: unknown) =>
    x instanceof Set
      ? [...x].sort()
      : x && typeof x === 'object' && !Array.isArray(x)
        ? Object.fromEntries(Object.entries(x).sort(([a], [b]) => a.localeCompare(b)))
        : x,
  );

/** Every record of a Kinesis stream, shard by shard, once at least `atLeast` are there. */
async function readAll(
  kinesis: KinesisClient,
  stream: string,
  atLeast: number,
): Promise<{ partitionKey: string; data: Uint8Array }[]> {
  let out: { partitionKey: string; data: Uint8Array }[] = [];
  await eventually(
    async () => {
      out = [];
      const shards = (await kinesis.send(new ListShardsCommand({ StreamName: stream }))).Shards ?? [];
      for (const s of shards) {
        let it = (
          await kinesis.send(
            new GetShardIteratorCommand({ StreamName: stream, ShardId: s.ShardId, ShardIteratorType: 'TRIM_HORIZON' }),
          )
        ).ShardIterator;
        for (;;) {
          const page = await kinesis.send(new GetRecordsCommand({ ShardIterator: it, Limit: 10_000 }));
          for (const r of page.Records ?? []) out.push({ partitionKey: r.PartitionKey!, data: r.Data! });
          it = page.NextShardIterator;
          if (!it || (page.Records ?? []).length === 0) break;
        }
      }
      return out.length >= atLeast;
    },
    60_000,
    `${atLeast} records on ${stream}`,
  );
  return out;
}

describe('mirror', () => {
  const clients = testClients();
  afterAll(() => destroyClients(clients));

  it('straight from a table stream: every mirror table equals the source, by change time and by version attribute', async () => {
    const src = unique('accounts');
    await createTable(clients.dynamodb, {
      name: src,
      partitionKey: { name: 'tenant', type: 'S' },
      sortKey: { name: 'id', type: 'N' },
      stream: 'NEW_AND_OLD_IMAGES',
    });
    const keys = { partitionKey: { name: 'tenant', type: 'S' }, sortKey: { name: 'id', type: 'N' } } as const;
    const byTime = mirror<Account>({ tables: [unique('accounts_m1'), unique('accounts_m2')], ...keys, rateLimit: 500 });
    const byVersion = mirror<Account>({ tables: unique('accounts_mv'), ...keys, version: { attribute: 'version' } });
    for (const t of [...byTime.tables(), ...byVersion.tables()]) await createTable(clients.dynamodb, t);
    expect(byTime.tables()[0]!.ttlAttribute).toBe('_tributary_expires');

    const def = app(unique('mirror'), [
      pipeline('by-time').from(dynamodbTable<Account>(src)).to(byTime),
      pipeline('by-version').from(dynamodbTable<Account>(src)).to(byVersion),
    ]);
    const runner = new Runner(def, { ...fastRunner, clients });
    await runner.start();
    const changes = await workload(clients.dynamodb, src, 120, 7);

    const want = await source(clients.dynamodb, src);
    for (const t of [...byTime.mirrorTables, ...byVersion.mirrorTables]) {
      await eventually(
        async () => (await visible(clients.dynamodb, t)) === want,
        60_000,
        `mirror ${t} to equal the source`,
      );
    }
    await eventually(
      async () => (await runner.metrics.sum('tributary_records_applied_total')) === 2 * changes,
      60_000,
      'all records applied',
    );
    const r = await runner.stop();
    expect(r.error).toBeUndefined();
    expect(await runner.metrics.sum('tributary_dead_letters_total')).toBe(0);

    // Deleted items stay as tombstones (key, version, flag, expiry) that the read helpers hide.
    const raw = await scanAll<Record<string, unknown>>(clients.dynamodb, byTime.mirrorTables[0]!);
    const tombstones = raw.filter((i) => i._tributary_deleted === true);
    expect(tombstones.length).toBeGreaterThan(0);
    expect(Object.keys(tombstones[0]!).sort()).toEqual([
      '_tributary_deleted',
      '_tributary_expires',
      '_tributary_version',
      'id',
      'tenant',
    ]);
    expect(
      raw.filter((i) => i._tributary_deleted !== true).every((i) => typeof i._tributary_version === 'string'),
    ).toBe(true);
    const gone = tombstones[0]!;
    expect(
      await getMirrored(byTime, clients, { tenant: gone.tenant as string, id: gone.id as number }),
    ).toBeUndefined();
    const liveOne = JSON.parse(want)[0] as Account;
    expect(
      canon(await getMirrored(byTime, clients, { tenant: liveOne.tenant, id: liveOne.id }, { consistent: true })),
    ).toBe(canon(liveOne));
    const page = await queryMirror(byVersion, clients, { partition: 't0' });
    expect(canon(page.items)).toBe(canon((JSON.parse(want) as Account[]).filter((a) => a.tenant === 't0')));
  });

  it('through Kinesis with duplicates and reordering injected: the mirror still equals the source', async () => {
    const src = unique('ledger');
    const bridged = unique('ledger_changes');
    const scrambled = unique('ledger_scrambled');
    await createTable(clients.dynamodb, {
      name: src,
      partitionKey: { name: 'tenant', type: 'S' },
      sortKey: { name: 'id', type: 'N' },
      stream: 'NEW_AND_OLD_IMAGES',
    });
    await Promise.all([createStream(clients.kinesis, bridged, 2), createStream(clients.kinesis, scrambled, 2)]);
    const keys = { partitionKey: { name: 'tenant', type: 'S' }, sortKey: { name: 'id', type: 'N' } } as const;
    const inOrder = mirror<Account>({ tables: unique('ledger_m_bridged'), ...keys });
    const byTime = mirror<Account>({ tables: unique('ledger_m_time'), ...keys, rateLimit: 300 });
    const byVersion = mirror<Account>({
      tables: unique('ledger_m_version'),
      ...keys,
      version: { attribute: 'version' },
    });
    for (const v of [inOrder, byTime, byVersion]) for (const t of v.tables()) await createTable(clients.dynamodb, t);

    // 1. The bridge publishes the table's changes; a mirror reads them back as published.
    const bridgeApp = app(unique('bridge'), [
      pipeline('publish').from(dynamodbTable<Account>(src)).to(kinesisBridge<Account>(bridged)),
      pipeline('mirror-bridged')
        .from(kinesisStream(bridged, { decode: kinesisDynamoChanges<Account>() }))
        .to(inOrder),
    ]);
    const bridgeRunner = new Runner(bridgeApp, { ...fastRunner, clients });
    await bridgeRunner.start();
    const changes = await workload(clients.dynamodb, src, 150, 11);
    const records = await readAll(clients.kinesis, bridged, changes);
    expect(records).toHaveLength(changes);
    const want = await source(clients.dynamodb, src);
    await eventually(
      async () => (await visible(clients.dynamodb, inOrder.mirrorTables[0]!)) === want,
      60_000,
      'bridged mirror to equal the source',
    );
    await bridgeRunner.stop();

    // The records have the native feature's shape.
    const decoded = records.map((r) => ({
      ...r,
      json: JSON.parse(new TextDecoder().decode(r.data)) as DynamoKinesisRecordJson,
    }));
    const sample = decoded.find((d) => d.json.eventName === 'MODIFY')!.json;
    expect(Object.keys(sample).sort()).toEqual([
      'awsRegion',
      'dynamodb',
      'eventID',
      'eventName',
      'eventSource',
      'recordFormat',
      'tableName',
      'userIdentity',
    ]);
    expect(sample).toMatchObject({
      awsRegion: 'us-east-1',
      eventSource: 'aws:dynamodb',
      recordFormat: 'application/json',
      tableName: src,
      userIdentity: null,
    });
    expect(Object.keys(sample.dynamodb).sort()).toEqual([
      'ApproximateCreationDateTime',
      'Keys',
      'NewImage',
      'OldImage',
      'SequenceNumber',
      'SizeBytes',
    ]);
    expect(sample.dynamodb.Keys).toEqual({ tenant: { S: expect.any(String) }, id: { N: expect.any(String) } });
    expect(new Set(decoded.map((d) => d.json.eventName))).toEqual(new Set(['INSERT', 'MODIFY', 'REMOVE']));

    // 2. Scramble: per item, reverse or swap its changes; publish a third of them twice; interleave items at random.
    const random = seededRandom(3);
    const perItem = new Map<string, typeof decoded>();
    for (const d of decoded) perItem.set(d.partitionKey, [...(perItem.get(d.partitionKey) ?? []), d]);
    const queues = [...perItem.values()].map((list, i) => {
      if (i % 2 === 0) return [...list].reverse();
      const l = [...list];
      for (let j = 0; j + 1 < l.length; j += 2) [l[j], l[j + 1]] = [l[j + 1]!, l[j]!];
      return l;
    });
    const order: typeof decoded = [];
    while (queues.some((q) => q.length > 0)) {
      const open = queues.filter((q) => q.length > 0);
      const q = open[Math.floor(random() * open.length)]!;
      const next = q.shift()!;
      order.push(next);
      if (random() < 0.33) q.splice(Math.floor(random() * (q.length + 1)), 0, next); // a duplicate, later
    }
    // The scrambling must produce the hazards the mirror guards against.
    const versionOf = (d: (typeof decoded)[number]) =>
      ((d.json.dynamodb.NewImage ?? d.json.dynamodb.OldImage)!.version as { N: string }).N;
    let late = 0;
    let resurrections = 0;
    const newest = new Map<string, { v: number; removed: boolean }>();
    for (const d of order) {
      const v = Number(versionOf(d));
      const seen = newest.get(d.partitionKey);
      if (seen && v < seen.v) late++;
      if (seen?.removed && d.json.eventName !== 'REMOVE' && v <= seen.v) resurrections++;
      if (!seen || v > seen.v || (v === seen.v && d.json.eventName === 'REMOVE'))
        newest.set(d.partitionKey, { v, removed: d.json.eventName === 'REMOVE' });
    }
    expect(order.length).toBeGreaterThan(changes);
    expect(late).toBeGreaterThan(20);
    expect(resurrections).toBeGreaterThan(0);
    for (let i = 0; i < order.length; i += 40) {
      const out = await clients.kinesis.send(
        new PutRecordsCommand({
          StreamName: scrambled,
          Records: order.slice(i, i + 40).map((d) => ({ Data: d.data, PartitionKey: d.partitionKey })),
        }),
      );
      expect(out.FailedRecordCount ?? 0).toBe(0);
    }

    // 3. Mirrors fed from the scrambled stream, by change time (bridged sequence numbers) and by version.
    // Small batches: a stale change must meet the newer one in the table, not just within one batch's coalescing.
    const changesIn = kinesisStream(scrambled, { decode: kinesisDynamoChanges<Account>(), batchSize: 5 });
    const mirrorApp = app(unique('mirror_k'), [
      pipeline('by-time').from(changesIn).to(byTime),
      pipeline('by-version').from(changesIn).to(byVersion),
    ]);
    const runner = new Runner(mirrorApp, { ...fastRunner, clients });
    await runner.start();
    await eventually(
      async () => (await runner.metrics.sum('tributary_records_applied_total')) === 2 * order.length,
      60_000,
      'scrambled records applied',
    );
    const r = await runner.stop();
    expect(r.error).toBeUndefined();
    expect(await runner.metrics.sum('tributary_dead_letters_total')).toBe(0);
    for (const v of [byTime, byVersion]) {
      expect(await visible(clients.dynamodb, v.mirrorTables[0]!)).toBe(want);
      // Stale changes and duplicates met newer ones in the table and were refused by the condition.
      expect(v.stats.stale).toBeGreaterThan(20);
    }
  });
});
