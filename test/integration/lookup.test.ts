import { BatchWriteItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { from, lastValueFrom, map, toArray, type OperatorFunction } from 'rxjs';
import { afterAll, describe, expect, it } from 'vitest';
import {
  app,
  lookup,
  pipeline,
  put,
  Runner,
  tableWriter,
  type Enriched,
  type LookupCache,
  type TableIO,
} from '../../src/index.js';
import { destroyClients } from '../../src/runtime/clients.js';
import { DynamoTableIO } from '../../src/sinks/table-io.js';
import { createTable, scanAll } from '../../src/testing/tables.js';
import { memorySource, type MemoryRecord } from '../../src/testing/memory-source.js';
import { eventually, fastRunner, testClients, unique } from '../helpers.js';

interface User {
  userId: string;
  country: string;
}

type Rec = MemoryRecord<string>;

const recordsOf = (userIds: string[]): Rec[] =>
  userIds.map((value, i) => ({
    type: 'memory',
    value,
    position: { source: 'visits', shardId: 's-0', sequenceNumber: String(i + 1) },
  }));

describe('lookup', () => {
  const clients = testClients();
  afterAll(() => destroyClients(clients));

  const usersTable = async (name: string, users: readonly User[]): Promise<void> => {
    await createTable(clients.dynamodb, { name, partitionKey: { name: 'userId', type: 'S' } });
    for (let i = 0; i < users.length; i += 25)
      await clients.dynamodb.send(
        new BatchWriteItemCommand({
          RequestItems: { [name]: users.slice(i, i + 25).map((u) => ({ PutRequest: { Item: marshall(u) } })) },
        }),
      );
  };

  /** The table's TableIO, recording the number of keys of every BatchGetItem call it sends. */
  const countingIo = (table: string) => {
    const calls: number[] = [];
    const io = new DynamoTableIO(clients.dynamodb, table, {
      acquire: async (kind, units) => void (kind === 'read' && calls.push(units)),
    });
    return { io, calls };
  };

  /** A lookup of each record's user, whose id is the record's value. */
  const byUserId = (table: string | TableIO, cache: LookupCache = { ttlMs: 60_000, max: 1_000 }) =>
    lookup<Rec, User>({ get: { table, key: (r) => ({ userId: r.value }) }, cache });

  /** Runs one batch through the operator, as the executor does. */
  const runBatch = <I>(op: OperatorFunction<Rec, Enriched<Rec, I>>, userIds: string[]) =>
    lastValueFrom(
      from(recordsOf(userIds)).pipe(
        op,
        map((e: Enriched<Rec, I>) => [e.record.value, e.item] as const),
        toArray(),
      ),
    );

  it('reads the distinct keys of a batch in one BatchGetItem, and serves items and absences from the cache until the TTL', async () => {
    const table = unique('lookup_users');
    await usersTable(table, [
      { userId: 'u0', country: 'fr' },
      { userId: 'u1', country: 'jp' },
      { userId: 'u2', country: 'br' },
    ]);
    const { io, calls } = countingIo(table);
    let now = 1_000_000;
    const op = byUserId(io, { ttlMs: 60_000, max: 1_000, now: () => now });
    const u = (userId: string, country: string): User => ({ userId, country });

    expect(await runBatch(op, ['u0', 'u1', 'u0', 'u7'])).toEqual([
      ['u0', u('u0', 'fr')],
      ['u1', u('u1', 'jp')],
      ['u0', u('u0', 'fr')],
      ['u7', undefined],
    ]);
    expect(calls).toEqual([3]);

    // u7 appears in the table, but its absence is cached: the TTL bounds how long that is believed.
    await clients.dynamodb.send(new PutItemCommand({ TableName: table, Item: marshall(u('u7', 'ke')) }));
    now += 30_000;
    expect(await runBatch(op, ['u1', 'u7', 'u2'])).toEqual([
      ['u1', u('u1', 'jp')],
      ['u7', undefined],
      ['u2', u('u2', 'br')],
    ]);
    expect(calls).toEqual([3, 1]);

    now += 30_001; // u0, u1 and u7 expire; u2, read 30 s later, has not.
    expect(await runBatch(op, ['u7', 'u0', 'u2'])).toEqual([
      ['u7', u('u7', 'ke')],
      ['u0', u('u0', 'fr')],
      ['u2', u('u2', 'br')],
    ]);
    expect(calls).toEqual([3, 1, 2]);
  });

  it('reads more than 100 keys in calls of 100 and gives every record its own item', async () => {
    const table = unique('lookup_many');
    const ids = Array.from({ length: 250 }, (_, i) => `u${i}`);
    await usersTable(
      table,
      ids.filter((_, i) => i % 3 !== 0).map((userId) => ({ userId, country: `c-${userId}` })),
    );
    const { io, calls } = countingIo(table);
    const op = lookup<Rec, User>({
      get: { table: io, key: (r) => ({ userId: r.value }), attributes: ['country'] },
      cache: { ttlMs: 60_000, max: 100 },
    });
    // Every key twice, so the batch is larger than the cache: answers must not be read back from it.
    const batch = [...ids, ...ids.slice().reverse()];
    const out = await runBatch(op, batch);
    expect(calls).toEqual([100, 100, 50]);
    expect(out).toEqual(
      batch.map((id) => [id, Number(id.slice(1)) % 3 === 0 ? undefined : { userId: id, country: `c-${id}` }]),
    );
  });

  it('matches numeric keys by value, whatever form DynamoDB answers them in', async () => {
    const table = unique('lookup_numbers');
    await createTable(clients.dynamodb, { name: table, partitionKey: { name: 'id', type: 'N' } });
    // DynamoDB answers 10^21 and 1e-7 written out in full.
    const ids = [7, 2.5, 10n ** 21n, 1e-7, -3];
    for (const id of ids)
      await clients.dynamodb.send(new PutItemCommand({ TableName: table, Item: marshall({ id, label: `n${id}` }) }));
    const op = lookup<MemoryRecord<number | bigint>, { label: string }>({
      get: { table: countingIo(table).io, key: (r) => ({ id: r.value }) },
      cache: { ttlMs: 60_000, max: 100 },
    });
    const records: MemoryRecord<number | bigint>[] = [...ids, 8].map((value, i) => ({
      type: 'memory',
      value,
      position: { source: 'numbers', shardId: 's-0', sequenceNumber: String(i + 1) },
    }));
    const out = await lastValueFrom(from(records).pipe(op, toArray()));
    expect(out.map((e) => e.item?.label)).toEqual([...ids.map((id) => `n${id}`), undefined]);
  });

  it('fails the batch when the table cannot be read, or the operator was never opened, instead of yielding no item', async () => {
    const op = byUserId(countingIo(unique('lookup_missing')).io);
    await expect(runBatch(op, ['u0'])).rejects.toMatchObject({
      name: 'TributaryError',
      code: 'operator.lookupFailed',
    });
    // A logical table name needs a runner to open the operator with its TableIO.
    const unopened = byUserId('users');
    await expect(runBatch(unopened, ['u0'])).rejects.toMatchObject({ code: 'config.invalid' });
  });

  it('in a runner, reads the prefixed table through the runner, and dead-letters records whose reads fail', async () => {
    const prefix = `${unique('env')}_`;
    const tableName = (logical: string) => `${prefix}${logical}`;
    const users = Array.from({ length: 10 }, (_, i) => ({ userId: `u${i}`, country: i % 2 ? 'fr' : 'jp' }));
    await usersTable(tableName('users'), users);
    await createTable(clients.dynamodb, {
      name: tableName('visits_by_country'),
      partitionKey: { name: 'visit', type: 'S' },
    });
    // BatchGetItem calls the runner's clients send, by table.
    const batchGets = new Map<string, number>();
    clients.dynamodbData!.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName === 'BatchGetItemCommand')
          for (const t of Object.keys((args.input as { RequestItems: object }).RequestItems))
            batchGets.set(t, (batchGets.get(t) ?? 0) + 1);
        return next(args);
      },
      { step: 'initialize', name: 'countBatchGets' },
    );

    // 120 visits of 12 users (two unknown), in batches of 40.
    const visits = memorySource(
      'visits',
      [{ shardId: 's-0', values: Array.from({ length: 120 }, (_, i) => `u${i % 12}`) }],
      { batchSize: 40 },
    );
    const def = app(unique('lookup_app'), [
      pipeline('enrich')
        .from(visits)
        .pipe(
          byUserId('users'),
          map(({ record, item }) =>
            put({ visit: record.position.sequenceNumber, userId: record.value, country: item?.country ?? '?' }),
          ),
        )
        .to(tableWriter('visits_by_country')),
      pipeline('broken')
        .from(visits)
        .pipe(
          byUserId('no_such_table'),
          map(({ record }) => put({ visit: `broken-${record.position.sequenceNumber}` })),
        )
        .to(tableWriter('visits_by_country')),
    ]);
    const runner = new Runner(def, { ...fastRunner, clients, tableName });
    await runner.start();
    const deadLetters = tableName(def.deadLetters.tableName);
    await eventually(
      async () =>
        (await scanAll(clients.dynamodb, tableName('visits_by_country'))).length === 120 &&
        (await scanAll(clients.dynamodb, deadLetters)).length === 120,
      60_000,
      'every visit enriched, and every broken one dead-lettered',
    );
    expect((await runner.stop()).error).toBeUndefined();

    const rows = await scanAll<{ visit: string; userId: string; country: string }>(
      clients.dynamodb,
      tableName('visits_by_country'),
    );
    const countryOf = new Map(users.map((u) => [u.userId, u.country]));
    for (const r of rows) expect(r.country).toBe(countryOf.get(r.userId) ?? '?');
    const letters = await scanAll<{ pipeline: string; code: string }>(clients.dynamodb, deadLetters);
    expect(new Set(letters.map((l) => `${l.pipeline}:${l.code}`))).toEqual(new Set(['broken:operator.lookupFailed']));
    // The first batch of 40 holds all 12 users: one read, and the two later batches come from the cache.
    expect(batchGets.get(tableName('users'))).toBe(1);
    expect(batchGets.get(tableName('no_such_table'))).toBeGreaterThanOrEqual(120);
  });
});
