import { PutItemCommand, DeleteItemCommand } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { filter, map } from 'rxjs';
import { afterAll, describe, expect, it } from 'vitest';
import { app, del, dynamodbTable, pipeline, put, Runner, tableWriter } from '../../src/index.js';
import { destroyClients } from '../../src/runtime/clients.js';
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
      30_000,
      'target table to match',
    );
    const r = await runner.stop();
    expect(r.error).toBeUndefined();
    expect((await scanAll<Membership>(clients.dynamodb, dst)).sort(byKey)).toEqual(want);
    expect(await runner.metrics.sum('tributary_records_in_total')).toBe(60 + 20 + 12);
    expect(await runner.metrics.sum('tributary_records_applied_total')).toBe(60 + 20 + 12);
  });
});

const byKey = (a: Membership, b: Membership) => `${a.userId}|${a.albumId}`.localeCompare(`${b.userId}|${b.albumId}`);
