import { PutItemCommand, DeleteItemCommand } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { filter, map } from 'rxjs';
import { afterAll, describe, expect, it } from 'vitest';
import { app, del, dynamodbTable, pipeline, put, Runner, tableWriter } from '../../src/index.js';
import { destroyClients } from '../../src/runtime/clients.js';
import { memorySource } from '../../src/testing/memory-source.js';
import { createTable, scanAll } from '../../src/testing/tables.js';
import { eventually, fastRunner, testClients, unique } from '../helpers.js';

interface Membership {
  albumId: string;
  userId: string;
  role: string;
}

describe('DynamoDB table -> pipeline -> table', () => {
  const clients = testClients();
  afterAll(() => destroyClients(clients));

  it('leaves the target holding exactly the expected items after inserts, modifies and removes', async () => {
    const src = unique('album_users');
    const dst = unique('user_albums');
    await createTable(clients.dynamodb, {
      name: src,
      partitionKey: { name: 'albumId', type: 'S' },
      sortKey: { name: 'userId', type: 'S' },
      stream: 'NEW_AND_OLD_IMAGES',
    });
    await createTable(clients.dynamodb, {
      name: dst,
      partitionKey: { name: 'userId', type: 'S' },
      sortKey: { name: 'albumId', type: 'S' },
    });

    const def = app(unique('app'), [
      pipeline('inverted')
        .from(dynamodbTable<Membership>(src))
        .pipe(
          filter((c) => c.kind !== 'modify' || c.oldImage?.role !== c.newImage?.role),
          map((c) =>
            c.kind === 'remove'
              ? del({ userId: c.oldImage!.userId, albumId: c.oldImage!.albumId })
              : put({ userId: c.newImage!.userId, albumId: c.newImage!.albumId, role: c.newImage!.role }),
          ),
        )
        .to(tableWriter(dst)),
    ]);
    const runner = new Runner(def, { ...fastRunner, clients });
    await runner.start();

    const expected = new Map<string, Membership>();
    for (let i = 0; i < 60; i++) {
      const m = { albumId: `a${i % 6}`, userId: `u${i}`, role: 'viewer' };
      await clients.dynamodb.send(new PutItemCommand({ TableName: src, Item: marshall(m) }));
      expected.set(`${m.userId}|${m.albumId}`, m);
    }
    for (let i = 0; i < 60; i += 3) {
      const m = { albumId: `a${i % 6}`, userId: `u${i}`, role: 'owner' };
      await clients.dynamodb.send(new PutItemCommand({ TableName: src, Item: marshall(m) }));
      expected.set(`${m.userId}|${m.albumId}`, m);
    }
    for (let i = 0; i < 60; i += 5) {
      await clients.dynamodb.send(
        new DeleteItemCommand({ TableName: src, Key: marshall({ albumId: `a${i % 6}`, userId: `u${i}` }) }),
      );
      expected.delete(`u${i}|a${i % 6}`);
    }

    const want = [...expected.values()]
      .map((m) => ({ userId: m.userId, albumId: m.albumId, role: m.role }))
      .sort(byKey);
    await eventually(
      async () =>
        JSON.stringify((await scanAll<Membership>(clients.dynamodb, dst)).sort(byKey)) === JSON.stringify(want),
      60_000,
      'target table to match',
    );
    const r = await runner.stop();
    expect(r.error).toBeUndefined();
    expect((await scanAll<Membership>(clients.dynamodb, dst)).sort(byKey)).toEqual(want);
    expect(await runner.metrics.sum('tributary_records_in_total')).toBe(60 + 20 + 12);
    expect(await runner.metrics.sum('tributary_records_applied_total')).toBe(60 + 20 + 12);
  });

  it('keeps the newest value of a key when a batch is bisected while later batches of its shard are in flight', async () => {
    const dst = unique('last_value');
    await createTable(clients.dynamodb, { name: dst, partitionKey: { name: 'k', type: 'S' } });
    // 40 batches of 10 writes to 5 keys. Every other batch holds an item whose key is a number where
    // the table's is a string: the table writer refuses that batch, and the runner bisects it while up
    // to 3 later batches (maxBatchesInFlight 4) wait with writes of the same keys.
    const values = Array.from({ length: 400 }, (_, i) => ({ k: `k${i % 5}`, v: i }));
    const poison = (v: number) => v % 20 === 0;
    const def = app(unique('app'), [
      pipeline('last')
        .from(memorySource('writes', [{ shardId: 's0', values }], { batchSize: 10 }))
        .pipe(map((r) => put(poison(r.value.v) ? { k: r.value.v, v: r.value.v } : r.value)))
        .to(tableWriter(dst)),
    ]);
    const runner = new Runner(def, { ...fastRunner, clients, maxBatchesInFlight: 4 });
    await runner.start();
    const settled = async () =>
      (await runner.metrics.sum('tributary_records_applied_total')) +
      (await runner.metrics.sum('tributary_dead_letters_total'));
    await eventually(async () => (await settled()) === values.length, 60_000, 'every record applied or dead-lettered');
    expect((await runner.stop()).error).toBeUndefined();
    expect(await runner.metrics.sum('tributary_dead_letters_total')).toBe(values.filter((x) => poison(x.v)).length);
    const items = (await scanAll<{ k: string; v: number }>(clients.dynamodb, dst)).sort((a, b) =>
      a.k.localeCompare(b.k),
    );
    expect(items).toEqual([395, 396, 397, 398, 399].map((v) => ({ k: `k${v % 5}`, v })));
  });
});

const byKey = (a: Membership, b: Membership) => `${a.userId}|${a.albumId}`.localeCompare(`${b.userId}|${b.albumId}`);
