import { BatchWriteItemCommand } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { afterAll, describe, expect, it } from 'vitest';
import { app, dynamodbTable, pipeline, type PipelineDef } from '../../src/index.js';
import { destroyClients } from '../../src/runtime/clients.js';
import { LeaseTable } from '../../src/runtime/leases/table.js';
import { Runner } from '../../src/runtime/runner.js';
import { createTable, scanAll } from '../../src/testing/tables.js';
import { eventually, fastRunner, keptLog, testClients, unique } from '../helpers.js';
import { albumRows, albumTotals, photoViews, prefillPhotos, type Photo } from './photos.js';

/** 8,000 items written, scanned and committed exactly once on a loaded two-core machine, with another test file beside it. */
const TEST_MS = 480_000;

/** Items in the table before the app's first run: 80 Scan pages of 100, over 4 segments. */
const ITEMS = 8_000;

describe('a backfill', { timeout: TEST_MS }, () => {
  const clients = testClients();
  afterAll(() => destroyClients(clients));

  it('starts an exactly-once counter from 8,000 items already in the table, with writes going on during the Scan, and hands off to the stream without gap or double count', async () => {
    const src = unique('bf_photos');
    const albums = unique('bf_albums');
    await createTable(clients.dynamodb, {
      name: src,
      partitionKey: { name: 'id', type: 'S' },
      stream: 'NEW_AND_OLD_IMAGES',
    });
    const live = new Map<string, Photo>();
    await prefillPhotos(clients.dynamodb, src, ITEMS, live, 'old');
    // The counter alone: the index and the mirror after a backfill are checked on 4,000 items in chaos.test.ts.
    const { counts } = photoViews(albums, unique('bf_unused'));
    await createTable(clients.dynamodb, counts.tables()[0]!);
    const photos = dynamodbTable<Photo>(src, { backfill: { segments: 4 }, batchSize: 100 });
    const eo = { guarantee: 'exactly-once' } as const;
    const def = app(unique('bf'), [pipeline('album-counts').from(photos).with(eo).to(counts)] as PipelineDef[]);
    const log = keptLog();
    const leases = new LeaseTable(clients.dynamodb, `${def.name}_leases`);
    const runner = new Runner(def, { ...fastRunner, clients, log });
    await runner.start();
    // Writes while the Scan runs: new photos, moves, like changes and deletes of old and new ones.
    await eventually(
      async () => (await runner.metrics.sum('tributary_records_applied_total')) > 0,
      120_000,
      'the Scan to begin',
    );
    const rand = Math.random;
    for (let round = 0; round < 60; round++) {
      const reqs = [];
      const ids = new Set<string>();
      while (ids.size < 25)
        ids.add(rand() < 0.5 ? `old${Math.floor(rand() * ITEMS)}` : `new${Math.floor(rand() * 500)}`);
      for (const id of ids) {
        const held = live.get(id);
        if (held && rand() < 0.25) {
          live.delete(id);
          reqs.push({ DeleteRequest: { Key: marshall({ id }) } });
        } else {
          const p: Photo = { id, album: `a${Math.floor(rand() * 12)}`, likes: Math.floor(rand() * 9), v: round + 1 };
          live.set(id, p);
          reqs.push({ PutRequest: { Item: marshall(p) } });
        }
      }
      await clients.dynamodb.send(new BatchWriteItemCommand({ RequestItems: { [src]: reqs } }));
      // The first writes land while the Scan still runs: some segment has not reached its end.
      if (round === 0)
        expect(
          (await leases.list()).some((l) => l.shardId.startsWith('backfill-') && l.checkpoint.kind !== 'SHARD_END'),
        ).toBe(true);
    }
    const views = async () => ({
      albums: albumRows(await scanAll(clients.dynamodb, albums)),
    });
    const want = () => ({
      albums: albumTotals(live),
    });
    const same = (a: Awaited<ReturnType<typeof views>>, b: ReturnType<typeof want>) =>
      JSON.stringify([...a.albums].sort()) === JSON.stringify([...b.albums].sort());
    let last: Awaited<ReturnType<typeof views>> | undefined;
    await eventually(async () => same((last = await views()), want()), 300_000, 'the views to equal the table').catch(
      (e: unknown) => {
        const w = want();
        const diff = [...w.albums].filter(([k, v]) => JSON.stringify(last?.albums.get(k)) !== JSON.stringify(v));
        throw new Error(`${String(e)}: ${JSON.stringify(diff.map(([k, v]) => [k, v, last?.albums.get(k)]))}`);
      },
    );
    const { error } = await runner.stop();
    expect(error).toBeUndefined();
    const final = await views();
    expect(final.albums).toEqual(want().albums);
    // The Scan reported its progress, and the stream's changes it had included were dropped.
    expect(log.lines.filter((l) => l.msg.startsWith('backfill')).map((l) => l.msg)).toContain('backfill done');
    expect(await runner.metrics.sum('tributary_backfill_reconciled_total')).toBeGreaterThan(0);
  });
});
